//! mod_wsgi_rs: an Apache httpd module that runs Python WSGI applications,
//! a drop-in replacement for mod_wsgi.
//!
//! The module record and the hook entry points are in `httpd::module`;
//! what the hooks do is in `hooks`. See ARCHITECTURE.md for the path of a
//! request through the code.

mod buffers;
mod config;
mod daemon;
mod hooks;
mod httpd;
mod metrics;
mod os;
mod python;
mod wsgi;

/// This module's version as a tuple (mod_wsgi.version in environ).
pub fn version_tuple() -> (i32, i32, i32) {
    let v: Vec<i32> = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    (v[0], v[1], v[2])
}

/// The pure functions the fuzz targets drive (`fuzz/`): the only public
/// surface of this library besides the module record.
pub mod fuzzing {
    pub use crate::config::directives::{apply_dir, apply_server, DIRECTIVES};
    pub use crate::config::{parse_daemon_process, split_args, DirConfig, IpSubnet, ServerConfig};
    pub use crate::daemon::wire::{
        check_hello, decode_environ, decode_file, decode_headers, decode_status, decode_text,
        decode_u32, encode_headers, read_frame, EnvironWriter, SECRET_LEN,
    };
    pub use crate::wsgi::environ::{header_key, HeaderKey};
    pub use crate::wsgi::headers::{
        check_header, content_length, from_latin1, latin1, parse_status,
    };
    pub use crate::wsgi::proxy::{resolve, Policy};
}
