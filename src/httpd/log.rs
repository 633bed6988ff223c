//! The Apache error log: server-wide and per-request messages.
//!
//! Messages go through `ap_log_error_` / `ap_log_rerror_` with the format
//! `"%s"`, so nothing the application writes is ever read as a format.
//! Multi-line messages (tracebacks) become one log entry per line, as
//! mod_wsgi does.

use super::ffi;
use super::request::Request;
use std::ffi::CString;
use std::os::raw::c_int;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Crit,
    Err,
    Warn,
    Notice,
    Info,
    Debug,
}

impl Level {
    fn raw(self) -> c_int {
        (match self {
            Level::Crit => ffi::APLOG_CRIT,
            Level::Err => ffi::APLOG_ERR,
            Level::Warn => ffi::APLOG_WARNING,
            Level::Notice => ffi::APLOG_NOTICE,
            Level::Info => ffi::APLOG_INFO,
            Level::Debug => ffi::APLOG_DEBUG,
        }) as c_int
    }
}

fn c_message(line: &str) -> CString {
    CString::new(line.replace('\0', "\\0")).unwrap_or_default()
}

fn lines(msg: &str) -> impl Iterator<Item = &str> {
    msg.trim_end_matches('\n').split('\n')
}

/// Logs against the main server (or `s` when given).
pub fn server(level: Level, msg: &str) {
    // SAFETY: ap_server_conf is set by Apache before any module code runs;
    // reading the pointer value does not dereference it.
    let s = unsafe { ffi::ap_server_conf };
    server_rec(s, level, msg)
}

/// Logs against a given server_rec (may be NULL early in start-up).
pub fn server_rec(s: *const ffi::server_rec, level: Level, msg: &str) {
    let index = crate::module_index();
    for line in lines(msg) {
        let text = c_message(line);
        // SAFETY: the format is "%s" with one valid C string argument; a
        // NULL server is accepted by ap_log_error_ (logs to stderr).
        unsafe {
            ffi::ap_log_error_(
                c"mod_wsgi_rs".as_ptr(),
                0,
                index,
                level.raw(),
                0,
                s,
                c"%s".as_ptr(),
                text.as_ptr(),
            )
        };
    }
}

/// Logs with the request's context (client address, log id).
pub fn request(r: &Request, level: Level, msg: &str) {
    let index = crate::module_index();
    for line in lines(msg) {
        let text = c_message(line);
        // SAFETY: `r` is the live request; the format is "%s" with one
        // valid C string argument.
        unsafe {
            ffi::ap_log_rerror_(
                c"mod_wsgi_rs".as_ptr(),
                0,
                index,
                level.raw(),
                0,
                r.raw(),
                c"%s".as_ptr(),
                text.as_ptr(),
            )
        };
    }
}
