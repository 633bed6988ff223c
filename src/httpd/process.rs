//! Processes from Apache's point of view: forking daemon processes from the
//! parent (supervised through `other_child`), the User/Group Apache runs
//! its children as, closing Apache's listeners and setting the process
//! title in a daemon.

use super::ffi;
use super::pool::{cstr_bytes, Pool};
use std::os::raw::{c_int, c_void};

/// The user Apache's children run as (User/Group directives).
pub(crate) struct ApacheUser {
    pub(crate) name: String,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

pub(crate) fn apache_user() -> ApacheUser {
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
pub(crate) fn mpm_stopping() -> bool {
    let mut state: c_int = 0;
    // SAFETY: writes one int for a known query code.
    unsafe { ffi::ap_mpm_query(ffi::AP_MPMQ_MPM_STATE, &mut state) };
    state == ffi::AP_MPMQ_STOPPING
}

/// Closes the sockets Apache listens on (in a freshly forked daemon).
pub(crate) fn close_listeners() {
    // SAFETY: closes this process's copies of Apache's listening sockets.
    unsafe { ffi::ap_close_listeners() }
}

/// Apache's Timeout for the main server, in seconds.
pub(crate) fn server_timeout_secs() -> u32 {
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
pub(crate) struct Proc(pub ffi::apr_proc_t);

impl Proc {
    pub(crate) fn new() -> Proc {
        // SAFETY: apr_proc_t is plain data; zero means "no process".
        Proc(unsafe { std::mem::zeroed() })
    }

    pub(crate) fn pid(&self) -> i32 {
        self.0.pid
    }
}

impl Default for Proc {
    fn default() -> Self {
        Proc::new()
    }
}

pub(crate) enum Forked {
    Child,
    Parent,
}

/// Forks; `proc` receives the child's pid in the parent.
pub(crate) fn fork(proc: &mut Proc, pool: &Pool) -> Result<Forked, i32> {
    // SAFETY: apr_proc_fork fills the caller's apr_proc_t.
    let rv = unsafe { ffi::apr_proc_fork(&mut proc.0, pool.as_ptr()) };
    match rv {
        ffi::APR_INCHILD => Ok(Forked::Child),
        ffi::APR_INPARENT => Ok(Forked::Parent),
        e => Err(e),
    }
}

/// The Apache parent's argv (to rewrite as a daemon's process title).
fn process_argv() -> (i32, *mut *mut std::os::raw::c_char) {
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

/// Shows `title` as this process's command line in `ps` (a forked daemon
/// process overwrites the argv it inherited from the Apache parent).
pub(crate) fn set_process_title(title: &str) {
    let (argc, argv) = process_argv();
    // SAFETY: argv is this process's own argument vector from Apache's
    // process_rec, laid out by the kernel.
    unsafe { crate::os::process::set_process_title(argc, argv, title) };
}

/// Resolves a path relative to ServerRoot (as Apache does for file names).
pub(crate) fn server_root_relative(pool: &Pool, path: &str) -> String {
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
pub(crate) fn process_lifetime_bytes<const N: usize>(
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

/// Runs `f` on `N` bytes kept in Apache's process pool under `key`: zeroed
/// the first time, then kept as `f` left them for every later configuration
/// generation of this Apache parent (the process pool outlives restarts and
/// module reloads). Only for plain data, laid out the same by every build.
pub(crate) fn with_process_lifetime_bytes<const N: usize, R>(
    key: &'static std::ffi::CStr,
    f: impl FnOnce(&mut [u8; N]) -> R,
) -> R {
    // SAFETY: as in process_lifetime_bytes: the process pool lives as long
    // as the parent process, and the userdata under `key` is a pool
    // allocation of N bytes that is never freed before the process ends.
    // The Apache parent runs module hooks on one thread, so no other
    // reference to those bytes exists while `f` runs.
    unsafe {
        let s = ffi::ap_server_conf;
        if s.is_null() || (*s).process.is_null() {
            return f(&mut [0u8; N]);
        }
        let pool = (*(*s).process).pool;
        let mut data: *mut c_void = std::ptr::null_mut();
        ffi::apr_pool_userdata_get(&mut data, key.as_ptr(), pool);
        if data.is_null() {
            data = ffi::apr_palloc(pool, N);
            std::ptr::write_bytes(data as *mut u8, 0, N);
            // apr_pool_userdata_set copies the key into the pool.
            ffi::apr_pool_userdata_set(data, key.as_ptr(), None, pool);
        }
        f(&mut *(data as *mut [u8; N]))
    }
}
