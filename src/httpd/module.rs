//! The `wsgi_module` record Apache's `LoadModule` looks up (named
//! `mod_wsgi.c`, so `<IfModule mod_wsgi.c>` still applies), the hook
//! registration, and the `extern "C"` hook entry points, each of which
//! turns Apache's raw pointers into this layer's types and calls
//! `crate::hooks` inside the panic guard.

use super::ffi;
use super::guard::ffi_guard;
use super::{pool::Pool, request::Request, server::Server, NameList};
use crate::hooks;
use std::os::raw::{c_int, c_ulong, c_void};
use std::ptr::{null, null_mut};

/// The module record. It must be writable: Apache stores the module index
/// and list links in it.
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
    create_dir_config: Some(super::directives::create_dir_config),
    merge_dir_config: Some(super::directives::merge_dir_config),
    create_server_config: Some(super::directives::create_server_config),
    merge_server_config: Some(super::directives::merge_server_config),
    cmds: &raw const super::directives::COMMANDS as *const ffi::command_rec,
    register_hooks: Some(register_hooks),
    flags: 0,
};

/// This module's index in Apache's config vectors (-1 before loading).
pub(crate) fn index() -> c_int {
    // SAFETY: a plain read of an int Apache writes once while loading the
    // module, before any hook or directive of ours runs.
    unsafe { (&raw const wsgi_module.module_index).read() }
}

unsafe extern "C" fn translate_name(r: *mut ffi::request_rec) -> c_int {
    ffi_guard(ffi::DECLINED, || {
        // SAFETY: Apache passes the live request.
        hooks::translate_name(unsafe { Request::from_raw(r) })
    })
}

unsafe extern "C" fn handler(r: *mut ffi::request_rec) -> c_int {
    ffi_guard(ffi::HTTP_INTERNAL_SERVER_ERROR, || {
        // SAFETY: Apache passes the live request.
        hooks::handler(unsafe { Request::from_raw(r) })
    })
}

/// First for every connection, before any filter or module uses its
/// socket: a client socket that took a standard descriptor number (0-2)
/// an embedded application freed behind Python's back gets a number of 3
/// or above, and the freed number points at the error log again
/// (`os::stdio::lift`), so nothing written to "stderr" reaches the client.
unsafe extern "C" fn pre_connection(c: *mut ffi::conn_rec, csd: *mut c_void) -> c_int {
    ffi_guard(ffi::OK, || {
        let mut sock = csd.cast::<ffi::apr_socket_t>();
        if sock.is_null() || c.is_null() {
            return ffi::OK;
        }
        let mut fd: ffi::apr_os_sock_t = -1;
        // SAFETY: `csd` is the connection's live apr_socket_t (the MPM's,
        // or a proxy's backend socket); apr_os_sock_get only reads it.
        if unsafe { ffi::apr_os_sock_get(&mut fd, sock) } != ffi::APR_SUCCESS {
            return ffi::OK;
        }
        let mut lifted = crate::os::stdio::lift(fd);
        if lifted != fd {
            // SAFETY: on an existing socket apr_os_sock_put only stores the
            // new number (and marks its addresses to be looked up again);
            // no other thread uses this connection before pre_connection
            // returns, and the pool is the connection's own.
            unsafe { ffi::apr_os_sock_put(&mut sock, &mut lifted, (*c).pool) };
        }
        ffi::OK
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
        let (pool, server) = unsafe { (Pool::from_raw(pconf), Server::from_raw(s)) };
        PCONF.store(pconf, std::sync::atomic::Ordering::SeqCst);
        server.map_or(ffi::OK, |server| hooks::post_config(pool, server))
    })
}

/// The configuration pool post_config last saw, for pre_mpm (which is
/// handed the process pool instead).
static PCONF: std::sync::atomic::AtomicPtr<ffi::apr_pool_t> =
    std::sync::atomic::AtomicPtr::new(null_mut());

unsafe extern "C" fn pre_mpm(_p: *mut ffi::apr_pool_t, _sb: ffi::ap_scoreboard_e) -> c_int {
    ffi_guard(ffi::HTTP_INTERNAL_SERVER_ERROR, || {
        let pconf = PCONF.load(std::sync::atomic::Ordering::SeqCst);
        if pconf.is_null() {
            return ffi::OK;
        }
        // SAFETY: the configuration pool post_config was given lives
        // until the generation ends, after the MPM's run (and pre_mpm).
        let pool = unsafe { Pool::from_raw(pconf) };
        super::server::main_server().map_or(ffi::OK, |s| hooks::pre_mpm(pool, s))
    })
}

unsafe extern "C" fn child_init(p: *mut ffi::apr_pool_t, s: *mut ffi::server_rec) {
    ffi_guard((), || {
        // SAFETY: Apache passes the child's pool (alive until the child
        // exits) and the live main server.
        let (pool, server) = unsafe { (Pool::from_raw(p), Server::from_raw(s)) };
        if let Some(server) = server {
            hooks::child_init(pool, server)
        }
    })
}

unsafe extern "C" fn register_hooks(p: *mut ffi::apr_pool_t) {
    static ALIAS_FIRST: NameList<2> = NameList([c"mod_alias.c".as_ptr(), null()]);
    static CORE_FIRST: NameList<2> = NameList([c"core.c".as_ptr(), null()]);
    static THEN: NameList<3> = NameList([
        c"mod_userdir.c".as_ptr(),
        c"mod_vhost_alias.c".as_ptr(),
        null(),
    ]);
    // SAFETY: registering hook functions with NULL-terminated module name
    // lists of static strings, during Apache's hook registration phase.
    unsafe {
        ffi::ap_hook_post_config(Some(post_config), null(), null(), ffi::APR_HOOK_MIDDLE);
        ffi::ap_hook_child_init(Some(child_init), null(), null(), ffi::APR_HOOK_MIDDLE);
        // After core.c's, which creates the scoreboard.
        ffi::ap_hook_pre_mpm(
            Some(pre_mpm),
            CORE_FIRST.0.as_ptr(),
            null(),
            ffi::APR_HOOK_MIDDLE,
        );
        ffi::ap_hook_translate_name(
            Some(translate_name),
            ALIAS_FIRST.0.as_ptr(),
            THEN.0.as_ptr(),
            ffi::APR_HOOK_MIDDLE,
        );
        ffi::ap_hook_handler(Some(handler), null(), null(), ffi::APR_HOOK_MIDDLE);
        ffi::ap_hook_pre_connection(
            Some(pre_connection),
            null(),
            null(),
            ffi::APR_HOOK_REALLY_FIRST,
        );
    }
    super::auth::register(p);
}
