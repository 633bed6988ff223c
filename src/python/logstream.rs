//! File-like objects that write to the Apache error log: sys.stdout,
//! sys.stderr (server-wide) and wsgi.errors (tagged with the request).
//! Text is logged line by line; a partial line waits for its newline,
//! flush() or the end of the request.

use crate::httpd::log::{self, Level};
use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use std::sync::Mutex;

/// Where a request's log lines go: the layer that runs requests
/// implements it (lines tagged with the request's context).
pub trait RequestLog: Send + Sync {
    /// Logs `text` for the request; false once the request is over.
    fn log(&self, py: Python<'_>, text: &str) -> bool;
}

#[pyclass(module = "mod_wsgi")]
pub struct LogStream {
    name: &'static str,
    restricted: bool,
    request: Option<Box<dyn RequestLog>>,
    pending: Mutex<String>,
}

impl LogStream {
    pub fn server(name: &'static str, restricted: bool) -> LogStream {
        LogStream {
            name,
            restricted,
            request: None,
            pending: Mutex::new(String::new()),
        }
    }

    pub fn for_request(request: Box<dyn RequestLog>) -> LogStream {
        LogStream {
            name: "wsgi.errors",
            restricted: false,
            request: Some(request),
            pending: Mutex::new(String::new()),
        }
    }

    fn emit(&self, py: Python<'_>, text: String) {
        if text.is_empty() {
            return;
        }
        let logged = match &self.request {
            Some(request) => request.log(py, &text),
            None => false,
        };
        if !logged {
            py.detach(move || log::server(Level::Err, &text));
        }
    }

    fn take_lines(&self, all: bool) -> String {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if all {
            return std::mem::take(&mut *pending);
        }
        match pending.rfind('\n') {
            Some(i) => {
                let rest = pending.split_off(i + 1);
                std::mem::replace(&mut *pending, rest)
            }
            None => String::new(),
        }
    }

    /// Logs whatever partial line is left (end of request).
    pub fn flush_all(&self, py: Python<'_>) {
        let text = self.take_lines(true);
        self.emit(py, text);
    }
}

#[pymethods]
impl LogStream {
    fn write(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<usize> {
        if self.restricted {
            return Err(PyOSError::new_err(format!(
                "sys.{} access restricted by mod_wsgi (WSGIRestrictStdout On)",
                self.name
            )));
        }
        let text: String = match data.extract::<String>() {
            Ok(s) => s,
            Err(_) => {
                return Err(PyTypeError::new_err(format!(
                    "{}.write() argument must be str, not {}",
                    self.name,
                    data.get_type().name()?
                )))
            }
        };
        let n = text.chars().count();
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_str(&text);
        let lines = self.take_lines(false);
        self.emit(py, lines);
        Ok(n)
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

    fn close(&self) {}

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
        "backslashreplace"
    }

    #[getter]
    fn name(&self) -> String {
        format!("<{}>", self.name)
    }
}
