//! Signals in a daemon process: Apache's handlers and mask are inherited
//! through fork and must be reset; SIGTERM/SIGINT/SIGHUP ask for a
//! graceful stop, SIGUSR1 for a graceful restart of the one process
//! (mod_wsgi's eviction: `kill -USR1 <pid>`).

use std::sync::atomic::{AtomicBool, Ordering};

static STOP: AtomicBool = AtomicBool::new(false);
static EVICT: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_sig: libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" fn on_evict(_sig: libc::c_int) {
    EVICT.store(true, Ordering::SeqCst);
}

/// Restores default dispositions for every signal and unblocks them all.
pub(crate) fn reset_all() {
    // SAFETY: sigaction/sigprocmask with valid structs; signals that cannot
    // be changed (SIGKILL, SIGSTOP) just fail.
    unsafe {
        for sig in 1..libc::SIGRTMIN() {
            libc::signal(sig, libc::SIG_DFL);
        }
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
}

/// Makes SIGTERM, SIGINT and SIGHUP request a graceful stop.
pub(crate) fn catch_stop() {
    // SAFETY: installs an async-signal-safe handler (one atomic store).
    unsafe {
        let handler = on_stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
        for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::signal(sig, handler);
        }
    }
}

/// True once a stop signal arrived.
pub(crate) fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Makes SIGUSR1 request a graceful restart of this process (see
/// [`take_evict`]). A process forked afterwards inherits the handler.
pub(crate) fn catch_evict() {
    // SAFETY: installs an async-signal-safe handler (one atomic store).
    unsafe {
        let handler = on_evict as extern "C" fn(libc::c_int) as libc::sighandler_t;
        libc::signal(libc::SIGUSR1, handler);
    }
}

/// True if SIGUSR1 arrived since the last call (the request is consumed).
pub(crate) fn take_evict() -> bool {
    EVICT.swap(false, Ordering::SeqCst)
}
