//! Raw file descriptors: close, duplicate, non-blocking mode, pipes and
//! small reads and writes on them.

use super::last_error;
use std::io;

/// Closes a raw descriptor this process owns.
pub(crate) fn close(fd: i32) {
    // SAFETY: closing a descriptor the caller owns; errors are irrelevant.
    unsafe { libc::close(fd) };
}

/// A close-on-exec duplicate of a descriptor the caller has open.
pub(crate) fn dup(fd: i32) -> io::Result<std::os::fd::OwnedFd> {
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
pub(crate) fn set_nonblocking(fd: i32, on: bool) -> io::Result<()> {
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

/// A pipe: (read end, write end), both close-on-exec.
pub(crate) fn pipe() -> io::Result<(i32, i32)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 writes two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(last_error());
    }
    Ok((fds[0], fds[1]))
}

/// Writes a whole small message to a pipe (best effort).
pub(crate) fn write_fd(fd: i32, data: &[u8]) -> bool {
    // SAFETY: writes from a valid slice to a descriptor we own.
    unsafe {
        libc::write(fd, data.as_ptr() as *const libc::c_void, data.len()) == data.len() as isize
    }
}

/// Reads what is available from a non-blocking descriptor.
pub(crate) fn read_fd(fd: i32, buf: &mut [u8]) -> usize {
    // SAFETY: reads into a valid buffer from a descriptor we own.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr() as *mut libc::c_void, buf.len()) };
    n.max(0) as usize
}

/// Copies up to `count` bytes of file `from`, starting at `offset`, to
/// `to` inside the kernel (sendfile(2)): how many it copied (0 at the
/// file's end). `to` blocks as its own timeouts say.
pub(crate) fn send_file(to: i32, from: i32, offset: u64, count: usize) -> io::Result<usize> {
    let mut off =
        libc::off_t::try_from(offset).map_err(|_| io::Error::other("offset too large"))?;
    loop {
        // SAFETY: sendfile reads `from` at `off` (updating only `off`, a
        // local) and writes to `to`; both are descriptors the caller owns.
        let n = unsafe { libc::sendfile(to, from, &mut off, count) };
        if n >= 0 {
            return Ok(n as usize);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}
