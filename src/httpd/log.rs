//! The Apache error log: server-wide and per-request messages.
//!
//! Messages go through `ap_log_error_` / `ap_log_rerror_` with the format
//! `"%s"`, so nothing the application writes is ever read as a format.
//! Multi-line messages (tracebacks) become one log entry per line, as
//! mod_wsgi does.

use super::ffi;
use super::request::Request;
use super::server::Server;
use std::ffi::CString;
use std::os::raw::c_int;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Level {
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

/// Logs against the main server.
pub(crate) fn server(level: Level, msg: &str) {
    log_server(super::server::main_server(), level, msg)
}

/// Logs against a given server (a virtual host has its own ErrorLog).
pub(crate) fn server_at(s: &Server, level: Level, msg: &str) {
    log_server(Some(s), level, msg)
}

fn log_server(s: Option<&Server>, level: Level, msg: &str) {
    let s = s.map_or(std::ptr::null(), |s| s.raw() as *const ffi::server_rec);
    let index = super::module::index();
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
pub(crate) fn request(r: &Request, level: Level, msg: &str) {
    let index = super::module::index();
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
