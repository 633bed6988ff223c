//! Embedded mode: the application runs in this Apache child, and the
//! request's bytes go straight through Apache (ApacheBackend).

use super::backend::{Backend, Channel, SendError};
use super::environ::{Sink, INTERNAL_PREFIX};
use super::headers::Status;
use super::runner::{self, Job, Outcome, Timing};
use super::variables::{request_variables, Target};
use crate::httpd::brigade::Brigade;
use crate::httpd::log::{self, Level};
use crate::httpd::request::{Request, RequestHandle};
use crate::httpd::server;
use crate::python::environ_dict::EnvironFill;
use crate::python::pinned::PinnedBytes;
use pyo3::prelude::*;
use std::os::raw::c_int;

/// A Python dict as an environ sink; values become latin-1 `str`. The
/// internal `mod_wsgi.x-…` keys (for a daemon) are left out.
pub(crate) struct DictSink<'py>(pub(crate) EnvironFill<'py>);

impl<'py> DictSink<'py> {
    pub(crate) fn new(py: Python<'py>) -> DictSink<'py> {
        DictSink(EnvironFill::new(py))
    }
}

impl Sink for DictSink<'_> {
    fn put(&mut self, key: &[u8], value: &[u8]) {
        if !key.starts_with(INTERNAL_PREFIX) {
            self.0.put(key, value);
        }
    }
}

/// The request's I/O straight through Apache's filters.
pub(crate) struct ApacheBackend {
    r: RequestHandle,
    bb: Brigade,
}

impl ApacheBackend {
    pub(crate) fn new(r: &Request) -> ApacheBackend {
        ApacheBackend {
            r: RequestHandle::new(r),
            bb: Brigade::new(r),
        }
    }

    /// The backend lives inside the request's Channel, which the handler
    /// closes (dropping the backend) before the request ends.
    fn request(&self) -> &Request {
        self.r.get()
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
        self.bb.drop_released();
        self.bb.push_copy(data);
    }

    fn stage_pinned(&mut self, data: PinnedBytes) {
        // The blocks of earlier passes are released here, with the GIL held.
        self.bb.drop_released();
        self.bb.push_pinned(Box::new(data));
    }

    fn closed(&mut self) {
        // Channel::close runs with the GIL held.
        self.bb.drop_released();
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

    fn reads_in_place(&self) -> bool {
        true
    }

    fn read_body_at_least_into(
        &mut self,
        buf: &mut crate::os::uninit::UninitBuf<'_>,
        need: usize,
    ) -> Result<(), String> {
        let need = need.min(buf.len());
        while buf.filled() < need {
            match self.request().read_body_into(buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    fn log(&mut self, level: Level, msg: &str) {
        log::request(self.request(), level, msg);
    }
}

/// Runs the application for `r` in this process.
pub(crate) fn run(r: &Request, t: &Target<'_>) -> c_int {
    crate::python::thread::ensure();
    let asked = std::time::Instant::now();
    let outcome = Python::attach(|py| {
        crate::python::api::gil_wait::begin(asked.elapsed());
        let job = Job {
            script: t.handler_script.unwrap_or(t.script),
            resource: t.script,
            application_group: t.application_group,
            callable: t.callable,
            script_reloading: t.config.script_reloading,
            script_mtime_us: t.script_mtime_us,
            error_override: t.config.error_override,
            enable_sendfile: t.config.enable_sendfile,
            multithread: server::mpm_threaded(),
            multiprocess: server::mpm_forked(),
            timing: Timing {
                request_start_us: r.request_time(),
                queue_start_us: 0,
                daemon_start_us: 0,
            },
        };
        let mut sink = DictSink::new(py);
        request_variables(r, t, &mut sink);
        let environ = match runner::fixed_entries(py, &job).and_then(|f| sink.0.finish_with(&f)) {
            Ok(d) => d,
            Err(e) => {
                log::request(r, Level::Err, &format!("cannot build environ: {e}"));
                return (runner::INTERNAL_ERROR, None);
            }
        };
        let channel = Channel::new(Box::new(ApacheBackend::new(r)));
        runner::run(py, &job, &environ, channel)
    });
    // The GIL is released: send what the response still has staged.
    let outcome = match outcome {
        (outcome, Some(finish)) => {
            finish.send();
            outcome
        }
        (outcome, None) => outcome,
    };
    // The safety net for descriptors 0-2 closed behind os.close's back: one
    // poll() (a freed 0-2 would be the next client socket's number).
    if let Some(msg) = crate::os::stdio::check_after_request() {
        log::request(r, Level::Warn, &msg);
    }
    match outcome {
        Outcome::Done => crate::httpd::ffi::OK,
        Outcome::Status(s) => c_int::from(s),
    }
}
