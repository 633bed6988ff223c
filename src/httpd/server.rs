//! Server-wide facts: MPM, server version, run state, server_rec fields.

use super::ffi;
use super::pool::cstr_bytes;
use std::os::raw::c_int;

fn mpm_query(code: c_int) -> c_int {
    let mut result: c_int = 0;
    // SAFETY: ap_mpm_query writes one int for the known query codes.
    unsafe { ffi::ap_mpm_query(code, &mut result) };
    result
}

/// Whether the MPM serves requests on several threads per process.
pub fn mpm_threaded() -> bool {
    mpm_query(ffi::AP_MPMQ_IS_THREADED) != ffi::AP_MPMQ_NOT_SUPPORTED
}

/// Whether the MPM runs several child processes.
pub fn mpm_forked() -> bool {
    mpm_query(ffi::AP_MPMQ_IS_FORKED) != ffi::AP_MPMQ_NOT_SUPPORTED
}

/// True while Apache only checks or dumps its configuration, or is in the
/// first of its two configuration passes at start-up.
pub fn is_config_check_pass() -> bool {
    // SAFETY: ap_state_query only reads global state.
    unsafe {
        ffi::ap_state_query(ffi::AP_SQ_MAIN_STATE) == ffi::AP_SQ_MS_CREATE_PRE_CONFIG
            || ffi::ap_state_query(ffi::AP_SQ_RUN_MODE) != ffi::AP_SQ_RM_NORMAL
    }
}

/// Apache's version as (major, minor, patch).
pub fn httpd_version() -> (i32, i32, i32) {
    let mut v = ffi::ap_version_t::default();
    // SAFETY: fills a caller-owned struct.
    unsafe { ffi::ap_get_server_revision(&mut v) };
    (v.major, v.minor, v.patch)
}

/// The server banner (SERVER_SOFTWARE).
pub fn banner() -> &'static [u8] {
    // SAFETY: the banner is a string in the process pool.
    unsafe { cstr_bytes(ffi::ap_get_server_banner()) }
}

/// Adds a component to the server's version banner.
pub fn add_version_component(pool: *mut ffi::apr_pool_t, component: &str) {
    let c = std::ffi::CString::new(component).unwrap_or_default();
    // SAFETY: Apache copies the string into the pool.
    unsafe { ffi::ap_add_version_component(pool, c.as_ptr()) }
}

/// The server's name and port as configured (for application groups).
pub fn hostname_and_port(s: *const ffi::server_rec) -> (String, u16) {
    if s.is_null() {
        return (String::new(), 0);
    }
    // SAFETY: a live server_rec from Apache.
    unsafe {
        (
            String::from_utf8_lossy(cstr_bytes((*s).server_hostname)).into_owned(),
            (*s).port,
        )
    }
}
