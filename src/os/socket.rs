//! Sockets: listening, accepting, buffer sizes, receive timeouts, waiting for
//! readiness, and sending without blocking.

use super::last_error;
use std::io;

/// Sets a listening socket's backlog.
pub(crate) fn listen(fd: i32, backlog: i32) -> io::Result<()> {
    // SAFETY: listen on a socket the caller owns.
    if unsafe { libc::listen(fd, backlog) } != 0 {
        return Err(last_error());
    }
    Ok(())
}

/// Accepts a connection on a listening socket (blocking up to its receive
/// timeout); the new socket is blocking and close-on-exec.
pub(crate) fn accept(fd: i32) -> io::Result<std::os::unix::net::UnixStream> {
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
        // Never on 0-2, which the application may have freed (os::stdio).
        Ok(super::stdio::lifted(
            std::os::unix::net::UnixStream::from_raw_fd(c),
        ))
    }
}

/// Sets SO_SNDBUF / SO_RCVBUF on `fd` (each when given; the kernel
/// doubles the value for its bookkeeping and enforces its limits).
pub(crate) fn set_buffer_sizes(fd: i32, send: Option<u64>, receive: Option<u64>) -> io::Result<()> {
    for (option, size) in [(libc::SO_SNDBUF, send), (libc::SO_RCVBUF, receive)] {
        let Some(size) = size else { continue };
        let size = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        // SAFETY: setsockopt reads one valid c_int.
        let rc = unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                option,
                &size as *const libc::c_int as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if rc != 0 {
            return Err(last_error());
        }
    }
    Ok(())
}

/// Makes blocking accept()/recv() on `fd` give up after `ms` milliseconds
/// (EAGAIN), so threads blocked in accept() can notice a drain. Blocking
/// accept() wakes one waiter per connection, unlike poll().
pub(crate) fn set_receive_timeout(fd: i32, ms: u64) -> io::Result<()> {
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

/// Waits until `fd` is readable or `timeout_ms` passes; true if readable.
pub(crate) fn wait_readable(fd: i32, timeout_ms: i32) -> bool {
    poll_one(fd, libc::POLLIN, timeout_ms)
}

/// Waits until `fd` is writable or `timeout_ms` passes; true if writable
/// (or in error, so that the next write reports the error).
pub(crate) fn wait_writable(fd: i32, timeout_ms: i32) -> bool {
    poll_one(fd, libc::POLLOUT, timeout_ms)
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

/// `send_nowait` for several slices at once (sendmsg; at most 8 slices).
pub(crate) fn send_vectored_nowait(fd: i32, data: &[std::io::IoSlice<'_>]) -> io::Result<usize> {
    let n = data.len().min(8);
    // SAFETY: IoSlice is ABI-compatible with iovec (std guarantees it on
    // Unix); the msghdr points at `n` valid slices that sendmsg only reads.
    let sent = unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = data.as_ptr() as *mut libc::iovec;
        msg.msg_iovlen = n as _;
        libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
    };
    if sent < 0 {
        return Err(last_error());
    }
    Ok(sent as usize)
}

/// Sends what fits into a socket's buffer now, without blocking (whatever
/// the socket's mode): `Err(WouldBlock)` when nothing fits.
pub(crate) fn send_nowait(fd: i32, data: &[u8]) -> io::Result<usize> {
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

/// One recv() of at most `max` bytes into `buf`'s spare capacity (not
/// zero-filled first), appended to what `buf` holds: the number of bytes
/// received, 0 at the end of the stream. The caller reserves the room.
pub(crate) fn recv_append(fd: i32, buf: &mut Vec<u8>, max: usize) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(max);
    // SAFETY: recv writes at most `len` bytes into the spare capacity,
    // which is valid for writes of `spare.len() >= len` bytes.
    let n = unsafe { libc::recv(fd, spare.as_mut_ptr() as *mut libc::c_void, len, 0) };
    if n < 0 {
        return Err(last_error());
    }
    let n = n as usize;
    // SAFETY: recv initialised the first `n <= len` bytes of the spare
    // capacity, right after the `buf.len()` bytes already there.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// One recv() of at most `max` bytes into the unfilled part of `buf`
/// (memory never zeroed): the number of bytes received, 0 at the end of
/// the stream.
pub(crate) fn recv_into(
    fd: i32,
    buf: &mut crate::os::uninit::UninitBuf<'_>,
    max: usize,
) -> io::Result<usize> {
    // SAFETY: recv writes at most `len` bytes at `ptr`, inside the unfilled
    // part; exactly the `n` it reports are marked filled.
    unsafe {
        let (ptr, room) = buf.unfilled_raw();
        let len = room.min(max);
        let n = libc::recv(fd, ptr as *mut libc::c_void, len, 0);
        if n < 0 {
            return Err(last_error());
        }
        buf.assume_filled(n as usize);
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;

    #[test]
    fn recv_into_takes_at_most_max() {
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.write_all(b"hello world").unwrap();
        let mut mem = [std::mem::MaybeUninit::<u8>::uninit(); 8];
        let mut buf = crate::os::uninit::UninitBuf::new(&mut mem);
        assert_eq!(recv_into(b.as_raw_fd(), &mut buf, 5).unwrap(), 5);
        assert_eq!(recv_into(b.as_raw_fd(), &mut buf, 100).unwrap(), 3);
        assert_eq!(buf.filled_bytes(), b"hello wo");
    }

    #[test]
    fn recv_append_adds_to_what_the_buffer_holds() {
        let (mut a, b) = std::os::unix::net::UnixStream::pair().unwrap();
        a.write_all(b"hello world").unwrap();
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(b">");
        assert_eq!(recv_append(b.as_raw_fd(), &mut buf, 5).unwrap(), 5);
        assert_eq!(buf, b">hello");
        assert_eq!(recv_append(b.as_raw_fd(), &mut buf, 100).unwrap(), 6);
        assert_eq!(buf, b">hello world");
        // Never past the capacity reserved.
        let mut small = Vec::with_capacity(2);
        a.write_all(b"xyz").unwrap();
        let cap = small.capacity();
        assert_eq!(recv_append(b.as_raw_fd(), &mut small, 100).unwrap(), cap);
        drop(a);
        let mut rest = Vec::with_capacity(8);
        let left = recv_append(b.as_raw_fd(), &mut rest, 8).unwrap();
        assert_eq!(left, 3 - cap);
        assert_eq!(recv_append(b.as_raw_fd(), &mut rest, 8).unwrap(), 0);
    }
}
