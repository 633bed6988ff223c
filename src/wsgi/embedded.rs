//! Embedded mode: the application runs in this Apache child, and the
//! request's bytes go straight through Apache (ApacheBackend). Also builds
//! the request's string variables, which daemon mode sends over its socket.

use super::backend::{Backend, Channel, SendError};
use super::environ::{cgi_variables, Mount, Sink};
use super::headers::Status;
use super::proxy::Policy;
use super::runner::{self, Job, Outcome};
use crate::config::{MapHeadToGet, RequestConfig};
use crate::httpd::brigade::Brigade;
use crate::httpd::log::{self, Level};
use crate::httpd::request::{Request, RequestHandle};
use crate::httpd::server;
use crate::python::strings::{environ_key, latin1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::os::raw::c_int;
use std::path::Path;

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

fn request_method(r: &Request, map: MapHeadToGet) -> &[u8] {
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

/// Every `str` entry of environ for this request: the CGI variables,
/// wsgi.url_scheme and the mod_wsgi.* strings.
pub fn request_variables(r: &Request, t: &Target<'_>, sink: &mut impl Sink) {
    let script_filename = t.script.to_string_lossy();
    let subnets;
    let policy = match &t.config.trusted_proxy_headers {
        Some(headers) => {
            subnets = t.config.trusted_proxy_subnets();
            Some(Policy {
                headers,
                proxies: &subnets,
            })
        }
        None => None,
    };
    cgi_variables(
        r,
        &Mount {
            script_name: t.script_name,
            path_info: t.path_info,
            script_filename: script_filename.as_bytes(),
        },
        request_method(r, t.config.map_head_to_get),
        t.config.pass_authorization,
        policy.as_ref(),
        sink,
    );
    let flag = |b: bool| if b { &b"1"[..] } else { &b"0"[..] };
    sink.put(b"mod_wsgi.process_group", t.process_group.as_bytes());
    sink.put(
        b"mod_wsgi.application_group",
        t.application_group.as_bytes(),
    );
    sink.put(b"mod_wsgi.callable_object", t.callable.as_bytes());
    sink.put(b"mod_wsgi.request_handler", r.handler());
    sink.put(b"mod_wsgi.handler_script", b"");
    sink.put(
        b"mod_wsgi.script_reloading",
        flag(t.config.script_reloading),
    );
    sink.put(b"mod_wsgi.enable_sendfile", flag(t.config.enable_sendfile));
    sink.put(b"mod_wsgi.ignore_activity", b"0");
    let (ip, port) = r.local_ip_port();
    sink.put(b"mod_wsgi.listener_host", ip);
    sink.put(b"mod_wsgi.listener_port", port.to_string().as_bytes());
    sink.put(b"mod_wsgi.script_name", t.script_name);
    sink.put(b"mod_wsgi.path_info", t.path_info);
    sink.put(
        b"mod_wsgi.request_start",
        r.request_time().to_string().as_bytes(),
    );
    match r.log_id() {
        Some(id) => sink.put(b"mod_wsgi.request_id", id),
        None => sink.put(b"mod_wsgi.request_id", request_id().as_bytes()),
    }
}

/// A request id unique across this server's processes and threads (used
/// when Apache has not assigned one for its log).
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    thread_local! {
        // Apache children never fork again: one getpid() per thread.
        static PID: u32 = std::process::id();
    }
    format!("{:x}-{:x}-{n:x}", now, PID.with(|p| *p))
}

/// A Python dict as an environ sink; values become latin-1 `str`.
pub struct DictSink<'py> {
    pub dict: Bound<'py, PyDict>,
    pub error: Option<PyErr>,
}

impl Sink for DictSink<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) {
        let py = self.dict.py();
        if let Err(e) = self.dict.set_item(environ_key(py, key), latin1(py, value)) {
            self.error.get_or_insert(e);
        }
    }
}

/// The request's I/O straight through Apache's filters.
pub struct ApacheBackend {
    r: RequestHandle,
    bb: Brigade,
}

impl ApacheBackend {
    pub fn new(r: &Request) -> ApacheBackend {
        ApacheBackend {
            r: RequestHandle::new(r),
            bb: Brigade::new(r),
        }
    }

    fn request(&self) -> &Request {
        // SAFETY: the backend lives inside the request's Channel, which the
        // handler closes (dropping the backend) before the request ends.
        unsafe { self.r.get() }
    }
}

impl Backend for ApacheBackend {
    fn stage_headers(&mut self, status: &Status, headers: &[(Vec<u8>, Vec<u8>)]) {
        let r = self.request();
        r.set_status(status.code, &status.line);
        for (name, value) in headers {
            if name.eq_ignore_ascii_case(b"Content-Type") {
                r.set_content_type(value);
            } else {
                // WWW-Authenticate must survive Apache's error handling.
                let err = name.eq_ignore_ascii_case(b"WWW-Authenticate");
                r.add_header_out(err, name, value);
            }
        }
    }

    fn stage_data(&mut self, data: &[u8]) {
        self.bb.push_copy(data);
    }

    fn stage_file(&mut self, fd: i32, offset: i64, len: u64, sendfile: bool) -> bool {
        self.bb.push_file(fd, offset, len as i64, sendfile)
    }

    fn flush(&mut self, last: bool) -> Result<(), SendError> {
        if last {
            self.bb.push_eos();
        } else {
            self.bb.push_flush();
        }
        self.bb.pass().map_err(|_| SendError::ClientGone)
    }

    fn abort(&mut self) {
        self.bb.push_broken();
        let _ = self.bb.pass();
    }

    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        self.request().read_body(buf).map_err(|e| e.to_string())
    }

    fn log(&mut self, level: Level, msg: &str) {
        log::request(self.request(), level, msg);
    }
}

/// Runs the application for `r` in this process.
pub fn run(r: &Request, t: &Target<'_>) -> c_int {
    crate::python::thread::ensure();
    let outcome = Python::attach(|py| {
        let mut sink = DictSink {
            dict: PyDict::new(py),
            error: None,
        };
        request_variables(r, t, &mut sink);
        if let Some(e) = sink.error {
            log::request(r, Level::Err, &format!("cannot build environ: {e}"));
            return (runner::INTERNAL_ERROR, None);
        }
        let job = Job {
            script: t.script,
            application_group: t.application_group,
            callable: t.callable,
            script_reloading: t.config.script_reloading,
            error_override: t.config.error_override,
            enable_sendfile: t.config.enable_sendfile,
            multithread: server::mpm_threaded(),
            multiprocess: server::mpm_forked(),
        };
        let channel = Channel::new(Box::new(ApacheBackend::new(r)));
        runner::run(py, &job, &sink.dict, channel)
    });
    // The GIL is released: send what the response still has staged.
    let outcome = match outcome {
        (outcome, Some(finish)) => {
            finish.send();
            outcome
        }
        (outcome, None) => outcome,
    };
    match outcome {
        Outcome::Done => crate::httpd::ffi::OK,
        Outcome::Status(s) => c_int::from(s),
    }
}
