//! Passing an open file descriptor over a UNIX socket (SCM_RIGHTS), so a
//! daemon can hand a file to the Apache child and Apache sends it itself.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;

const MAX_FDS: usize = 4;

/// Sends `data` with `fd` attached, all of it or an error.
pub(crate) fn send_with_fd(stream: &UnixStream, data: &[u8], fd: RawFd) -> io::Result<()> {
    // SAFETY: builds a msghdr over a valid iovec and a control buffer big
    // enough for one descriptor (CMSG_SPACE), as sendmsg(2) documents.
    let sent = unsafe {
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
        let mut control = vec![0u8; space];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        libc::sendmsg(stream.as_raw_fd(), &msg, libc::MSG_NOSIGNAL)
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let sent = sent as usize;
    if sent < data.len() {
        use std::io::Write;
        (&*stream).write_all(&data[sent..])?;
    }
    Ok(())
}

/// A buffered reader over a UNIX stream that collects descriptors passed
/// with the data; they are handed out in the order they arrived.
pub(crate) struct FdReader {
    fd: RawFd,
    /// Given back to `BUFFERS` on drop.
    buf: std::mem::ManuallyDrop<crate::buffers::Pages>,
    start: usize,
    end: usize,
    fds: VecDeque<RawFd>,
    /// The most one refill of the buffer asks for (see `expect_large`).
    fill_max: usize,
}

impl FdReader {
    pub(crate) fn new(stream: &UnixStream) -> io::Result<FdReader> {
        // A buffer from the process's pool, not the thread's: a few serve
        // every thread of an Apache child (instead of one kept by each
        // thread that ever relayed a request). Its pages are never
        // zero-filled, so only those data was received into are resident.
        // The first refill is small: a small response fits (and a large
        // one's payload goes straight to its destination).
        Ok(FdReader {
            fd: stream.as_raw_fd(),
            buf: std::mem::ManuallyDrop::new(BUFFERS.take()?),
            start: 0,
            end: 0,
            fds: VecDeque::new(),
            fill_max: SMALL_FILL,
        })
    }

    /// Whether large frames are arriving: then a refill asks for a few KiB
    /// only (the next frame's header and the start of its payload), so the
    /// payload is received straight into its destination by
    /// `read_exact_uninit` rather than through this buffer and a copy. The
    /// number of receives per large frame stays two either way.
    pub(crate) fn expect_large(&mut self, large: bool) {
        self.fill_max = if large { SMALL_FILL } else { BUF_LEN };
    }

    /// The oldest descriptor received and not yet taken.
    pub(crate) fn take_fd(&mut self) -> Option<RawFd> {
        self.fds.pop_front()
    }

    /// Bytes already buffered.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn fill(&mut self) -> io::Result<usize> {
        self.start = 0;
        self.end = 0;
        let room = &mut self.buf[..BUF_LEN.min(self.fill_max)];
        let n = recv_into(self.fd, room, &mut self.fds)?;
        self.end = n;
        Ok(n)
    }
}

/// One recvmsg() into `buf`; descriptors passed with the data go to `fds`.
fn recv_into(fd: RawFd, buf: &mut [u8], fds: &mut VecDeque<RawFd>) -> io::Result<usize> {
    recv_raw(fd, buf.as_mut_ptr(), buf.len(), fds)
}

/// One recvmsg() into the `len` writable bytes at `ptr` (initialised or
/// not: recvmsg only writes them).
///
/// A message whose control data did not fit (`MSG_CTRUNC`: the peer passed
/// more descriptors than MAX_FDS, which no daemon does) is a protocol
/// error: the kernel has dropped the descriptors that did not fit, so the
/// stream can no longer be trusted. The descriptors that did arrive are
/// closed and an `InvalidData` error says so; the caller drops the
/// connection and logs it.
fn recv_raw(fd: RawFd, ptr: *mut u8, len: usize, fds: &mut VecDeque<RawFd>) -> io::Result<usize> {
    let mut arrived = Vec::new();
    let mut truncated = false;
    // SAFETY: receives into the caller's `len` writable bytes with a control
    // buffer big enough for MAX_FDS descriptors; every SCM_RIGHTS descriptor
    // found is taken into `arrived`, then either handed to `fds` (closed on
    // drop if never used) or closed below.
    let n = unsafe {
        let mut iov = libc::iovec {
            iov_base: ptr as *mut libc::c_void,
            iov_len: len,
        };
        let space = libc::CMSG_SPACE((MAX_FDS * std::mem::size_of::<RawFd>()) as u32) as usize;
        // u64s: the control buffer must be aligned for cmsghdr.
        let mut control = [0u64; 32];
        debug_assert!(space <= std::mem::size_of_val(&control));
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space.min(std::mem::size_of_val(&control)) as _;
        let n = libc::recvmsg(fd, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n >= 0 {
            truncated = msg.msg_flags & libc::MSG_CTRUNC != 0;
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(cmsg);
                    let bytes = (*cmsg).cmsg_len as usize - (data as usize - cmsg as usize);
                    for i in 0..bytes / std::mem::size_of::<RawFd>() {
                        arrived.push(std::ptr::read_unaligned((data as *const RawFd).add(i)));
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        n
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if truncated {
        let closed = arrived.len();
        for fd in arrived {
            super::fd::close(fd);
        }
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "protocol error: the peer passed more file descriptors in one message than the \
                 {MAX_FDS} expected (control data truncated; {closed} received and closed)"
            ),
        ));
    }
    fds.extend(arrived);
    Ok(n as usize)
}

impl io::Read for FdReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.start == self.end {
            // A large read with nothing buffered goes straight into `out`.
            if out.len() >= BUF_LEN {
                loop {
                    match recv_into(self.fd, out, &mut self.fds) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        r => return r,
                    }
                }
            }
            loop {
                match self.fill() {
                    Ok(0) => return Ok(0),
                    Ok(_) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        let n = out.len().min(self.end - self.start);
        out[..n].copy_from_slice(&self.buf[self.start..self.start + n]);
        self.start += n;
        Ok(n)
    }
}

/// A byte source that can fill memory that was never initialised.
///
/// # Safety
/// When `read_exact_uninit` returns Ok, it has written every byte of `out`.
pub(crate) unsafe trait ReadExactUninit {
    /// Fills all of `out`; UnexpectedEof if the source ends first.
    fn read_exact_uninit(&mut self, out: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<()>;
}

// SAFETY: Ok is returned only once `filled` reached `out.len()`, every byte
// below it having been written by the copy or by recvmsg.
unsafe impl ReadExactUninit for FdReader {
    fn read_exact_uninit(&mut self, out: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<()> {
        // What is buffered first, then straight from the socket into `out`
        // (no copy through the reader's buffer, whatever the size).
        let n = out.len().min(self.end - self.start);
        // SAFETY: copies n bytes from the initialised buffered range into
        // the first n bytes of `out` (n is at most either length; the
        // reader's own Vec and the caller's slice cannot overlap).
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.buf.as_ptr().add(self.start),
                out.as_mut_ptr() as *mut u8,
                n,
            );
        }
        self.start += n;
        let mut filled = n;
        while filled < out.len() {
            let rest = &mut out[filled..];
            match recv_raw(
                self.fd,
                rest.as_mut_ptr() as *mut u8,
                rest.len(),
                &mut self.fds,
            ) {
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(got) => filled += got,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The readers' buffers, shared by the process's threads.
static BUFFERS: crate::buffers::Pool<crate::buffers::Pages> =
    crate::buffers::Pool::new(BUF_LEN, 16);

const BUF_LEN: usize = 64 * 1024;
/// A refill's size while large frames arrive (`expect_large`).
const SMALL_FILL: usize = 4096;

impl Drop for FdReader {
    fn drop(&mut self) {
        // The pool keeps it unless it has enough (then it is unmapped).
        // SAFETY: `buf` is not used again: this is the reader's drop.
        BUFFERS.give(unsafe { std::mem::ManuallyDrop::take(&mut self.buf) });
        for fd in self.fds.drain(..) {
            super::fd::close(fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn passes_a_descriptor_with_data() {
        let (a, b) = UnixStream::pair().unwrap();
        let file = std::fs::File::open("/proc/self/status").unwrap();
        (&a).write_all(b"before").unwrap();
        send_with_fd(&a, b"with-fd", file.as_raw_fd()).unwrap();
        (&a).write_all(b"after").unwrap();
        drop(a);
        let mut r = FdReader::new(&b).unwrap();
        let mut all = Vec::new();
        r.read_to_end(&mut all).unwrap();
        assert_eq!(all, b"beforewith-fdafter");
        let fd = r.take_fd().expect("a descriptor arrived");
        let mut f = unsafe_file(fd);
        let mut text = String::new();
        f.read_to_string(&mut text).unwrap();
        assert!(text.contains("Name:"));
        assert!(r.take_fd().is_none());
    }

    /// Sends `data` with `fds` attached in one message.
    fn send_fds(stream: &UnixStream, data: &[u8], fds: &[RawFd]) {
        let payload = std::mem::size_of_val(fds) as u32;
        // SAFETY: a msghdr over a valid iovec and a u64-aligned control
        // buffer of CMSG_SPACE(payload) bytes holding one SCM_RIGHTS message.
        let sent = unsafe {
            let mut iov = libc::iovec {
                iov_base: data.as_ptr() as *mut libc::c_void,
                iov_len: data.len(),
            };
            let space = libc::CMSG_SPACE(payload) as usize;
            let mut control = vec![0u64; space.div_ceil(8)];
            let mut msg: libc::msghdr = std::mem::zeroed();
            msg.msg_iov = &mut iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            msg.msg_controllen = space as _;
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr(),
                libc::CMSG_DATA(cmsg) as *mut RawFd,
                fds.len(),
            );
            libc::sendmsg(stream.as_raw_fd(), &msg, libc::MSG_NOSIGNAL)
        };
        assert_eq!(sent, data.len() as isize, "{}", io::Error::last_os_error());
    }

    #[test]
    fn too_many_descriptors_is_a_protocol_error_and_closes_what_arrived() {
        let (a, b) = UnixStream::pair().unwrap();
        let (rd, wr) = crate::os::fd::pipe().unwrap();
        let (pipe_rd, pipe_wr) = (unsafe_file(rd), unsafe_file(wr));
        // The pipe's write end, passed more times than the reader takes.
        let many = vec![pipe_wr.as_raw_fd(); MAX_FDS + 2];
        send_fds(&a, b"x", &many);
        drop(pipe_wr);
        let mut r = FdReader::new(&b).unwrap();
        let mut buf = [0u8; 16];
        let e = r.read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
        assert!(e.to_string().contains("protocol error"), "{e}");
        assert!(r.take_fd().is_none());
        // Every copy of the write end is closed (the kernel dropped those
        // that did not fit, the reader closed those that arrived): the
        // read end sees end-of-file instead of blocking.
        let mut rest = Vec::new();
        (&pipe_rd).read_to_end(&mut rest).unwrap();
        assert!(rest.is_empty());
    }

    #[test]
    fn as_many_descriptors_as_expected_arrive() {
        let (a, b) = UnixStream::pair().unwrap();
        let file = std::fs::File::open("/proc/self/status").unwrap();
        send_fds(&a, b"y", &[file.as_raw_fd(); MAX_FDS]);
        let mut r = FdReader::new(&b).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(r.read(&mut buf).unwrap(), 1);
        for _ in 0..MAX_FDS {
            drop(unsafe_file(r.take_fd().expect("a descriptor")));
        }
        assert!(r.take_fd().is_none());
    }

    fn unsafe_file(fd: RawFd) -> std::fs::File {
        use std::os::fd::FromRawFd;
        // SAFETY: the descriptor was just received and is owned by nobody else.
        unsafe { std::fs::File::from_raw_fd(fd) }
    }
}
