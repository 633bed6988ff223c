//! wsgi.file_wrapper: lets an application hand a file to the server. When
//! the wrapped object has a real file descriptor for a regular file, the
//! handler sends it as a file bucket (sendfile with WSGIEnableSendfile On)
//! from its current offset; anything else is iterated in blocks.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

#[pyclass(module = "mod_wsgi")]
pub(crate) struct FileWrapper {
    pub(crate) filelike: Py<PyAny>,
    pub(crate) blksize: usize,
}

/// A regular file behind a FileWrapper: descriptor, offset, bytes left.
pub(crate) struct OpenFile {
    pub(crate) fd: i32,
    pub(crate) offset: i64,
    pub(crate) len: u64,
}

impl FileWrapper {
    /// The open regular file behind the wrapper, if there is one.
    pub(crate) fn as_file(&self, py: Python<'_>) -> Option<OpenFile> {
        let f = self.filelike.bind(py);
        let fd: i32 = f.call_method0("fileno").ok()?.extract().ok()?;
        let size = crate::os::stat::regular_file_size(fd)?;
        let offset: i64 = f.call_method0("tell").ok()?.extract().ok()?;
        let len = (size - offset).max(0) as u64;
        Some(OpenFile { fd, offset, len })
    }
}

#[pymethods]
impl FileWrapper {
    #[new]
    #[pyo3(signature = (filelike, blksize=8192))]
    fn new(filelike: Py<PyAny>, blksize: isize) -> FileWrapper {
        FileWrapper {
            filelike,
            blksize: if blksize > 0 { blksize as usize } else { 8192 },
        }
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let data = self
            .filelike
            .bind(py)
            .call_method1("read", (self.blksize,))?;
        let empty = match data.cast::<PyBytes>() {
            Ok(b) => b.as_bytes().is_empty(),
            Err(_) => data.len().map(|n| n == 0).unwrap_or(true),
        };
        Ok(if empty { None } else { Some(data) })
    }

    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let f = self.filelike.bind(py);
        if f.hasattr("close")? {
            f.call_method0("close")?;
        }
        Ok(())
    }
}
