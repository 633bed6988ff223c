//! Running a WSGI application for one request in this process (embedded
//! mode): build environ, call the application, send what it returns,
//! always call close(), and turn every failure into a 500 (or a cut
//! response once output started) with the traceback in the error log.

use super::environ::{cgi_variables, Mount, Sink};
use super::file_wrapper::FileWrapper;
use super::input::Input;
use super::response::{Responder, SendError};
use crate::config::{MapHeadToGet, RequestConfig};
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::request::{Request, RequestSlot};
use crate::httpd::server;
use crate::python::logstream::LogStream;
use crate::python::{format_exception, script};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString, PyTuple};
use std::os::raw::c_int;
use std::path::Path;
use std::sync::Arc;

/// What to run and how it is mounted.
pub struct Target<'a> {
    pub script: &'a Path,
    pub script_name: &'a [u8],
    pub path_info: &'a [u8],
    pub callable: &'a str,
    pub application_group: &'a str,
    pub process_group: &'a str,
    pub config: &'a RequestConfig,
}

/// A Python dict as an environ sink; values become latin-1 `str`.
struct DictSink<'py> {
    dict: Bound<'py, PyDict>,
    error: Option<PyErr>,
}

pub fn latin1_str<'py>(py: Python<'py>, bytes: &[u8]) -> Bound<'py, PyString> {
    match std::str::from_utf8(bytes) {
        Ok(s) if s.is_ascii() => PyString::new(py, s),
        _ => PyString::new(py, &super::headers::from_latin1(bytes)),
    }
}

impl Sink for DictSink<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) {
        let py = self.dict.py();
        if let Err(e) = self
            .dict
            .set_item(latin1_str(py, key), latin1_str(py, value))
        {
            self.error.get_or_insert(e);
        }
    }
}

/// Output filters that do not need to see a body: with WSGIMapHEADToGET
/// Auto, HEAD is passed to the application as HEAD only when every filter
/// is one of these.
const BODYLESS_FILTERS: &[&[u8]] = &[
    b"byterange",
    b"content_length",
    b"http_header",
    b"http_outerror",
    b"core",
    b"old_write",
    b"ssl/tls filter",
    b"log_input_output",
    b"req_core",
];

fn request_method<'r>(r: &'r Request, map: MapHeadToGet) -> &'r [u8] {
    let method = r.method();
    if method != b"HEAD" {
        return method;
    }
    let to_get = match map {
        MapHeadToGet::On => true,
        MapHeadToGet::Off => false,
        MapHeadToGet::Auto => r
            .output_filter_names()
            .iter()
            .any(|n| !BODYLESS_FILTERS.iter().any(|b| n.eq_ignore_ascii_case(b))),
    };
    if to_get {
        b"GET"
    } else {
        method
    }
}

fn version_tuple<'py>(py: Python<'py>, v: (i32, i32, i32)) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, [v.0, v.1, v.2])
}

fn build_environ<'py>(
    py: Python<'py>,
    r: &Request,
    t: &Target<'_>,
    slot: &Arc<RequestSlot>,
    input: &Bound<'py, Input>,
    errors: &Bound<'py, LogStream>,
) -> PyResult<Bound<'py, PyDict>> {
    let mut sink = DictSink {
        dict: PyDict::new(py),
        error: None,
    };
    let script_filename = t.script.to_string_lossy();
    cgi_variables(
        r,
        &Mount {
            script_name: t.script_name,
            path_info: t.path_info,
            script_filename: script_filename.as_bytes(),
        },
        request_method(r, t.config.map_head_to_get),
        t.config.pass_authorization,
        &mut sink,
    );
    if let Some(e) = sink.error {
        return Err(e);
    }
    let _ = slot;
    let d = sink.dict;
    d.set_item(intern!(py, "wsgi.version"), PyTuple::new(py, [1, 0])?)?;
    d.set_item(
        intern!(py, "wsgi.url_scheme"),
        latin1_str(py, r.scheme()),
    )?;
    d.set_item(intern!(py, "wsgi.input"), input)?;
    d.set_item(intern!(py, "wsgi.errors"), errors)?;
    d.set_item(intern!(py, "wsgi.multithread"), server::mpm_threaded())?;
    d.set_item(intern!(py, "wsgi.multiprocess"), server::mpm_forked())?;
    d.set_item(intern!(py, "wsgi.run_once"), false)?;
    d.set_item(intern!(py, "wsgi.input_terminated"), true)?;
    d.set_item(
        intern!(py, "wsgi.file_wrapper"),
        py.get_type::<FileWrapper>(),
    )?;
    d.set_item(intern!(py, "mod_wsgi.process_group"), t.process_group)?;
    d.set_item(
        intern!(py, "mod_wsgi.application_group"),
        t.application_group,
    )?;
    d.set_item(intern!(py, "mod_wsgi.callable_object"), t.callable)?;
    d.set_item(
        intern!(py, "mod_wsgi.request_handler"),
        latin1_str(py, r.handler()),
    )?;
    d.set_item(intern!(py, "mod_wsgi.handler_script"), "")?;
    d.set_item(
        intern!(py, "mod_wsgi.script_reloading"),
        if t.config.script_reloading { "1" } else { "0" },
    )?;
    d.set_item(
        intern!(py, "mod_wsgi.enable_sendfile"),
        if t.config.enable_sendfile { "1" } else { "0" },
    )?;
    d.set_item(intern!(py, "mod_wsgi.ignore_activity"), "0")?;
    let (ip, port) = r.local_ip_port();
    d.set_item(intern!(py, "mod_wsgi.listener_host"), latin1_str(py, ip))?;
    d.set_item(intern!(py, "mod_wsgi.listener_port"), port.to_string())?;
    d.set_item(
        intern!(py, "mod_wsgi.script_name"),
        latin1_str(py, t.script_name),
    )?;
    d.set_item(
        intern!(py, "mod_wsgi.path_info"),
        latin1_str(py, t.path_info),
    )?;
    d.set_item(
        intern!(py, "mod_wsgi.request_start"),
        r.request_time().to_string(),
    )?;
    if let Some(id) = r.log_id() {
        d.set_item(intern!(py, "mod_wsgi.request_id"), latin1_str(py, id))?;
    }
    d.set_item(
        intern!(py, "mod_wsgi.version"),
        version_tuple(py, crate::version_tuple())?,
    )?;
    d.set_item(
        intern!(py, "apache.version"),
        version_tuple(py, server::httpd_version())?,
    )?;
    Ok(d)
}

/// How the request ended, for the handler's return value.
enum Outcome {
    /// Response sent (or the client went away).
    Done,
    /// Nothing sent yet: answer with this status.
    Status(c_int),
}

fn log_exception(py: Python<'_>, r: &Request, script: &Path, err: &PyErr) {
    let tb = format_exception(py, err);
    log::request(
        r,
        Level::Err,
        &format!(
            "Exception occurred processing WSGI script '{}'.\n{tb}",
            script.display()
        ),
    );
}

pub fn run(r: &Request, t: &Target<'_>) -> c_int {
    crate::python::thread::ensure();
    let outcome = Python::attach(|py| run_attached(py, r, t));
    match outcome {
        Outcome::Done => ffi::OK,
        Outcome::Status(s) => s,
    }
}

fn run_attached(py: Python<'_>, r: &Request, t: &Target<'_>) -> Outcome {
    let module = match script::load(py, t.script, t.config.script_reloading) {
        Ok(m) => m,
        Err(script::LoadError::Unreadable(msg)) => {
            log::request(r, Level::Err, &msg);
            return Outcome::Status(ffi::HTTP_INTERNAL_SERVER_ERROR);
        }
        Err(script::LoadError::Failed(e)) => {
            log::request(
                r,
                Level::Err,
                &format!(
                    "Failed to exec Python script file '{}'.",
                    t.script.display()
                ),
            );
            log_exception(py, r, t.script, &e);
            return Outcome::Status(ffi::HTTP_INTERNAL_SERVER_ERROR);
        }
    };
    let app = match module.bind(py).getattr(t.callable) {
        Ok(a) => a,
        Err(_) => {
            log::request(
                r,
                Level::Err,
                &format!(
                    "Target WSGI script '{}' does not contain WSGI application '{}'.",
                    t.script.display(),
                    t.callable
                ),
            );
            return Outcome::Status(ffi::HTTP_INTERNAL_SERVER_ERROR);
        }
    };

    let slot = Arc::new(RequestSlot::new(r));
    let outcome = (|| -> PyResult<Outcome> {
        let input = Bound::new(py, Input::new(slot.clone()))?;
        let errors = Bound::new(py, LogStream::for_request(slot.clone()))?;
        let responder = Bound::new(
            py,
            Responder::new(slot.clone(), t.config.error_override),
        )?;
        let environ = build_environ(py, r, t, &slot, &input, &errors)?;
        let outcome = call_and_respond(py, r, t, &app, &environ, &responder);
        errors.borrow().flush_all(py);
        Ok(outcome)
    })()
    .unwrap_or_else(|e| {
        log_exception(py, r, t.script, &e);
        Outcome::Status(ffi::HTTP_INTERNAL_SERVER_ERROR)
    });
    slot.clear();
    outcome
}

fn fail(
    py: Python<'_>,
    r: &Request,
    responder: &Bound<'_, Responder>,
    message: Option<String>,
    err: Option<&PyErr>,
    script: &Path,
) -> Outcome {
    if let Some(msg) = message {
        log::request(
            r,
            Level::Err,
            &format!("{msg} (WSGI script '{}')", script.display()),
        );
    }
    if let Some(e) = err {
        log_exception(py, r, script, e);
    }
    let mut resp = responder.borrow_mut();
    if resp.headers_sent() {
        resp.abort(py);
        Outcome::Done
    } else {
        Outcome::Status(ffi::HTTP_INTERNAL_SERVER_ERROR)
    }
}

fn call_and_respond(
    py: Python<'_>,
    r: &Request,
    t: &Target<'_>,
    app: &Bound<'_, PyAny>,
    environ: &Bound<'_, PyDict>,
    responder: &Bound<'_, Responder>,
) -> Outcome {
    let result = match app.call1((environ, responder)) {
        Ok(res) => res,
        Err(e) => {
            let problem = responder.borrow_mut().problem.take();
            return fail(py, r, responder, problem, Some(&e), t.script);
        }
    };
    let outcome = send_result(py, r, t, &result, responder);
    let close_failed = match result.hasattr(intern!(py, "close")) {
        Ok(true) => result.call_method0(intern!(py, "close")).err(),
        Ok(false) => None,
        Err(e) => Some(e),
    };
    match (outcome, close_failed) {
        (Outcome::Done, Some(e)) => {
            log_exception(py, r, t.script, &e);
            Outcome::Done
        }
        (Outcome::Status(_), Some(e)) => {
            log_exception(py, r, t.script, &e);
            Outcome::Status(ffi::HTTP_INTERNAL_SERVER_ERROR)
        }
        (o, None) => o,
    }
}

fn block_bytes<'a, 'py>(item: &'a Bound<'py, PyAny>) -> Result<&'a Bound<'py, PyBytes>, String> {
    item.cast::<PyBytes>().map_err(|_| {
        format!(
            "the application yielded {} instead of bytes (PEP 3333 requires bytes)",
            item.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        )
    })
}

fn send_result(
    py: Python<'_>,
    r: &Request,
    t: &Target<'_>,
    result: &Bound<'_, PyAny>,
    responder: &Bound<'_, Responder>,
) -> Outcome {
    let send = |data: &[u8], last: bool| -> Result<(), SendError> {
        responder.borrow_mut().send(py, data, last)
    };
    let on_send_error = |e: SendError| -> Option<Outcome> {
        match e {
            SendError::ClientGone => {
                log::request(
                    r,
                    Level::Info,
                    "the client closed the connection before the response was complete",
                );
                Some(Outcome::Done)
            }
            SendError::App(msg) => Some(fail(py, r, responder, Some(msg), None, t.script)),
        }
    };

    // A file handed over through wsgi.file_wrapper goes out as a file.
    if let Ok(wrapper) = result.cast::<FileWrapper>() {
        if responder.borrow().started() {
            if let Some(file) = wrapper.borrow().as_file(py) {
                let sent = responder.borrow_mut().send_file(
                    py,
                    file.fd,
                    file.offset,
                    file.len,
                    t.config.enable_sendfile,
                );
                match sent {
                    Ok(true) => return overridden(responder).unwrap_or(Outcome::Done),
                    Ok(false) => {}
                    Err(e) => return on_send_error(e).unwrap_or(Outcome::Done),
                }
            }
        }
    }

    // A list or tuple: its length is known, so the last block carries EOS.
    let sequence: Option<Vec<Bound<'_, PyAny>>> = if let Ok(list) = result.cast::<PyList>() {
        Some(list.iter().collect())
    } else if let Ok(tuple) = result.cast::<PyTuple>() {
        Some(tuple.iter().collect())
    } else {
        None
    };
    if let Some(items) = sequence {
        let n = items.len();
        for (i, item) in items.iter().enumerate() {
            let bytes = match block_bytes(item) {
                Ok(b) => b,
                Err(msg) => return fail(py, r, responder, Some(msg), None, t.script),
            };
            if let Err(e) = send(bytes.as_bytes(), i + 1 == n) {
                return on_send_error(e).unwrap_or(Outcome::Done);
            }
            if responder.borrow().complete() {
                break;
            }
        }
    } else {
        let iter = match result.try_iter() {
            Ok(it) => it,
            Err(e) => {
                return fail(
                    py,
                    r,
                    responder,
                    Some("the application's return value is not iterable".into()),
                    Some(&e),
                    t.script,
                )
            }
        };
        for item in iter {
            let item = match item {
                Ok(i) => i,
                Err(e) => {
                    let problem = responder.borrow_mut().problem.take();
                    return fail(py, r, responder, problem, Some(&e), t.script);
                }
            };
            let bytes = match block_bytes(&item) {
                Ok(b) => b,
                Err(msg) => return fail(py, r, responder, Some(msg), None, t.script),
            };
            if let Err(e) = send(bytes.as_bytes(), false) {
                return on_send_error(e).unwrap_or(Outcome::Done);
            }
            if responder.borrow().complete() {
                break;
            }
        }
    }
    let finished = responder.borrow_mut().finish(py);
    if let Err(e) = finished {
        return on_send_error(e).unwrap_or(Outcome::Done);
    }
    overridden(responder).unwrap_or(Outcome::Done)
}

fn overridden(responder: &Bound<'_, Responder>) -> Option<Outcome> {
    responder
        .borrow()
        .overridden()
        .map(|code| Outcome::Status(code as c_int))
}

/// Executes a script at child start (WSGIImportScript, or a
/// WSGIScriptAlias with both groups given), logging any failure.
pub fn preload(s: *mut ffi::server_rec, path: &Path) {
    crate::python::thread::ensure();
    Python::attach(|py| match script::preload(py, path) {
        Ok(()) => log::server_rec(
            s,
            Level::Info,
            &format!("Preloaded WSGI script '{}'.", path.display()),
        ),
        Err(script::LoadError::Unreadable(msg)) => log::server_rec(s, Level::Err, &msg),
        Err(script::LoadError::Failed(e)) => log::server_rec(
            s,
            Level::Err,
            &format!(
                "Failed to preload WSGI script '{}'.\n{}",
                path.display(),
                format_exception(py, &e)
            ),
        ),
    });
}
