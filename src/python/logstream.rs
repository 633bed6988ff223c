//! The Apache error log as Python streams, as mod_wsgi 6.1 has them:
//! sys.stdout, sys.stderr (server-wide) and wsgi.errors (tagged with the
//! request) are `io.TextIOWrapper`s (utf-8, errors "replace", line
//! buffered, write-through) over a `mod_wsgi.Log`, the binary layer their
//! `.buffer` gives, which takes any bytes-like object (bytes, bytearray,
//! memoryview…). Text is logged line by line; a partial line waits for its
//! newline, flush() or the end of the request.
//!
//! Under WSGIRestrictStdin / WSGIRestrictStdout, sys.stdin / sys.stdout is
//! a `mod_wsgi.Restricted`: any use raises OSError naming the stream.

use crate::httpd::log::{self, Level};
use pyo3::exceptions::{PyDeprecationWarning, PyOSError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// Where a request's log lines go: the layer that runs requests
/// implements it (lines tagged with the request's context).
pub(crate) trait RequestLog: Send + Sync {
    /// Logs `text` for the request; false once the request is over.
    fn log(&self, py: Python<'_>, text: &str) -> bool;
}

#[pyclass(module = "mod_wsgi", name = "Log")]
pub(crate) struct LogStream {
    name: &'static str,
    request: Option<Box<dyn RequestLog>>,
    pending: Mutex<Vec<u8>>,
}

/// Writing a str to the binary layer is deprecated (as in mod_wsgi 6):
/// warned once per process.
static WARNED_STR_WRITE: AtomicBool = AtomicBool::new(false);

impl LogStream {
    pub(crate) fn server(name: &'static str) -> LogStream {
        LogStream {
            name,
            request: None,
            pending: Mutex::new(Vec::new()),
        }
    }

    fn for_request(request: Box<dyn RequestLog>) -> LogStream {
        LogStream {
            name: "wsgi.errors",
            request: Some(request),
            pending: Mutex::new(Vec::new()),
        }
    }

    /// The request is over: what is left is logged, and later writes (by an
    /// application that kept the stream) go to the server's log.
    pub(crate) fn end_request(&mut self, py: Python<'_>) {
        self.flush_all(py);
        self.request = None;
    }

    fn emit(&self, py: Python<'_>, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let logged = match &self.request {
            Some(request) => request.log(py, &text),
            None => false,
        };
        if !logged {
            py.detach(move || log::server(Level::Err, &text));
        }
    }

    fn take_lines(&self, all: bool) -> Vec<u8> {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if all {
            return std::mem::take(&mut *pending);
        }
        match pending.iter().rposition(|&b| b == b'\n') {
            Some(i) => {
                let rest = pending.split_off(i + 1);
                std::mem::replace(&mut *pending, rest)
            }
            None => Vec::new(),
        }
    }

    /// Logs whatever partial line is left (end of request).
    pub(crate) fn flush_all(&self, py: Python<'_>) {
        let text = self.take_lines(true);
        self.emit(py, text);
    }

    fn queue(&self, py: Python<'_>, data: &[u8]) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        let lines = self.take_lines(false);
        self.emit(py, lines);
    }
}

/// The bytes of a bytes-like object; a str as UTF-8 (deprecated).
fn bytes_of(data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(b.to_vec());
    }
    if let Ok(s) = data.cast::<PyString>() {
        if !WARNED_STR_WRITE.swap(true, Ordering::Relaxed) {
            PyErr::warn(
                data.py(),
                &data.py().get_type::<PyDeprecationWarning>(),
                c"Writing str to wsgi.errors.buffer / sys.stderr.buffer is deprecated; write a \
                  bytes-like object instead.",
                1,
            )?;
        }
        return Ok(s.to_string_lossy().into_owned().into_bytes());
    }
    // Anything else with the buffer protocol (memoryview, array, mmap…);
    // TypeError ("a bytes-like object is required") otherwise.
    let view = PyMemoryView::from(data)?;
    let bytes = view.call_method0(intern!(data.py(), "tobytes"))?;
    Ok(bytes.cast_into::<PyBytes>()?.as_bytes().to_vec())
}

#[pymethods]
impl LogStream {
    fn write(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        let bytes = bytes_of(data)?;
        self.queue(py, &bytes);
        Ok(bytes.len())
    }

    fn writelines(&self, py: Python<'_>, lines: &Bound<'_, PyAny>) -> PyResult<()> {
        for line in lines.try_iter()? {
            self.write(py, &line?)?;
        }
        Ok(())
    }

    fn flush(&self, py: Python<'_>) {
        self.flush_all(py);
    }

    fn isatty(&self) -> bool {
        false
    }

    fn writable(&self) -> bool {
        true
    }

    fn readable(&self) -> bool {
        false
    }

    fn seekable(&self) -> bool {
        false
    }

    fn fileno(&self) -> PyResult<i32> {
        Err(PyOSError::new_err(format!(
            "{} log object has no file descriptor",
            self.name
        )))
    }

    fn close(&self) {}

    /// Called by the TextIOWrapper over this stream when it is collected
    /// (io's ResourceWarning hook for raw files): nothing to warn about.
    /// Without it, every request's wsgi.errors wrapper raised and cleared
    /// an AttributeError when freed.
    fn _dealloc_warn(&self, _source: &Bound<'_, PyAny>) {}

    #[getter]
    fn closed(&self) -> bool {
        false
    }

    #[getter]
    fn encoding(&self) -> &'static str {
        "utf-8"
    }

    #[getter]
    fn errors(&self) -> &'static str {
        "replace"
    }

    #[getter]
    fn name(&self) -> String {
        format!("<{}>", self.name)
    }
}

/// The text stream over `buffer`: `io.TextIOWrapper(buffer, "utf-8",
/// "replace", None, line_buffering=True, write_through=True)`.
pub(crate) fn text_stream<'py>(buffer: &Bound<'py, LogStream>) -> PyResult<Bound<'py, PyAny>> {
    // The class is looked up once per process, not imported per request.
    static TEXT_IO_WRAPPER: pyo3::sync::PyOnceLock<Py<pyo3::types::PyType>> =
        pyo3::sync::PyOnceLock::new();
    let py = buffer.py();
    TEXT_IO_WRAPPER.import(py, "io", "TextIOWrapper")?.call1((
        buffer,
        intern!(py, "utf-8"),
        intern!(py, "replace"),
        py.None(),
        true,
        true,
    ))
}

/// A request's wsgi.errors: the binary layer and the text wrapper over it.
type ErrorsPair = (Py<LogStream>, Py<PyAny>);

thread_local! {
    // This thread's last wsgi.errors (binary layer, text wrapper). Never
    // released at thread exit, which may come without the GIL.
    static LAST_ERRORS: std::cell::RefCell<std::mem::ManuallyDrop<Option<ErrorsPair>>> =
        const { std::cell::RefCell::new(std::mem::ManuallyDrop::new(None)) };
}

/// A request's wsgi.errors: the binary layer and the text stream over it.
/// Making an `io.TextIOWrapper` (codec lookups, calls into the buffer) and
/// finalizing it cost about a tenth of a small request, so a thread hands
/// its last pair out again when nothing but this cache holds them (the
/// previous application kept no reference, so no one can tell; a stream an
/// application kept is left to it, pointing at its own ended request).
pub(crate) fn request_errors<'py>(
    py: Python<'py>,
    request: Box<dyn RequestLog>,
) -> PyResult<(Bound<'py, LogStream>, Bound<'py, PyAny>)> {
    let mut request = Some(request);
    let reused = LAST_ERRORS.with(|last| {
        let last = last.borrow();
        let (buffer, text) = last.as_ref()?;
        // The cache holds the wrapper once; the buffer is held by the cache
        // and by the wrapper.
        // SAFETY: the GIL is held (`py`) and both pointers are live objects
        // this cache holds a strong reference to.
        let counts = unsafe {
            (
                pyo3::ffi::Py_REFCNT(text.as_ptr()),
                pyo3::ffi::Py_REFCNT(buffer.as_ptr()),
            )
        };
        if counts != (1, 2) {
            return None;
        }
        let buffer = buffer.bind(py).clone();
        buffer.try_borrow_mut().ok()?.request = request.take();
        Some((buffer, text.bind(py).clone()))
    });
    if let Some(pair) = reused {
        return Ok(pair);
    }
    let request = request.take().expect("request not taken unless reused");
    let buffer = Bound::new(py, LogStream::for_request(request))?;
    let text = text_stream(&buffer)?;
    LAST_ERRORS.with(|last| {
        // The pair replaced is dropped with the GIL held.
        **last.borrow_mut() = Some((buffer.clone().unbind(), text.clone().unbind()));
    });
    Ok((buffer, text))
}

/// A stream the configuration forbids: any attribute raises OSError
/// ("sys.stdin access restricted by mod_wsgi").
#[pyclass(module = "mod_wsgi", frozen)]
pub(crate) struct Restricted {
    what: &'static str,
}

#[pymethods]
impl Restricted {
    fn __getattribute__(&self, _name: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        Err(PyOSError::new_err(format!(
            "{} access restricted by mod_wsgi",
            self.what
        )))
    }
}

/// Replaces sys.stdout and sys.stderr with log streams, and sys.stdin /
/// sys.stdout with `Restricted` when the configuration says so.
pub(crate) fn install(py: Python<'_>, restrict_stdin: bool, restrict_stdout: bool) -> PyResult<()> {
    let sys = py.import("sys")?;
    let stderr = Bound::new(py, LogStream::server("stderr"))?;
    sys.setattr("stderr", text_stream(&stderr)?)?;
    if restrict_stdout {
        sys.setattr("stdout", Restricted { what: "sys.stdout" })?;
    } else {
        let stdout = Bound::new(py, LogStream::server("stdout"))?;
        sys.setattr("stdout", text_stream(&stdout)?)?;
    }
    if restrict_stdin {
        sys.setattr("stdin", Restricted { what: "sys.stdin" })?;
    }
    Ok(())
}
