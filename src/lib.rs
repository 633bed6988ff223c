//! mod_wsgi_rs: an Apache httpd module that runs Python WSGI applications,
//! a drop-in replacement for mod_wsgi.
//!
//! This file exports the module (`wsgi_module`, named `mod_wsgi.c` so that
//! `<IfModule mod_wsgi.c>` still applies) and registers its hooks; see
//! ARCHITECTURE.md for the path of a request through the code.

pub mod config;
pub mod daemon;
pub mod hooks;
pub mod httpd;
pub mod os;
pub mod python;
pub mod wsgi;

use httpd::ffi;
use std::os::raw::{c_int, c_ulong};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::{null, null_mut};

/// The module record Apache's LoadModule looks up by name. It must be
/// writable: Apache stores the module index and list links in it.
#[unsafe(no_mangle)]
pub static mut wsgi_module: ffi::module = ffi::module {
    version: ffi::MODULE_MAGIC_NUMBER_MAJOR,
    minor_version: ffi::MODULE_MAGIC_NUMBER_MINOR,
    module_index: -1,
    name: c"mod_wsgi.c".as_ptr(),
    dynamic_load_handle: null_mut(),
    next: null_mut(),
    magic: ffi::MODULE_MAGIC_COOKIE as c_ulong,
    rewrite_args: None,
    create_dir_config: Some(httpd::directives::create_dir_config),
    merge_dir_config: Some(httpd::directives::merge_dir_config),
    create_server_config: Some(httpd::directives::create_server_config),
    merge_server_config: Some(httpd::directives::merge_server_config),
    cmds: &raw const httpd::directives::COMMANDS as *const ffi::command_rec,
    register_hooks: Some(register_hooks),
    flags: 0,
};

/// This module's index in Apache's config vectors (-1 before loading).
pub fn module_index() -> c_int {
    // SAFETY: a plain read of an int Apache writes once while loading the
    // module, before any hook or directive of ours runs.
    unsafe { (&raw const wsgi_module.module_index).read() }
}

/// This module's version as a tuple (mod_wsgi.version in environ).
pub fn version_tuple() -> (i32, i32, i32) {
    let v: Vec<i32> = env!("CARGO_PKG_VERSION")
        .split('.')
        .map(|p| p.parse().unwrap_or(0))
        .collect();
    (v[0], v[1], v[2])
}

/// Runs `f`, turning a Rust panic into `on_panic` and a log line instead
/// of unwinding into Apache's C code.
pub(crate) fn ffi_guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(cause) => {
            httpd::log::server(
                httpd::log::Level::Crit,
                &format!(
                    "mod_wsgi_rs internal error (please report): {}",
                    panic_text(cause.as_ref())
                ),
            );
            on_panic
        }
    }
}

/// What a caught panic said.
pub(crate) fn panic_text(cause: &(dyn std::any::Any + Send)) -> String {
    cause
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

unsafe extern "C" fn translate_name(r: *mut ffi::request_rec) -> c_int {
    ffi_guard(ffi::DECLINED, || {
        // SAFETY: Apache passes the live request.
        hooks::translate_name(unsafe { httpd::request::Request::from_raw(r) })
    })
}

unsafe extern "C" fn handler(r: *mut ffi::request_rec) -> c_int {
    ffi_guard(ffi::HTTP_INTERNAL_SERVER_ERROR, || {
        // SAFETY: Apache passes the live request.
        hooks::handler(unsafe { httpd::request::Request::from_raw(r) })
    })
}

unsafe extern "C" fn post_config(
    pconf: *mut ffi::apr_pool_t,
    _plog: *mut ffi::apr_pool_t,
    _ptemp: *mut ffi::apr_pool_t,
    s: *mut ffi::server_rec,
) -> c_int {
    ffi_guard(ffi::HTTP_INTERNAL_SERVER_ERROR, || {
        // SAFETY: Apache passes its live configuration pool and main server.
        let (pool, server) = unsafe {
            (
                httpd::pool::Pool::from_raw(pconf),
                httpd::server::Server::from_raw(s),
            )
        };
        server.map_or(ffi::OK, |server| hooks::post_config(pool, server))
    })
}

unsafe extern "C" fn child_init(_p: *mut ffi::apr_pool_t, s: *mut ffi::server_rec) {
    ffi_guard((), || {
        // SAFETY: Apache passes the live main server.
        if let Some(server) = unsafe { httpd::server::Server::from_raw(s) } {
            hooks::child_init(server)
        }
    })
}

unsafe extern "C" fn register_hooks(_p: *mut ffi::apr_pool_t) {
    static ALIAS_FIRST: httpd::NameList<2> = httpd::NameList([c"mod_alias.c".as_ptr(), null()]);
    static THEN: httpd::NameList<3> = httpd::NameList([
        c"mod_userdir.c".as_ptr(),
        c"mod_vhost_alias.c".as_ptr(),
        null(),
    ]);
    // SAFETY: registering hook functions with NULL-terminated module name
    // lists of static strings, during Apache's hook registration phase.
    unsafe {
        ffi::ap_hook_post_config(Some(post_config), null(), null(), ffi::APR_HOOK_MIDDLE);
        ffi::ap_hook_child_init(Some(child_init), null(), null(), ffi::APR_HOOK_MIDDLE);
        ffi::ap_hook_translate_name(
            Some(translate_name),
            ALIAS_FIRST.0.as_ptr(),
            THEN.0.as_ptr(),
            ffi::APR_HOOK_MIDDLE,
        );
        ffi::ap_hook_handler(Some(handler), null(), null(), ffi::APR_HOOK_MIDDLE);
    }
}
