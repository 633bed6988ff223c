//! start_response, the write() callable, and the response body rules:
//! status/header validation, exc_info, Content-Length cut-off, flushing
//! each block as it is produced, error override. The bytes themselves go
//! through the request's `Backend` (Apache or the daemon socket).
//!
//! Every block is staged while the GIL is held (`stage_*`), then sent with
//! the GIL released (`flush`). Small blocks are copied out of their Python
//! object; a large `bytes` block is handed over with a strong reference to
//! it (`PinnedBytes`: an immutable buffer that cannot move or change while
//! referenced), the only pointer into a Python object that crosses a GIL
//! release.

use super::backend::{Channel, SendError};
use super::headers::{check_header_latin1, content_length, from_latin1, parse_status, Status};
use crate::httpd::log::Level;
use crate::python::pinned::PinnedBytes;
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

/// Blocks of at least this many bytes are handed to the backend by
/// reference rather than copied. Under callgrind (bench/results.md) one
/// block by reference saves 0.6 % of a request at 4 KiB, 10 % at 16 KiB and
/// 18 % at 32 KiB; below 16 KiB the copy is cheap enough in real time.
pub(crate) const PIN_MIN: usize = 16 * 1024;

#[pyclass(module = "mod_wsgi")]
pub(crate) struct Responder {
    channel: Channel,
    status: Option<Status>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    content_length: Option<u64>,
    headers_sent: bool,
    sent: u64,
    eos_sent: bool,
    error_override: bool,
    /// The application was given a HEAD request: no body is expected, even
    /// with a Content-Length.
    head: bool,
    /// Set when WSGIErrorOverride hands an error status to Apache.
    overridden: Option<u16>,
    /// A protocol error found by start_response or write (for the log).
    pub(crate) problem: Option<String>,
    /// The end of the response may be left staged for the caller to send
    /// once the GIL is released for good (nothing Python runs after it).
    pub(crate) may_defer_end: bool,
    /// The end was left staged (see `may_defer_end`).
    pub(crate) end_deferred: bool,
    /// Blocks sent (output_writes of the mod_wsgi events).
    writes: u64,
}

fn ended() -> SendError {
    SendError::App("the response was used after its request ended".into())
}

impl Responder {
    pub(crate) fn new(channel: Channel, error_override: bool, head: bool) -> Responder {
        Responder {
            channel,
            status: None,
            headers: Vec::new(),
            content_length: None,
            headers_sent: false,
            sent: 0,
            eos_sent: false,
            error_override,
            head,
            overridden: None,
            problem: None,
            may_defer_end: false,
            end_deferred: false,
            writes: 0,
        }
    }

    pub(crate) fn headers_sent(&self) -> bool {
        self.headers_sent
    }

    pub(crate) fn started(&self) -> bool {
        self.status.is_some()
    }

    pub(crate) fn overridden(&self) -> Option<u16> {
        self.overridden
    }

    /// True once the declared Content-Length has been sent in full.
    pub(crate) fn complete(&self) -> bool {
        self.content_length.is_some_and(|cl| self.sent >= cl)
    }

    fn commit_headers(&mut self) -> Result<(), SendError> {
        if self.headers_sent {
            return Ok(());
        }
        let status = self.status.as_ref().ok_or_else(|| {
            SendError::App("the application produced output before calling start_response()".into())
        })?;
        if self.error_override && status.code >= 400 {
            self.overridden = Some(status.code);
            self.headers_sent = true;
            return Ok(());
        }
        let headers = &self.headers;
        self.channel
            .stage(|b| b.stage_headers(status, headers))
            .ok_or_else(ended)?;
        self.headers_sent = true;
        Ok(())
    }

    fn flush(&mut self, py: Python<'_>, last: bool) -> Result<(), SendError> {
        if last {
            self.eos_sent = true;
            if self.may_defer_end {
                self.end_deferred = true;
                return Ok(());
            }
        }
        // A send that cannot block keeps the GIL (no hand-off to another
        // thread and back); anything that may wait releases it.
        if let Some(Some(done)) = self.channel.stage(|b| b.try_flush(last)) {
            return done;
        }
        self.channel
            .io(py, move |b| b.flush(last))
            .unwrap_or_else(|| Err(ended()))
    }

    /// Sends one block (`last`: nothing follows, the end goes with it).
    pub(crate) fn send(
        &mut self,
        py: Python<'_>,
        block: &Bound<'_, PyBytes>,
        last: bool,
    ) -> Result<(), SendError> {
        let data = block.as_bytes();
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
        self.writes += 1;
        if data.len() >= PIN_MIN {
            let pinned = PinnedBytes::new(block, 0..data.len());
            self.channel
                .stage(|b| b.stage_pinned(pinned))
                .ok_or_else(ended)?;
        } else if !data.is_empty() {
            self.channel
                .stage(|b| b.stage_data(data))
                .ok_or_else(ended)?;
        }
        self.flush(py, last)
    }

    /// Sends `len` bytes of an open file from `offset` and ends the
    /// response; Ok(false) when the backend cannot send it as a file.
    pub(crate) fn send_file(
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
        if len > 0 {
            let staged = self
                .channel
                .stage(|b| b.stage_file(fd, offset, len, sendfile))
                .ok_or_else(ended)?;
            if !staged {
                return Ok(false);
            }
        }
        self.sent += len;
        self.flush(py, true).map(|_| true)
    }

    /// Ends the response: headers if none went out yet, then the end. A
    /// body shorter than its declared Content-Length is cut so the client
    /// does not wait for the rest.
    pub(crate) fn finish(&mut self, py: Python<'_>) -> Result<(), SendError> {
        if self.eos_sent {
            return Ok(());
        }
        self.commit_headers()?;
        if self.overridden.is_some() {
            return Ok(());
        }
        if let Some(cl) = self
            .content_length
            .filter(|&cl| self.sent < cl && !self.head)
        {
            let msg = format!(
                "the application declared Content-Length {cl} but produced only {} bytes; \
                 closing the connection",
                self.sent
            );
            self.eos_sent = true;
            self.channel.io(py, move |b| {
                b.log(Level::Err, &msg);
                b.abort()
            });
            return Ok(());
        }
        self.flush(py, true)
    }

    /// After output has started and something failed: cut the response so
    /// the client sees it is incomplete.
    pub(crate) fn abort(&mut self, py: Python<'_>) {
        if self.eos_sent || !self.headers_sent || self.overridden.is_some() {
            return;
        }
        self.eos_sent = true;
        self.channel.io(py, |b| b.abort());
    }
}

/// Why start_response refused its arguments: the exception it raises at
/// the call (mod_wsgi 6's types: TypeError for a wrong type, ValueError for
/// a bad value, UnicodeEncodeError for text that is not latin-1), and the
/// line logged if the application lets it escape.
struct Refusal {
    exception: PyErr,
    why: String,
}

fn type_error(why: String) -> Refusal {
    Refusal {
        exception: PyTypeError::new_err(why.clone()),
        why,
    }
}

fn value_error(why: String) -> Refusal {
    Refusal {
        exception: PyValueError::new_err(why.clone()),
        why,
    }
}

/// A `str` as latin-1 bytes. Not a str: TypeError; characters above
/// U+00FF (or a lone surrogate, e.g. from surrogateescape): Python's own
/// UnicodeEncodeError, as `str.encode("latin-1")` raises it.
fn latin1_text(obj: &Bound<'_, PyAny>, what: impl Fn() -> String) -> Result<Vec<u8>, Refusal> {
    let Ok(s) = obj.cast::<PyString>() else {
        return Err(type_error(format!(
            "{} must be a str, not {}",
            what(),
            type_name(obj)
        )));
    };
    // ASCII (nearly every status and header): its UTF-8 form, which
    // CPython keeps in the object, is its latin-1 form; no codec call.
    if let Ok(text) = s.to_str() {
        if text.is_ascii() {
            return Ok(text.as_bytes().to_vec());
        }
    }
    match s
        .call_method1(intern!(obj.py(), "encode"), (intern!(obj.py(), "latin-1"),))
        .and_then(|b| Ok(b.cast_into::<PyBytes>()?.as_bytes().to_vec()))
    {
        Ok(bytes) => Ok(bytes),
        Err(exception) => Err(Refusal {
            exception,
            why: format!(
                "{} contains characters that are not latin-1: {:?}",
                what(),
                s.to_string_lossy()
            ),
        }),
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

/// A status and its headers as latin-1 bytes, and the Content-Length.
struct ParsedResponse {
    status: Status,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    content_length: Option<u64>,
}

/// Checks start_response's arguments (PEP 3333) and copies them into Rust.
fn parse_start_response(
    status: &Bound<'_, PyAny>,
    response_headers: &Bound<'_, PyAny>,
) -> Result<ParsedResponse, Refusal> {
    let status = latin1_text(status, || "the status (a str such as \"200 OK\")".into())?;
    let status = parse_status(&from_latin1(&status)).map_err(value_error)?;
    let list = response_headers.cast::<PyList>().map_err(|_| {
        type_error(format!(
            "response headers must be a list of (name, value) tuples, not {}",
            type_name(response_headers)
        ))
    })?;
    let mut headers = Vec::with_capacity(list.len());
    for item in list.iter() {
        let tuple = item.cast::<PyTuple>().map_err(|_| {
            type_error(format!(
                "each response header must be a (name, value) tuple, not {}: {item}",
                type_name(&item)
            ))
        })?;
        if tuple.len() != 2 {
            return Err(value_error(format!(
                "each response header must be a (name, value) tuple, got length {}: {item}",
                tuple.len()
            )));
        }
        let get = |i| {
            tuple.get_item(i).map_err(|exception| Refusal {
                why: exception.to_string(),
                exception,
            })
        };
        let name = latin1_text(&get(0)?, || "a response header name".into())?;
        let value = latin1_text(&get(1)?, || {
            format!("the value of response header {:?}", from_latin1(&name))
        })?;
        headers.push(check_header_latin1(name, value).map_err(value_error)?);
    }
    let content_length = match headers
        .iter()
        .rev()
        .find(|(n, _)| n.eq_ignore_ascii_case(b"Content-Length"))
    {
        Some((_, v)) => Some(content_length(v).ok_or_else(|| {
            value_error(format!(
                "invalid Content-Length header value: '{}' (a Content-Length is a number of bytes)",
                from_latin1(v)
            ))
        })?),
        None => None,
    };
    Ok(ParsedResponse {
        status,
        headers,
        content_length,
    })
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
        if exc_info.is_some_and(|e| !e.is_instance_of::<PyTuple>()) {
            return Err(PyRuntimeError::new_err(
                "start_response() argument 'exc_info' must be a 3-tuple or None",
            ));
        }
        match exc_info {
            Some(info) if slf.headers_sent => {
                // PEP 3333: after output started, re-raise the error.
                let tuple = info.cast::<PyTuple>()?;
                return Err(PyErr::from_value(tuple.get_item(1)?));
            }
            None if slf.status.is_some() => {
                // mod_wsgi 6 lets a second call win until output starts;
                // PEP 3333 makes it an error (our documented choice).
                let msg = "start_response() called more than once without exc_info (PEP 3333)";
                slf.problem = Some(msg.to_string());
                return Err(PyRuntimeError::new_err(msg));
            }
            _ => {}
        }
        match parse_start_response(status, response_headers) {
            Ok(parsed) => {
                slf.content_length = parsed.content_length;
                slf.status = Some(parsed.status);
                slf.headers = parsed.headers;
                slf.problem = None;
            }
            Err(refusal) => {
                slf.problem = Some(refusal.why);
                return Err(refusal.exception);
            }
        }
        let py = slf.py();
        crate::wsgi::api::events::response_started(py, status, response_headers, exc_info);
        let this: Bound<'py, Responder> = slf.into_pyobject(py)?.clone();
        this.getattr(intern!(py, "write"))
    }

    /// The write() callable returned by start_response.
    fn write(&mut self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let bytes = data.cast::<PyBytes>().map_err(|_| {
            PyTypeError::new_err(format!(
                "write() argument must be bytes, not {}",
                type_name(data)
            ))
        })?;
        if self.eos_sent {
            // A write() kept past its request (a thread, a later request).
            return Err(PyRuntimeError::new_err(
                "write() called after its response ended (the request is over)",
            ));
        }
        match self.send(py, bytes, false) {
            Ok(()) => Ok(()),
            Err(SendError::ClientGone) => Err(PyOSError::new_err(
                "the client closed the connection (write() failed)",
            )),
            Err(SendError::App(msg)) => {
                self.problem = Some(msg.clone());
                Err(PyRuntimeError::new_err(msg))
            }
        }
    }
}

/// What the `mod_wsgi` events and metrics report about the response.
impl Responder {
    /// The status given to start_response, if it was called.
    pub(crate) fn status_code(&self) -> Option<u16> {
        self.status.as_ref().map(|s| s.code)
    }

    /// Body bytes sent (after any Content-Length cut).
    pub(crate) fn output_length(&self) -> u64 {
        self.sent
    }

    /// Blocks sent.
    pub(crate) fn output_writes(&self) -> u64 {
        self.writes
    }
}
