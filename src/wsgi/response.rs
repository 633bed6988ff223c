//! start_response, the write() callable, and sending the response body
//! through Apache's output filters.
//!
//! Every block is copied into a heap bucket while the GIL is held, then
//! passed down the filter chain with the GIL released: no pointer into a
//! Python object ever crosses a GIL release. A block is flushed as soon as
//! it is produced; a response known to be a single block goes out with EOS
//! in one pass (Apache then adds Content-Length itself).

use super::headers::{check_header, content_length, parse_status, Status};
use crate::httpd::brigade::Brigade;
use crate::httpd::request::{Request, RequestSlot};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};
use std::sync::Arc;

/// What went wrong with a response; the handler logs it and answers 500
/// (nothing sent yet) or cuts the connection (headers already out).
#[derive(Debug)]
pub enum SendError {
    /// The client went away; not the application's fault.
    ClientGone,
    /// The application broke the protocol (message for the log).
    App(String),
}

#[pyclass(module = "mod_wsgi")]
pub struct Responder {
    slot: Arc<RequestSlot>,
    status: Option<Status>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    content_length: Option<u64>,
    headers_sent: bool,
    sent: u64,
    eos_sent: bool,
    brigade: Option<Brigade>,
    error_override: bool,
    /// Set when WSGIErrorOverride hands an error status to Apache.
    overridden: Option<u16>,
    /// A protocol error found by start_response (reported as 500).
    pub problem: Option<String>,
}

impl Responder {
    pub fn new(slot: Arc<RequestSlot>, error_override: bool) -> Responder {
        Responder {
            slot,
            status: None,
            headers: Vec::new(),
            content_length: None,
            headers_sent: false,
            sent: 0,
            eos_sent: false,
            brigade: None,
            error_override,
            overridden: None,
            problem: None,
        }
    }

    pub fn headers_sent(&self) -> bool {
        self.headers_sent
    }

    pub fn started(&self) -> bool {
        self.status.is_some()
    }

    pub fn overridden(&self) -> Option<u16> {
        self.overridden
    }

    /// True once the declared Content-Length has been sent in full.
    pub fn complete(&self) -> bool {
        self.content_length.is_some_and(|cl| self.sent >= cl)
    }

    fn request(&self) -> Result<&Request, SendError> {
        match self.slot.handle() {
            // SAFETY: the slot is cleared only when the request ends.
            Some(h) => Ok(unsafe { h.get() }),
            None => Err(SendError::App("response used after its request ended".into())),
        }
    }

    fn commit_headers(&mut self) -> Result<(), SendError> {
        if self.headers_sent {
            return Ok(());
        }
        let status = self.status.as_ref().ok_or_else(|| {
            SendError::App("the application produced output before calling start_response()".into())
        })?;
        let r = self.request()?;
        if self.error_override && status.code >= 400 {
            self.overridden = Some(status.code);
            self.headers_sent = true;
            return Ok(());
        }
        r.set_status(status.code, &status.line);
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case(b"Content-Type") {
                r.set_content_type(value);
            } else {
                let err = name.eq_ignore_ascii_case(b"WWW-Authenticate");
                r.add_header_out(err, name, value);
            }
        }
        if self.brigade.is_none() {
            self.brigade = Some(Brigade::new(r));
        }
        self.headers_sent = true;
        Ok(())
    }

    /// Sends one block (`last`: nothing follows, EOS goes with it).
    pub fn send(&mut self, py: Python<'_>, data: &[u8], last: bool) -> Result<(), SendError> {
        if data.is_empty() && !last {
            return Ok(());
        }
        self.commit_headers()?;
        if self.overridden.is_some() || self.eos_sent {
            return Ok(());
        }
        let data = match self.content_length {
            Some(cl) => &data[..data.len().min(cl.saturating_sub(self.sent) as usize)],
            None => data,
        };
        self.sent += data.len() as u64;
        let mut bb = self.brigade.take().expect("brigade exists after headers");
        bb.push_copy(data);
        if last {
            bb.push_eos();
            self.eos_sent = true;
        } else {
            bb.push_flush();
        }
        let (bb, result) = pass_detached(py, bb);
        self.brigade = Some(bb);
        result.map_err(|_| SendError::ClientGone)
    }

    /// Sends `len` bytes of an open file from `offset` (wsgi.file_wrapper).
    pub fn send_file(
        &mut self,
        py: Python<'_>,
        fd: i32,
        offset: i64,
        len: u64,
        sendfile: bool,
    ) -> Result<bool, SendError> {
        self.commit_headers()?;
        if self.overridden.is_some() || self.eos_sent {
            return Ok(true);
        }
        let len = match self.content_length {
            Some(cl) => len.min(cl.saturating_sub(self.sent)),
            None => len,
        };
        let mut bb = self.brigade.take().expect("brigade exists after headers");
        if len > 0 && !bb.push_file(fd, offset, len as i64, sendfile) {
            self.brigade = Some(bb);
            return Ok(false);
        }
        self.sent += len;
        bb.push_eos();
        self.eos_sent = true;
        let (bb, result) = pass_detached(py, bb);
        self.brigade = Some(bb);
        result.map(|_| true).map_err(|_| SendError::ClientGone)
    }

    /// Ends the response: headers if none went out yet, then EOS. A body
    /// shorter than its declared Content-Length is marked broken so the
    /// client does not wait for the rest.
    pub fn finish(&mut self, py: Python<'_>) -> Result<(), SendError> {
        if self.eos_sent {
            return Ok(());
        }
        self.commit_headers()?;
        if self.overridden.is_some() {
            return Ok(());
        }
        let short = self.content_length.is_some_and(|cl| self.sent < cl);
        let mut bb = self.brigade.take().expect("brigade exists after headers");
        if short {
            let r = self.request()?;
            crate::httpd::log::request(
                r,
                crate::httpd::log::Level::Err,
                &format!(
                    "the application declared Content-Length {} but produced only {} bytes; \
                     closing the connection",
                    self.content_length.unwrap_or(0),
                    self.sent
                ),
            );
            bb.push_broken();
        } else {
            bb.push_eos();
        }
        self.eos_sent = true;
        let (bb, result) = pass_detached(py, bb);
        self.brigade = Some(bb);
        result.map_err(|_| SendError::ClientGone)
    }

    /// After output has started and something failed: cut the response so
    /// the client sees it is incomplete.
    pub fn abort(&mut self, py: Python<'_>) {
        if self.eos_sent || !self.headers_sent || self.overridden.is_some() {
            return;
        }
        if let Some(mut bb) = self.brigade.take() {
            bb.push_broken();
            self.eos_sent = true;
            let (bb, _) = pass_detached(py, bb);
            self.brigade = Some(bb);
        }
    }
}

/// Passes the brigade down the output filters with the GIL released.
fn pass_detached(py: Python<'_>, mut bb: Brigade) -> (Brigade, Result<(), i32>) {
    py.detach(move || {
        let result = bb.pass();
        (bb, result)
    })
}

fn app_error(msg: String) -> PyErr {
    PyRuntimeError::new_err(msg)
}

#[pymethods]
impl Responder {
    /// start_response(status, response_headers, exc_info=None)
    #[pyo3(signature = (status, response_headers, exc_info=None))]
    fn __call__<'py>(
        mut slf: PyRefMut<'py, Self>,
        status: &Bound<'py, PyAny>,
        response_headers: &Bound<'py, PyAny>,
        exc_info: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let exc_info = exc_info.filter(|e| !e.is_none());
        if let Some(info) = exc_info {
            if slf.headers_sent {
                let tuple = info.cast::<PyTuple>().map_err(|_| {
                    PyTypeError::new_err("exc_info must be a (type, value, traceback) tuple")
                })?;
                let value = tuple.get_item(1)?;
                return Err(PyErr::from_value(value));
            }
        } else if slf.status.is_some() {
            let msg = "start_response() called a second time without exc_info (PEP 3333)".to_string();
            slf.problem = Some(msg.clone());
            return Err(app_error(msg));
        }
        let parsed = (|| -> Result<(Status, Vec<(Vec<u8>, Vec<u8>)>), String> {
            let status: String = status.extract().map_err(|_| {
                format!(
                    "status must be a str such as \"200 OK\", not {}",
                    status.get_type().name().map(|n| n.to_string()).unwrap_or_default()
                )
            })?;
            let status = parse_status(&status)?;
            let list = response_headers.cast::<PyList>().map_err(|_| {
                "response headers must be a list of (name, value) tuples".to_string()
            })?;
            let mut headers = Vec::with_capacity(list.len());
            for item in list.iter() {
                let tuple = item
                    .cast::<PyTuple>()
                    .ok()
                    .filter(|t| t.len() == 2)
                    .ok_or_else(|| format!("response header {item} is not a (name, value) tuple"))?;
                let name: String = tuple.get_item(0).and_then(|n| n.extract()).map_err(|_| {
                    format!("response header name in {item} is not a str")
                })?;
                let value: String = tuple.get_item(1).and_then(|v| v.extract()).map_err(|_| {
                    format!("value of response header {name:?} is not a str")
                })?;
                headers.push(check_header(&name, &value)?);
            }
            Ok((status, headers))
        })();
        match parsed {
            Ok((status, headers)) => {
                slf.content_length = headers
                    .iter()
                    .rev()
                    .find(|(n, _)| n.eq_ignore_ascii_case(b"Content-Length"))
                    .and_then(|(_, v)| content_length(v));
                slf.status = Some(status);
                slf.headers = headers;
                slf.problem = None;
            }
            Err(msg) => {
                slf.problem = Some(msg.clone());
                return Err(app_error(msg));
            }
        }
        let py = slf.py();
        let this: Bound<'py, Responder> = slf.into_pyobject(py)?.clone();
        this.getattr("write")
    }

    /// The write() callable returned by start_response.
    fn write(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = data.cast::<PyBytes>().map_err(|_| {
            PyTypeError::new_err(format!(
                "write() argument must be bytes, not {}",
                data.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?;
        match self.send(py, bytes.as_bytes(), false) {
            Ok(()) => Ok(()),
            Err(SendError::ClientGone) => Err(PyOSError::new_err(
                "the client closed the connection (write() failed)",
            )),
            Err(SendError::App(msg)) => {
                self.problem = Some(msg.clone());
                Err(app_error(msg))
            }
        }
    }
}
