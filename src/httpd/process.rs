//! Processes from Apache's point of view: forking daemon processes from the
//! parent, Apache's "other child" supervision, the User/Group Apache runs
//! its children as, closing Apache's listeners in a daemon.

use super::ffi;
use super::pool::{cstr_bytes, Pool};
use std::os::raw::{c_int, c_void};

/// The user Apache's children run as (User/Group directives).
pub struct ApacheUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
}

pub fn apache_user() -> ApacheUser {
    // SAFETY: ap_unixd_config is filled in by mod_unixd while reading the
    // configuration; reading it afterwards is what every module does.
    unsafe {
        let c = (&raw const ffi::ap_unixd_config).read();
        ApacheUser {
            name: String::from_utf8_lossy(cstr_bytes(c.user_name)).into_owned(),
            uid: c.user_id,
            gid: c.group_id,
        }
    }
}

/// True while Apache is stopping (not restarting).
pub fn mpm_stopping() -> bool {
    let mut state: c_int = 0;
    // SAFETY: writes one int for a known query code.
    unsafe { ffi::ap_mpm_query(ffi::AP_MPMQ_MPM_STATE, &mut state) };
    state == ffi::AP_MPMQ_STOPPING
}

/// Closes the sockets Apache listens on (in a freshly forked daemon).
pub fn close_listeners() {
    // SAFETY: closes this process's copies of Apache's listening sockets.
    unsafe { ffi::ap_close_listeners() }
}

/// Apache's Timeout for the main server, in seconds.
pub fn server_timeout_secs() -> u32 {
    // SAFETY: ap_server_conf is set before any module code runs.
    let s = unsafe { ffi::ap_server_conf };
    if s.is_null() {
        return 60;
    }
    // SAFETY: a live server_rec.
    let us = unsafe { (*s).timeout };
    (us / 1_000_000).clamp(1, u32::MAX as i64) as u32
}

/// A process forked through APR, registered for Apache's supervision.
#[repr(C)]
pub struct Proc(pub ffi::apr_proc_t);

impl Proc {
    pub fn new() -> Proc {
        // SAFETY: apr_proc_t is plain data; zero means "no process".
        Proc(unsafe { std::mem::zeroed() })
    }

    pub fn pid(&self) -> i32 {
        self.0.pid
    }
}

impl Default for Proc {
    fn default() -> Self {
        Proc::new()
    }
}

pub enum Forked {
    Child,
    Parent,
}

/// Forks; `proc` receives the child's pid in the parent.
pub fn fork(proc: &mut Proc, pool: &Pool) -> Result<Forked, i32> {
    // SAFETY: apr_proc_fork fills the caller's apr_proc_t.
    let rv = unsafe { ffi::apr_proc_fork(&mut proc.0, pool.as_ptr()) };
    match rv {
        ffi::APR_INCHILD => Ok(Forked::Child),
        ffi::APR_INPARENT => Ok(Forked::Parent),
        e => Err(e),
    }
}

/// Why Apache calls an other-child callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    Death,
    Restart,
    Unregister,
    Other,
}

pub type Maintenance = unsafe extern "C" fn(reason: c_int, data: *mut c_void, status: c_int);

pub fn reason(code: c_int) -> Reason {
    match code {
        ffi::APR_OC_REASON_DEATH | ffi::APR_OC_REASON_LOST => Reason::Death,
        ffi::APR_OC_REASON_RESTART => Reason::Restart,
        ffi::APR_OC_REASON_UNREGISTER => Reason::Unregister,
        _ => Reason::Other,
    }
}

/// Registers `proc` for supervision; `callback(reason, data, status)` runs
/// in the Apache parent. `proc` and `data` must stay valid until the
/// registration ends (it ends with `pool`).
///
/// # Safety
/// `proc` and `data` must outlive the registration.
pub unsafe fn register_other_child(
    proc: *mut Proc,
    callback: Maintenance,
    data: *mut c_void,
    pool: &Pool,
) {
    // SAFETY: forwarded to the caller; APR keeps both pointers until the
    // pool's cleanup unregisters them.
    unsafe {
        ffi::apr_proc_other_child_register(
            &mut (*proc).0,
            Some(callback),
            data,
            std::ptr::null_mut(),
            pool.as_ptr(),
        )
    }
}

/// Ends a registration early (never twice for the same data).
///
/// # Safety
/// `data` must be currently registered.
pub unsafe fn unregister_other_child(data: *mut c_void) {
    // SAFETY: forwarded to the caller.
    unsafe { ffi::apr_proc_other_child_unregister(data) }
}

/// The Apache parent's argv (to rewrite as a daemon's process title).
pub fn process_argv() -> (i32, *mut *mut std::os::raw::c_char) {
    // SAFETY: ap_server_conf->process is set up by Apache's main() before
    // any module code runs and lives for the whole process.
    unsafe {
        let s = ffi::ap_server_conf;
        if s.is_null() || (*s).process.is_null() {
            return (0, std::ptr::null_mut());
        }
        let p = &*(*s).process;
        (p.argc, p.argv as *mut *mut std::os::raw::c_char)
    }
}

/// Resolves a path relative to ServerRoot (as Apache does for file names).
pub fn server_root_relative(pool: &Pool, path: &str) -> String {
    let c = std::ffi::CString::new(path).unwrap_or_default();
    // SAFETY: returns NULL or a pool string.
    unsafe {
        let p = ffi::ap_server_root_relative(pool.as_ptr(), c.as_ptr());
        if p.is_null() {
            path.to_string()
        } else {
            String::from_utf8_lossy(cstr_bytes(p)).into_owned()
        }
    }
}

/// Bytes kept in Apache's process pool under `key`: made by `init` the
/// first time, the same for every later configuration generation of this
/// Apache parent (the process pool outlives restarts and module reloads),
/// and inherited by every process forked from it.
pub fn process_lifetime_bytes<const N: usize>(
    key: &'static std::ffi::CStr,
    init: impl FnOnce(&mut [u8; N]),
) -> [u8; N] {
    let mut out = [0u8; N];
    // SAFETY: ap_server_conf->process->pool lives as long as the parent
    // process; userdata set there holds a pool allocation of N bytes that
    // is never freed before the process ends.
    unsafe {
        let s = ffi::ap_server_conf;
        if s.is_null() || (*s).process.is_null() {
            init(&mut out);
            return out;
        }
        let pool = (*(*s).process).pool;
        let mut data: *mut c_void = std::ptr::null_mut();
        ffi::apr_pool_userdata_get(&mut data, key.as_ptr(), pool);
        if data.is_null() {
            init(&mut out);
            let mem = ffi::apr_palloc(pool, N) as *mut u8;
            std::ptr::copy_nonoverlapping(out.as_ptr(), mem, N);
            ffi::apr_pool_userdata_set(mem as *const c_void, key.as_ptr(), None, pool);
        } else {
            std::ptr::copy_nonoverlapping(data as *const u8, out.as_mut_ptr(), N);
        }
    }
    out
}
