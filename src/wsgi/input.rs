//! wsgi.input: the request body as a file-like object.
//!
//! Reads go to Apache's input filters (ap_get_client_block) with the GIL
//! released, into Rust buffers; Python only ever sees copies. `Expect:
//! 100-continue` is answered by Apache on the first read. Reading past the
//! end returns b'' and never blocks.

use super::backend::Channel;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

const BLOCK: usize = 64 * 1024;

#[pyclass(module = "mod_wsgi")]
pub struct Input {
    channel: Channel,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// Bytes handed to the application so far.
    pub consumed: u64,
}

impl Input {
    pub fn new(channel: Channel) -> Input {
        Input {
            channel,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            consumed: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads up to `max` more bytes from Apache into the buffer; false at
    /// the end of the body.
    fn fill(&mut self, py: Python<'_>, max: usize) -> PyResult<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + max.clamp(1, BLOCK), 0);
        let mut chunk = std::mem::take(&mut self.buf);
        let result = self.channel.io(py, move |b| {
            let n = b.read_body(&mut chunk[start..]);
            (chunk, n)
        });
        let Some((mut chunk, n)) = result else {
            self.eof = true;
            return Err(PyOSError::new_err(
                "wsgi.input used after its request ended",
            ));
        };
        match n {
            Ok(n) => {
                chunk.truncate(start + n);
                self.buf = chunk;
                if n == 0 {
                    self.eof = true;
                }
                Ok(n > 0)
            }
            Err(why) => {
                chunk.truncate(start);
                self.buf = chunk;
                self.eof = true;
                Err(PyOSError::new_err(format!(
                    "error reading the request body: {why}"
                )))
            }
        }
    }

    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.buffered().len());
        let out = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        self.consumed += n as u64;
        out
    }

    fn read_bytes(&mut self, py: Python<'_>, size: Option<usize>) -> PyResult<Vec<u8>> {
        match size {
            Some(n) => {
                while self.buffered().len() < n && self.fill(py, n - self.buffered().len())? {}
                Ok(self.take(n))
            }
            None => {
                while self.fill(py, BLOCK)? {}
                Ok(self.take(usize::MAX))
            }
        }
    }

    fn readline_bytes(&mut self, py: Python<'_>, limit: Option<usize>) -> PyResult<Vec<u8>> {
        let mut scanned = 0;
        loop {
            let avail = self.buffered();
            if let Some(i) = avail[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + i + 1;
                return Ok(self.take(limit.map_or(end, |l| l.min(end))));
            }
            scanned = avail.len();
            if let Some(l) = limit {
                if scanned >= l {
                    return Ok(self.take(l));
                }
            }
            if !self.fill(py, BLOCK)? {
                return Ok(self.take(limit.unwrap_or(usize::MAX)));
            }
        }
    }
}

fn size_arg(size: Option<isize>) -> Option<usize> {
    match size {
        Some(n) if n >= 0 => Some(n as usize),
        _ => None,
    }
}

#[pymethods]
impl Input {
    #[pyo3(signature = (size=None))]
    fn read<'py>(&mut self, py: Python<'py>, size: Option<isize>) -> PyResult<Bound<'py, PyBytes>> {
        let data = self.read_bytes(py, size_arg(size))?;
        Ok(PyBytes::new(py, &data))
    }

    #[pyo3(signature = (size=None))]
    fn readline<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<isize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let data = self.readline_bytes(py, size_arg(size))?;
        Ok(PyBytes::new(py, &data))
    }

    #[pyo3(signature = (hint=None))]
    fn readlines<'py>(
        &mut self,
        py: Python<'py>,
        hint: Option<isize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let hint = size_arg(hint).filter(|&h| h > 0);
        let lines = PyList::empty(py);
        let mut total = 0;
        loop {
            let line = self.readline_bytes(py, None)?;
            if line.is_empty() {
                break;
            }
            total += line.len();
            lines.append(PyBytes::new(py, &line))?;
            if hint.is_some_and(|h| total >= h) {
                break;
            }
        }
        Ok(lines)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let line = self.readline_bytes(py, None)?;
        Ok(if line.is_empty() {
            None
        } else {
            Some(PyBytes::new(py, &line))
        })
    }

    fn close(&self) {}

    fn readable(&self) -> bool {
        true
    }
}
