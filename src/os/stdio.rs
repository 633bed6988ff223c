//! Keeping the standard descriptors 0-2 open in a process that runs Python
//! applications (an Apache child in embedded mode, a daemon worker).
//!
//! A descriptor number that is freed is the lowest free one, so the next
//! socket the process accepts takes it — in another thread, at any moment:
//! a client's connection in an Apache child, an Apache child's connection
//! in a daemon. Whatever the application (or C code it calls) then writes
//! to "stderr" would reach that peer. So the numbers 0-2 are never left
//! free: [`protect`] makes sure they are open at start and keeps a private
//! duplicate of what they should point at (0: /dev/null; 1 and 2: what fd
//! 2 was at start, the error log in Apache), [`keep_open`] re-points one
//! with `dup2` (atomic: the number is never free) where the application
//! asked to close it, and [`reopen_closed`] is the safety net run after each
//! request: one `poll()` over the three (POLLNVAL means closed). Between a
//! close behind Python's back and that check, a connection accepted or a
//! spool file opened in another thread can still take a free 0-2: [`lift`]
//! moves it off at once (the daemon's accept, Apache's pre_connection hook
//! in embedded mode, `os::tempfile`).

use super::last_error;
use std::io;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::sync::atomic::{AtomicI32, AtomicU8, Ordering};
use std::sync::Mutex;

/// Private close-on-exec duplicates: /dev/null (for 0), the error log (for
/// 1 and 2). -1 until [`protect`] ran.
static NULL_FD: AtomicI32 = AtomicI32::new(-1);
static LOG_FD: AtomicI32 = AtomicI32::new(-1);

/// What a standard descriptor is called in log lines.
pub(crate) fn name(fd: i32) -> &'static str {
    match fd {
        0 => "stdin",
        1 => "stdout",
        _ => "stderr",
    }
}

/// Where [`keep_open`] points a standard descriptor, for log lines.
pub(crate) fn target(fd: i32) -> &'static str {
    if fd == 0 {
        "/dev/null"
    } else {
        "the error log"
    }
}

fn is_open(fd: i32) -> bool {
    // SAFETY: F_GETFD takes no pointer; EBADF means the number is free.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// A close-on-exec duplicate of `fd` numbered 3 or above.
fn dup_high(fd: i32) -> io::Result<i32> {
    // SAFETY: F_DUPFD_CLOEXEC takes no pointer; the new descriptor is ours.
    let d = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    if d < 0 {
        Err(last_error())
    } else {
        Ok(d)
    }
}

/// Makes 0-2 open (0 on /dev/null; 1 and 2 on what 2 points at, or
/// /dev/null when 2 itself is closed) and keeps the duplicates that
/// [`keep_open`] restores them from. Run once, before Python starts and
/// before the process has other threads; later calls do nothing.
pub(crate) fn protect() -> io::Result<()> {
    static ONCE: Mutex<bool> = Mutex::new(false);
    let mut done = ONCE.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return Ok(());
    }
    let open = [is_open(0), is_open(1), is_open(2)];
    // SAFETY: a NUL-terminated path; the descriptor returned is ours.
    let null = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if null < 0 {
        return Err(last_error());
    }
    let null_high = if null < 3 {
        // It filled a free standard number: that one stays /dev/null (as a
        // standard descriptor, inherited across exec), a high copy is kept.
        let high = dup_high(null)?;
        // SAFETY: F_SETFD with 0 clears close-on-exec on our descriptor.
        unsafe { libc::fcntl(null, libc::F_SETFD, 0) };
        high
    } else {
        null
    };
    let log_high = if open[2] {
        dup_high(2)?
    } else {
        dup_high(null_high)?
    };
    for fd in 0..3 {
        if !open[fd as usize] {
            let from = if fd == 0 { null_high } else { log_high };
            // SAFETY: dup2 between descriptors we hold; dup2 clears
            // close-on-exec on the copy, as a standard descriptor has it.
            if unsafe { libc::dup2(from, fd) } < 0 {
                return Err(last_error());
            }
        }
    }
    NULL_FD.store(null_high, Ordering::Release);
    LOG_FD.store(log_high, Ordering::Release);
    *done = true;
    Ok(())
}

/// Re-points standard descriptor `fd` (0-2) at /dev/null (0) or the error
/// log (1, 2) in one `dup2`, so the number is never free. False when `fd`
/// is not 0-2 or [`protect`] has not run (the caller then closes for real).
pub(crate) fn keep_open(fd: i32) -> bool {
    if !(0..3).contains(&fd) {
        return false;
    }
    let from = if fd == 0 { &NULL_FD } else { &LOG_FD }.load(Ordering::Acquire);
    if from < 0 {
        return false;
    }
    // SAFETY: dup2 from a descriptor this module keeps open for the
    // process's life onto a standard number; whatever `fd` was is closed
    // atomically by dup2, as the application asked.
    unsafe { libc::dup2(from, fd) >= 0 }
}

/// Standard numbers [`lift`] found holding a new descriptor, for the log
/// line of [`check_after_request`].
static LIFTED: AtomicU8 = AtomicU8::new(0);

/// A new descriptor `fd` (a connection, a spool file), moved off 0-2: when
/// `fd` is a standard number (the application freed it behind Python's
/// back, and `fd` took it before the after-request check), it gets a
/// close-on-exec copy numbered 3 or above and the number is re-pointed as
/// [`keep_open`] does, so nothing written to "stderr" reaches the peer or
/// the file. Returns the number it now has: `fd` itself when it is 3 or
/// above, when [`protect`] has not run in this process (no Python here),
/// or when the copy cannot be made.
pub(crate) fn lift(fd: i32) -> i32 {
    if !(0..3).contains(&fd) || LOG_FD.load(Ordering::Acquire) < 0 {
        return fd;
    }
    let Ok(high) = dup_high(fd) else {
        return fd;
    };
    if !keep_open(fd) {
        // SAFETY: `high` is the copy just made, owned here.
        unsafe { libc::close(high) };
        return fd;
    }
    LIFTED.fetch_or(1 << fd, Ordering::SeqCst);
    high
}

/// [`lift`] for a descriptor this process owns (a stream, a file).
pub(crate) fn lifted<T: IntoRawFd + FromRawFd>(owned: T) -> T {
    let fd = lift(owned.into_raw_fd());
    // SAFETY: `fd` is the descriptor `owned` held, or the copy lift made
    // of it (the old number was re-pointed, not closed): owned by the
    // value made here alone.
    unsafe { T::from_raw_fd(fd) }
}

/// After a request: one `poll()` over 0-2 (no events asked, no waiting)
/// finds any the application closed behind Python's back (C code, a file
/// object) and reopens it. Returns a bit per descriptor reopened (bit 0 for
/// fd 0…); 0 in the usual case, at the cost of that one system call.
pub(crate) fn reopen_closed() -> u8 {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: poll reads and writes the three-entry array it is given; a
    // timeout of 0 returns at once.
    let n = unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) };
    if n <= 0 {
        return 0;
    }
    let mut reopened = 0;
    for p in &fds {
        if p.revents & libc::POLLNVAL != 0 && keep_open(p.fd) {
            reopened |= 1 << p.fd;
        }
    }
    reopened
}

/// True the first time it is called for `fd` with this `set` of flags (so
/// each kind of event is logged once per process).
pub(crate) fn first_time(set: &AtomicU8, fd: i32) -> bool {
    let bit = 1u8 << (fd & 7);
    set.fetch_or(bit, Ordering::SeqCst) & bit == 0
}

/// Reopens what the application closed during a request (see
/// [`reopen_closed`]) and returns the line to log the first time each
/// descriptor is found closed in this process.
pub(crate) fn check_after_request() -> Option<String> {
    let reopened = reopen_closed() | LIFTED.swap(0, Ordering::SeqCst);
    if reopened == 0 {
        return None;
    }
    static LOGGED: AtomicU8 = AtomicU8::new(0);
    let lines: Vec<String> = (0..3)
        .filter(|fd| reopened & (1 << fd) != 0 && first_time(&LOGGED, *fd))
        .map(|fd| {
            format!(
                "the application closed file descriptor {fd} ({}) during a request (not through \
                 os.close: C code or a file object); reopened on {}: a free number 0-2 would be \
                 taken by the next connection this process accepts, and what is written to it \
                 would reach that peer (logged once per process)",
                name(fd),
                target(fd)
            )
        })
        .collect();
    (!lines.is_empty()).then(|| lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One test: closing a standard descriptor of the test process must not
    /// race with another test polling them.
    #[test]
    fn closed_stdin_is_reopened_and_the_check_costs_one_short_syscall() {
        protect().unwrap();
        assert!(is_open(0) && is_open(1) && is_open(2));
        // The per-request cost: one poll() over three open descriptors.
        let n = 100_000;
        let t = std::time::Instant::now();
        for _ in 0..n {
            assert_eq!(reopen_closed(), 0);
        }
        let per_call = t.elapsed() / n;
        eprintln!("reopen_closed: {per_call:?} per call");
        // A generous bound for a loaded machine (it measures well under 1 µs).
        assert!(
            per_call < std::time::Duration::from_micros(20),
            "{per_call:?}"
        );

        // SAFETY: closing stdin of the test process (nothing reads it).
        unsafe { libc::close(0) };
        assert!(!is_open(0));
        assert_eq!(reopen_closed(), 1);
        assert_eq!(
            std::fs::read_link("/proc/self/fd/0").unwrap(),
            std::path::Path::new("/dev/null")
        );
        assert!(keep_open(0));
        assert!(is_open(0));
        assert!(!keep_open(3));
        assert_eq!(reopen_closed(), 0);

        // A connection that takes a freed 0 is moved off it at once.
        let mut pair = [-1; 2];
        // SAFETY: closing stdin again, then a socketpair writes two
        // descriptors into the array; the lowest free number is 0.
        unsafe {
            libc::close(0);
            assert_eq!(
                libc::socketpair(libc::AF_UNIX, libc::SOCK_STREAM, 0, pair.as_mut_ptr()),
                0
            );
        }
        assert_eq!(pair[0], 0);
        let moved = lift(pair[0]);
        assert!(moved >= 3, "{moved}");
        assert_eq!(
            std::fs::read_link("/proc/self/fd/0").unwrap(),
            std::path::Path::new("/dev/null")
        );
        // The connection still works through its new number.
        // SAFETY: writing 2 bytes from a static buffer to our socket, and
        // reading them into a local one from its peer.
        unsafe {
            assert_eq!(libc::write(moved, b"ok".as_ptr().cast(), 2), 2);
            let mut got = [0u8; 2];
            assert_eq!(libc::read(pair[1], got.as_mut_ptr().cast(), 2), 2);
            assert_eq!(&got, b"ok");
            libc::close(moved);
            libc::close(pair[1]);
        }
        assert_eq!(lift(7), 7);
        // So is a spool file (os::tempfile).
        // SAFETY: closing stdin again.
        unsafe { libc::close(0) };
        let spool = super::super::tempfile::create("a test", "nothing").unwrap();
        assert!(std::os::fd::AsRawFd::as_raw_fd(&spool) >= 3);
        assert!(is_open(0));
        drop(spool);
        // The after-request check reports it (and nothing is left closed).
        let line = check_after_request().unwrap();
        assert!(line.contains("file descriptor 0 (stdin)"), "{line}");
        assert_eq!(check_after_request(), None);
    }

    #[test]
    fn first_time_is_once_per_descriptor() {
        let set = AtomicU8::new(0);
        assert!(first_time(&set, 2));
        assert!(!first_time(&set, 2));
        assert!(first_time(&set, 0));
    }
}
