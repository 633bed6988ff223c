//! This process and its children: fork, signals, reaping, exit, the
//! parent's pid, priority, resource limits, umask, and the name and title
//! `ps` shows.

use super::last_error;
use std::io;

/// Forks this (single-threaded) process: Ok(0) in the child, the child's
/// pid in the parent.
pub(crate) fn fork() -> io::Result<i32> {
    // SAFETY: only called from the daemon manager, which never starts
    // threads, so the child gets a consistent copy of the process.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(last_error())
    } else {
        Ok(pid)
    }
}

/// Sends `sig` to `pid`; false if the process does not exist.
pub(crate) fn kill(pid: i32, sig: i32) -> bool {
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Whether process `pid` exists (it may belong to another user).
pub(crate) fn exists(pid: i32) -> bool {
    // SAFETY: signal 0 only checks; kill has no memory preconditions.
    pid > 0
        && (unsafe { libc::kill(pid, 0) } == 0
            || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM))
}

/// Reaps `pid` if it has exited; true when it is gone.
pub(crate) fn try_reap(pid: i32) -> bool {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    r == pid || (r < 0 && !kill(pid, 0))
}

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Exit {
    Code(i32),
    Signal(i32),
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Exit::Code(c) => write!(f, "exited with status {c}"),
            Exit::Signal(s) => write!(f, "was killed by signal {s} ({})", signal_name(s)),
        }
    }
}

/// The conventional name of a signal number.
pub(crate) fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGXCPU => "SIGXCPU: cpu-time-limit reached",
        _ => "signal",
    }
}

/// Reaps any exited child: its pid and how it ended.
pub(crate) fn reap_any() -> Option<(i32, Exit)> {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG writes one int.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    if pid <= 0 {
        return None;
    }
    let exit = if libc::WIFSIGNALED(status) {
        Exit::Signal(libc::WTERMSIG(status))
    } else {
        Exit::Code(libc::WEXITSTATUS(status))
    };
    Some((pid, exit))
}

/// Immediately ends the process (no Rust or C atexit handlers), as a
/// forked daemon must to never run Apache's code paths again.
pub(crate) fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// The parent process id.
pub(crate) fn parent_pid() -> i32 {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() }
}

/// The kernel's id of the calling thread (gettid), asked once per thread
/// (a daemon request thread gives its turn up once per request). A thread
/// keeps its id for its life; a child forked by this thread would inherit
/// the cached value, but the threads that ask never fork.
pub(crate) fn kernel_thread_id() -> i32 {
    thread_local! {
        // SAFETY: gettid has no preconditions.
        static TID: i32 = unsafe { libc::gettid() };
    }
    TID.with(|t| *t)
}

/// Whether thread `tid` of this process is asleep in the kernel (state S
/// or D: blocked, rather than running or waiting for a CPU); None when that
/// cannot be read.
pub(crate) fn thread_asleep(tid: i32) -> Option<bool> {
    let state = state_of(&format!("/proc/self/task/{tid}/stat"))?;
    Some(matches!(state, b'S' | b'D'))
}

/// The state letter (R, S, D, Z...) of the process or thread whose /proc
/// `stat` file is `path`; None when it cannot be read (it is gone).
pub(crate) fn state_of(path: &str) -> Option<u8> {
    state_in(&std::fs::read(path).ok()?)
}

/// The state field of a /proc stat line: after the command in brackets,
/// which may itself hold brackets and spaces.
fn state_in(stat: &[u8]) -> Option<u8> {
    let close = stat.iter().rposition(|&b| b == b')')?;
    stat[close + 1..]
        .iter()
        .copied()
        .find(|b| !b.is_ascii_whitespace())
}

/// Sets this process's scheduling priority (nice value).
pub(crate) fn set_priority(nice: i32) -> io::Result<()> {
    // SAFETY: setpriority on our own process.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
        return Err(last_error());
    }
    Ok(())
}

/// Applies a resource limit (soft and hard) to this process.
pub(crate) fn set_limit(resource: Limit, value: u64) -> io::Result<()> {
    let which = match resource {
        Limit::CpuSeconds => libc::RLIMIT_CPU,
        Limit::AddressSpace => libc::RLIMIT_AS,
    };
    let lim = libc::rlimit {
        rlim_cur: value,
        rlim_max: value,
    };
    // SAFETY: setrlimit reads one valid struct.
    if unsafe { libc::setrlimit(which, &lim) } != 0 {
        return Err(last_error());
    }
    Ok(())
}

#[derive(Clone, Copy)]
pub(crate) enum Limit {
    CpuSeconds,
    AddressSpace,
}

/// Sets the process's umask, returning the previous one.
pub(crate) fn umask(mask: u32) -> u32 {
    // SAFETY: umask has no preconditions.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Sets the name shown by ps/top: the kernel's short name (prctl) and,
/// when `argv0` is the process's argv area, the full command line.
pub(crate) fn set_process_name(name: &str) {
    let short: Vec<u8> = name.bytes().filter(|&b| b != 0).take(15).collect();
    let c = std::ffi::CString::new(short).unwrap_or_default();
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes.
    unsafe { libc::prctl(libc::PR_SET_NAME, c.as_ptr() as libc::c_ulong, 0, 0, 0) };
}

/// Overwrites the process's argv strings (what `ps` shows) with `title`.
///
/// # Safety
/// `argv` must be the process's own argument vector of `argc` entries,
/// whose strings lie contiguously in memory (as the kernel lays them out).
pub(crate) unsafe fn set_process_title(argc: i32, argv: *mut *mut libc::c_char, title: &str) {
    if argc <= 0 || argv.is_null() {
        return;
    }
    // SAFETY: per the caller, argv[0..argc] are valid NUL-terminated
    // strings laid out back to back; we only write within their extent.
    unsafe {
        let start = *argv;
        let last = *argv.add(argc as usize - 1);
        let end = last.add(libc::strlen(last));
        let room = end.offset_from(start) as usize;
        let bytes = title.as_bytes();
        let n = bytes.len().min(room);
        std::ptr::copy_nonoverlapping(bytes.as_ptr() as *const libc::c_char, start, n);
        std::ptr::write_bytes(start.add(n), 0, room + 1 - n);
    }
}

/// An id for the calling thread: pthread_self, which on Linux is also what
/// Python's `threading.get_ident()` returns for it.
pub(crate) fn thread_id() -> u64 {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() as u64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_state_is_read_after_the_command_whatever_it_holds() {
        assert_eq!(state_in(b"12 (wsgi) S 1 2"), Some(b'S'));
        assert_eq!(state_in(b"12 (a) b) R 1 2"), Some(b'R'));
        assert_eq!(state_in(b"12 (x y) D 1"), Some(b'D'));
        assert_eq!(state_in(b"12 (x"), None);
        assert_eq!(state_in(b"12 (x)"), None);
        // This thread is running; a thread blocked in a read is asleep.
        assert_eq!(thread_asleep(kernel_thread_id()), Some(false));
        let (tx, rx) = std::sync::mpsc::channel::<i32>();
        let (_keep, done) = std::sync::mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            tx.send(kernel_thread_id()).unwrap();
            let _ = done.recv();
        });
        let tid = rx.recv().unwrap();
        let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while thread_asleep(tid) != Some(true) {
            assert!(
                std::time::Instant::now() < until,
                "the blocked thread is not asleep"
            );
            std::thread::yield_now();
        }
        drop(_keep);
        t.join().unwrap();
    }
}
