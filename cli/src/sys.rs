//! The C library calls std does not wrap, on the `libc` crate: signals,
//! waitpid, prctl, the effective uid, a user's groups. The only module of
//! this crate with `unsafe`; everything it offers is safe to call.

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use libc::{c_int, SIGHUP, SIGINT};
pub use libc::{SIGKILL, SIGTERM, SIGUSR1};

/// The effective user id.
pub fn euid() -> u32 {
    // SAFETY: geteuid cannot fail and touches no memory of ours.
    unsafe { libc::geteuid() }
}

/// Sends `sig` to `pid`; false when the process does not exist or may not
/// be signalled.
pub fn send(pid: i32, sig: c_int) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill() only reads its integer arguments.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// How a child ended, decoded from a waitpid() status.
#[derive(Clone, Copy, Debug)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl Exit {
    fn from_status(st: c_int) -> Exit {
        if libc::WIFEXITED(st) {
            Exit::Code(libc::WEXITSTATUS(st))
        } else {
            Exit::Signal(libc::WTERMSIG(st))
        }
    }
}

/// Reaps one terminated child without blocking: Some((pid, how)), or None
/// when no child has ended (or there are no children).
pub fn reap_any() -> Option<(i32, Exit)> {
    let mut st: c_int = 0;
    // SAFETY: waitpid writes the status into our local.
    let pid = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
    (pid > 0).then(|| (pid, Exit::from_status(st)))
}

/// Makes this process the reaper of orphaned descendants (Linux), so that
/// processes Apache leaves behind become our children and can be found and
/// stopped.
pub fn become_subreaper() {
    // SAFETY: prctl with integer arguments only.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong);
    }
}

/// Makes the child `cmd` starts ask for SIGTERM when `parent` (this
/// process) dies, and give up if it is already gone by the time it runs.
pub fn die_with_parent(cmd: &mut Command, parent: i32) {
    let in_child = move || {
        // SAFETY: prctl and getppid are async-signal-safe and take integers,
        // as is required between fork and exec.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, SIGTERM as libc::c_ulong);
            if libc::getppid() != parent {
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
        }
        Ok(())
    };
    // SAFETY: the closure only makes async-signal-safe calls (see above)
    // and allocates nothing.
    unsafe {
        cmd.pre_exec(in_child);
    }
}

/// The group ids of user `name` whose primary group is `gid`
/// (getgrouplist); just `gid` when they cannot be read.
pub fn group_list(name: &str, gid: u32) -> Vec<u32> {
    let Ok(cname) = CString::new(name) else {
        return vec![gid];
    };
    let mut groups: Vec<libc::gid_t> = vec![0; 64];
    for _ in 0..4 {
        let mut n = groups.len() as c_int;
        // SAFETY: `cname` is a NUL-terminated string, `groups` has room for
        // `n` entries and getgrouplist writes at most `n` (setting `n` to
        // the number it needs when that is more).
        let r = unsafe { libc::getgrouplist(cname.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
        if r >= 0 {
            groups.truncate(n.max(0) as usize);
            return groups;
        }
        groups.resize((n.max(0) as usize).max(groups.len() * 2), 0);
    }
    vec![gid]
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
    let handler = on_signal as extern "C" fn(c_int) as libc::sighandler_t;
    for sig in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] {
        // SAFETY: the handler only touches atomics; signal() has BSD
        // semantics on glibc (the handler stays, system calls restart).
        unsafe {
            libc::signal(sig, handler);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_statuses() {
        assert!(matches!(Exit::from_status(0x0100), Exit::Code(1)));
        assert!(matches!(Exit::from_status(SIGKILL), Exit::Signal(9)));
        assert!(euid() == 0 || euid() > 0);
        assert!(group_list("root", 0).contains(&0));
    }
}
