//! The few C library calls std does not wrap (signals, waitpid, prctl,
//! the effective uid), declared by hand so that the command depends on std
//! alone. Linux values: Apache httpd on Linux is what this tool drives.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

pub const SIGHUP: c_int = 1;
pub const SIGINT: c_int = 2;
pub const SIGKILL: c_int = 9;
pub const SIGUSR1: c_int = 10;
pub const SIGTERM: c_int = 15;

const WNOHANG: c_int = 1;
const PR_SET_PDEATHSIG: c_int = 1;
const PR_SET_CHILD_SUBREAPER: c_int = 36;

extern "C" {
    fn kill(pid: c_int, sig: c_int) -> c_int;
    fn signal(sig: c_int, handler: usize) -> usize;
    fn geteuid() -> u32;
    fn getppid() -> c_int;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn prctl(option: c_int, ...) -> c_int;
}

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory of ours.
    unsafe { geteuid() }
}

/// Sends `sig` to `pid`; false when the process does not exist or may not
/// be signalled.
pub fn send(pid: i32, sig: c_int) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill() only reads its integer arguments.
    unsafe { kill(pid, sig) == 0 }
}

/// How a child ended, decoded from a waitpid() status.
#[derive(Clone, Copy, Debug)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    fn from_status(st: c_int) -> Exit {
        if st & 0x7f == 0 {
            Exit::Code((st >> 8) & 0xff)
        } else {
            Exit::Signal(st & 0x7f)
        }
    }
}

/// Reaps one terminated child without blocking: Some((pid, how)), or None
/// when no child has ended (or there are no children).
pub fn reap_any() -> Option<(i32, Exit)> {
    let mut st: c_int = 0;
    // SAFETY: waitpid writes the status into our local.
    let pid = unsafe { waitpid(-1, &mut st, WNOHANG) };
    if pid > 0 {
        Some((pid, Exit::from_status(st)))
    } else {
        None
    }
}

/// Makes this process the reaper of orphaned descendants (Linux), so that
/// processes Apache leaves behind become our children and can be found and
/// stopped.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        prctl(PR_SET_CHILD_SUBREAPER, 1 as std::os::raw::c_ulong);
    }
}

/// In a freshly forked child (before exec): ask for SIGTERM when the parent
/// dies, and give up if it is already gone. Only async-signal-safe calls.
pub fn die_with_parent(parent: i32) -> std::io::Result<()> {
    // SAFETY: prctl and getppid are async-signal-safe and take integers.
    unsafe {
        prctl(PR_SET_PDEATHSIG, SIGTERM as std::os::raw::c_ulong);
        if getppid() != parent {
            return Err(std::io::Error::other("parent exited"));
        }
    }
    Ok(())
}

/// Stop requests (SIGINT, SIGTERM, SIGHUP) received so far.
pub static STOP_REQUESTS: AtomicU32 = AtomicU32::new(0);
/// A graceful restart was asked for (SIGUSR1).
pub static GRACEFUL_REQUESTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(sig: c_int) {
    // Only atomics: async-signal-safe.
    if sig == SIGUSR1 {
        GRACEFUL_REQUESTED.store(true, Ordering::SeqCst);
    } else {
        STOP_REQUESTS.fetch_add(1, Ordering::SeqCst);
    }
}

/// Installs the handlers that turn SIGINT/SIGTERM/SIGHUP into stop requests
/// and SIGUSR1 into a graceful-restart request.
pub fn install_handlers() {
    let handler = on_signal as extern "C" fn(c_int) as usize;
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] {
        // SAFETY: the handler only touches atomics.
        unsafe {
            signal(sig, handler);
        }
    }
}
