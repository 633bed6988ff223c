//! mod_wsgi_rs: an Apache httpd module that runs Python WSGI applications,
//! a drop-in replacement for mod_wsgi.
//!
//! The module record and the hook entry points are in `httpd::module`;
//! what the hooks do is in `hooks`. See ARCHITECTURE.md for the path of a
//! request through the code.

pub mod buffers;
pub mod config;
pub mod daemon;
mod hooks;
pub mod httpd;
pub mod os;
pub mod python;
pub mod wsgi;

/// This module's version as a tuple (mod_wsgi.version in environ).
pub fn version_tuple() -> (i32, i32, i32) {
    let v: Vec<i32> = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    (v[0], v[1], v[2])
}
