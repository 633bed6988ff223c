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

/// Whether the MPM may serve requests on several threads per process
/// (wsgi.multithread in embedded mode).
pub(crate) fn mpm_threaded() -> bool {
    mpm_query(ffi::AP_MPMQ_IS_THREADED) != ffi::AP_MPMQ_NOT_SUPPORTED
        && mpm_query(ffi::AP_MPMQ_MAX_THREADS) > 1
}

/// Whether the MPM may run several child processes (wsgi.multiprocess in
/// embedded mode).
pub(crate) fn mpm_forked() -> bool {
    mpm_query(ffi::AP_MPMQ_IS_FORKED) != ffi::AP_MPMQ_NOT_SUPPORTED
        && mpm_query(ffi::AP_MPMQ_MAX_DAEMONS) > 1
}

/// The MPM's process limit as mod_wsgi reports it (`maximum_processes` in
/// embedded mode): MAX_DAEMON_USED, else MAX_DAEMONS; 1 when not forked.
pub(crate) fn mpm_max_processes() -> i32 {
    if mpm_query(ffi::AP_MPMQ_IS_FORKED) == ffi::AP_MPMQ_NOT_SUPPORTED {
        return 1;
    }
    let mut n = mpm_query(ffi::AP_MPMQ_MAX_DAEMON_USED);
    if n == -1 {
        n = mpm_query(ffi::AP_MPMQ_MAX_DAEMONS);
    }
    n.max(1)
}

/// ServerLimit: how many Apache children can run at once.
pub(crate) fn mpm_hard_limit_processes() -> i32 {
    mpm_query(ffi::AP_MPMQ_HARD_LIMIT_DAEMONS).max(1)
}

/// The MPM's threads per process (`threads_per_process` in embedded
/// mode): MAX_THREADS, 1 when not threaded.
pub(crate) fn mpm_max_threads() -> i32 {
    if mpm_query(ffi::AP_MPMQ_IS_THREADED) == ffi::AP_MPMQ_NOT_SUPPORTED {
        return 1;
    }
    mpm_query(ffi::AP_MPMQ_MAX_THREADS).max(1)
}

/// The MPM's name ("event", "worker", "prefork").
pub(crate) fn mpm_name() -> String {
    // SAFETY: ap_show_mpm returns a static string.
    String::from_utf8_lossy(unsafe { cstr_bytes(ffi::ap_show_mpm()) }).into_owned()
}

/// Apache's full description ("Apache/2.4.x (Debian) ...").
pub(crate) fn description() -> String {
    // SAFETY: the description is a string in the process pool.
    String::from_utf8_lossy(unsafe { cstr_bytes(ffi::ap_get_server_description()) }).into_owned()
}

/// When Apache was built.
pub(crate) fn build_date() -> String {
    // SAFETY: ap_get_server_built returns a static string.
    String::from_utf8_lossy(unsafe { cstr_bytes(ffi::ap_get_server_built()) }).into_owned()
}

/// True while Apache only checks or dumps its configuration, or is in the
/// first of its two configuration passes at start-up.
pub(crate) fn is_config_check_pass() -> bool {
    // SAFETY: ap_state_query only reads global state.
    unsafe {
        ffi::ap_state_query(ffi::AP_SQ_MAIN_STATE) == ffi::AP_SQ_MS_CREATE_PRE_CONFIG
            || ffi::ap_state_query(ffi::AP_SQ_RUN_MODE) != ffi::AP_SQ_RM_NORMAL
    }
}

/// Apache's version as (major, minor, patch).
pub(crate) fn httpd_version() -> (i32, i32, i32) {
    let mut v = ffi::ap_version_t::default();
    // SAFETY: fills a caller-owned struct.
    unsafe { ffi::ap_get_server_revision(&mut v) };
    (v.major, v.minor, v.patch)
}

/// The server banner (SERVER_SOFTWARE).
pub(crate) fn banner() -> &'static [u8] {
    // SAFETY: the banner is a string in the process pool.
    unsafe { cstr_bytes(ffi::ap_get_server_banner()) }
}

/// Adds a component to the server's version banner.
pub(crate) fn add_version_component(pool: &super::pool::Pool, component: &str) {
    let c = std::ffi::CString::new(component).unwrap_or_default();
    // SAFETY: Apache copies the string into the live pool.
    unsafe { ffi::ap_add_version_component(pool.as_ptr(), c.as_ptr()) }
}

/// A server (the main server or a virtual host).
#[repr(transparent)]
pub(crate) struct Server(std::cell::UnsafeCell<ffi::server_rec>);

impl Server {
    /// # Safety
    /// `s` must be NULL or a server_rec that lives as long as `'a`.
    pub(crate) unsafe fn from_raw<'a>(s: *mut ffi::server_rec) -> Option<&'a Server> {
        // SAFETY: guaranteed by the caller; repr(transparent).
        unsafe { (s as *const Server).as_ref() }
    }

    pub(crate) fn raw(&self) -> *mut ffi::server_rec {
        self.0.get()
    }

    fn rec(&self) -> &ffi::server_rec {
        // SAFETY: Apache does not change a server_rec once configured.
        unsafe { &*self.0.get() }
    }

    /// The server's name and port as configured (for application groups).
    pub(crate) fn hostname_and_port(&self) -> (String, u16) {
        // SAFETY: server_hostname is NULL or a config-pool string.
        let name = unsafe { cstr_bytes(self.rec().server_hostname) };
        (String::from_utf8_lossy(name).into_owned(), self.rec().port)
    }

    /// The server's module config vector (see `slots`).
    pub(super) fn config_vector(&self) -> *mut ffi::ap_conf_vector_t {
        self.rec().module_config
    }

    /// The next virtual host in Apache's list.
    pub(crate) fn next(&self) -> Option<&Server> {
        // SAFETY: server_recs form a NULL-terminated list owned by Apache
        // for the life of the configuration.
        unsafe { Server::from_raw(self.rec().next) }
    }

    /// This server and every virtual host after it.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Server> {
        std::iter::successors(Some(self), |s| s.next())
    }
}

/// The main server (Apache's global ap_server_conf).
pub(crate) fn main_server() -> Option<&'static Server> {
    // SAFETY: ap_server_conf is set by Apache before any module code runs
    // and stays valid for the configuration's life.
    unsafe { Server::from_raw(ffi::ap_server_conf) }
}
