//! Thin safe wrappers over the libc calls daemon mode needs: passing file
//! descriptors over UNIX sockets, changing identity, signals, the process
//! title. Each `unsafe` block here carries its SAFETY note; callers stay
//! safe Rust.

pub mod epoll;
pub mod fdpass;
pub mod identity;
pub mod signals;
pub mod stat;
pub mod tempfile;

use std::io;

/// The last OS error as an io::Error.
pub fn last_error() -> io::Error {
    io::Error::last_os_error()
}

/// Closes a raw descriptor this process owns.
pub fn close(fd: i32) {
    // SAFETY: closing a descriptor the caller owns; errors are irrelevant.
    unsafe { libc::close(fd) };
}

/// A close-on-exec duplicate of a descriptor the caller has open.
pub fn dup(fd: i32) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: F_DUPFD_CLOEXEC takes no pointers; the new descriptor is
    // owned by the returned value.
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
    if d < 0 {
        return Err(last_error());
    }
    // SAFETY: `d` was just created and nothing else owns it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(d) })
}

/// Sets or clears O_NONBLOCK on a descriptor.
pub fn set_nonblocking(fd: i32, on: bool) -> io::Result<()> {
    // SAFETY: fcntl on a descriptor the caller owns.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 {
            return Err(last_error());
        }
        let flags = if on {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        if libc::fcntl(fd, libc::F_SETFL, flags) < 0 {
            return Err(last_error());
        }
    }
    Ok(())
}

/// Makes blocking accept()/recv() on `fd` give up after `ms` milliseconds
/// (EAGAIN), so threads blocked in accept() can notice a drain. Blocking
/// accept() wakes one waiter per connection, unlike poll().
pub fn set_receive_timeout(fd: i32, ms: u64) -> io::Result<()> {
    let tv = libc::timeval {
        tv_sec: (ms / 1000) as libc::time_t,
        tv_usec: ((ms % 1000) * 1000) as libc::suseconds_t,
    };
    // SAFETY: setsockopt reads one valid timeval.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            &tv as *const libc::timeval as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(last_error());
    }
    Ok(())
}

/// Sets a listening socket's backlog.
pub fn listen(fd: i32, backlog: i32) -> io::Result<()> {
    // SAFETY: listen on a socket the caller owns.
    if unsafe { libc::listen(fd, backlog) } != 0 {
        return Err(last_error());
    }
    Ok(())
}

/// Accepts a connection on a listening socket (blocking up to its receive
/// timeout); the new socket is blocking and close-on-exec.
pub fn accept(fd: i32) -> io::Result<std::os::unix::net::UnixStream> {
    use std::os::fd::FromRawFd;
    // SAFETY: accept4 on a listening socket the caller owns; the returned
    // descriptor is new and owned by the stream we wrap it in.
    unsafe {
        let c = libc::accept4(
            fd,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            libc::SOCK_CLOEXEC,
        );
        if c < 0 {
            return Err(last_error());
        }
        Ok(std::os::unix::net::UnixStream::from_raw_fd(c))
    }
}

/// Waits until `fd` is readable or `timeout_ms` passes; true if readable.
pub fn wait_readable(fd: i32, timeout_ms: i32) -> bool {
    poll_one(fd, libc::POLLIN, timeout_ms)
}

/// Polls one descriptor for `events`; true if one of them (or a hang-up or
/// error, which the next I/O call reports) happened within `timeout_ms`.
fn poll_one(fd: i32, events: libc::c_short, timeout_ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events,
        revents: 0,
    };
    // SAFETY: polls one valid pollfd struct.
    let n = unsafe { libc::poll(&mut p, 1, timeout_ms) };
    n > 0 && p.revents & (events | libc::POLLHUP | libc::POLLERR) != 0
}

/// Caps the number of glibc malloc arenas (per-thread heaps) of this
/// process; best effort.
pub fn set_malloc_arenas(n: i32) {
    // SAFETY: mallopt only changes allocator tuning; called before the
    // process starts its threads.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, n) };
}

/// Waits until `fd` is writable or `timeout_ms` passes; true if writable
/// (or in error, so that the next write reports the error).
pub fn wait_writable(fd: i32, timeout_ms: i32) -> bool {
    poll_one(fd, libc::POLLOUT, timeout_ms)
}

/// Sends what fits into a socket's buffer now, without blocking (whatever
/// the socket's mode): `Err(WouldBlock)` when nothing fits.
pub fn send_nowait(fd: i32, data: &[u8]) -> io::Result<usize> {
    // SAFETY: send reads `data.len()` bytes from a valid slice.
    let n = unsafe {
        libc::send(
            fd,
            data.as_ptr() as *const libc::c_void,
            data.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
        )
    };
    if n < 0 {
        return Err(last_error());
    }
    Ok(n as usize)
}

/// The process's resident set size in bytes (from /proc/self/statm).
pub fn rss_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    pages * page
}

/// The parent process id.
pub fn parent_pid() -> i32 {
    // SAFETY: getppid has no preconditions.
    unsafe { libc::getppid() }
}

/// Sends `sig` to `pid`; false if the process does not exist.
pub fn kill(pid: i32, sig: i32) -> bool {
    // SAFETY: kill has no memory preconditions.
    unsafe { libc::kill(pid, sig) == 0 }
}

/// Reaps `pid` if it has exited; true when it is gone.
pub fn try_reap(pid: i32) -> bool {
    let mut status = 0;
    // SAFETY: waitpid with WNOHANG on our own child.
    let r = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    r == pid || (r < 0 && !kill(pid, 0))
}

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
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
pub fn signal_name(sig: i32) -> &'static str {
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
pub fn reap_any() -> Option<(i32, Exit)> {
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

/// Forks this (single-threaded) process: Ok(0) in the child, the child's
/// pid in the parent.
pub fn fork() -> io::Result<i32> {
    // SAFETY: only called from the daemon manager, which never starts
    // threads, so the child gets a consistent copy of the process.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        Err(last_error())
    } else {
        Ok(pid)
    }
}

/// A pipe: (read end, write end), both close-on-exec.
pub fn pipe() -> io::Result<(i32, i32)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(last_error());
    }
    Ok((fds[0], fds[1]))
}

/// Writes a whole small message to a pipe (best effort).
pub fn write_fd(fd: i32, data: &[u8]) -> bool {
    // SAFETY: writes from a valid slice to a descriptor we own.
    unsafe {
        libc::write(fd, data.as_ptr() as *const libc::c_void, data.len()) == data.len() as isize
    }
}

/// Reads what is available from a non-blocking descriptor.
pub fn read_fd(fd: i32, buf: &mut [u8]) -> usize {
    // SAFETY: reads into a valid buffer from a descriptor we own.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
    n.max(0) as usize
}

/// Applies a resource limit (soft and hard) to this process.
pub fn set_limit(resource: Limit, value: u64) -> io::Result<()> {
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
pub enum Limit {
    CpuSeconds,
    AddressSpace,
}

/// Sets this process's scheduling priority (nice value).
pub fn set_priority(nice: i32) -> io::Result<()> {
    // SAFETY: setpriority on our own process.
    if unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) } != 0 {
        return Err(last_error());
    }
    Ok(())
}

/// Immediately ends the process (no Rust or C atexit handlers), as a
/// forked daemon must to never run Apache's code paths again.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and has no preconditions.
    unsafe { libc::_exit(code) }
}

/// Random bytes from the kernel.
pub fn random_bytes(buf: &mut [u8]) -> io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// Sets the process's umask, returning the previous one.
pub fn umask(mask: u32) -> u32 {
    // SAFETY: umask has no preconditions.
    unsafe { libc::umask(mask as libc::mode_t) as u32 }
}

/// Sets the name shown by ps/top: the kernel's short name (prctl) and,
/// when `argv0` is the process's argv area, the full command line.
pub fn set_process_name(name: &str) {
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
pub unsafe fn set_process_title(argc: i32, argv: *mut *mut libc::c_char, title: &str) {
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
