//! One epoll instance shared by a daemon process's request threads: the
//! group's listening socket plus the idle connections Apache children keep
//! open between requests. Each connection is armed one-shot, so exactly one
//! thread is handed a connection that has a request waiting.

use std::collections::HashSet;
use std::io;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;

pub(crate) struct Epoll(i32);

impl Epoll {
    pub(crate) fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; the descriptor is owned
        // by the returned value.
        let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if fd < 0 {
            return Err(super::last_error());
        }
        Ok(Epoll(fd))
    }

    fn ctl(&self, op: i32, fd: i32, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: epoll_ctl reads one valid epoll_event.
        if unsafe { libc::epoll_ctl(self.0, op, fd, &mut ev) } != 0 {
            return Err(super::last_error());
        }
        Ok(())
    }

    /// Watches a listening socket (level-triggered: every waiting thread may
    /// try to accept; the socket must be non-blocking).
    pub(crate) fn add_listener(&self, fd: i32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, token)
    }

    /// Arms `fd` for one readable event (adding it the first time).
    pub(crate) fn arm_once(&self, fd: i32, token: u64, added: bool) -> io::Result<()> {
        let events = (libc::EPOLLIN | libc::EPOLLRDHUP | libc::EPOLLONESHOT) as u32;
        let op = if added {
            libc::EPOLL_CTL_MOD
        } else {
            libc::EPOLL_CTL_ADD
        };
        self.ctl(op, fd, events, token)
    }

    /// Waits up to `timeout_ms` for one event: the token of its descriptor.
    pub(crate) fn wait(&self, timeout_ms: i32) -> Option<u64> {
        let mut ev = libc::epoll_event { events: 0, u64: 0 };
        // SAFETY: room for exactly the one event asked for.
        let n = unsafe { libc::epoll_wait(self.0, &mut ev, 1, timeout_ms) };
        if n == 1 {
            Some(ev.u64)
        } else {
            None
        }
    }
}

impl Drop for Epoll {
    fn drop(&mut self) {
        super::fd::close(self.0);
    }
}

/// Token of the listening socket (descriptors are never this large).
const LISTENER: u64 = u64::MAX;

/// The epoll instance and the idle connections parked in it. A parked
/// connection belongs to the set: whoever removes it from the set (the
/// thread its event went to, or a drain) owns the descriptor.
pub(crate) struct Parking {
    epoll: Epoll,
    idle: Mutex<HashSet<i32>>,
    limit: usize,
}

/// What a request thread is handed.
pub(crate) enum Next {
    /// The listening socket is readable: try to accept.
    Listener,
    /// An idle connection has a request (or its peer closed it).
    Conn(UnixStream),
    Nothing,
}

impl Parking {
    /// Watches `listen_fd` (made non-blocking) and keeps at most `limit`
    /// idle connections.
    pub(crate) fn new(listen_fd: i32, limit: usize) -> io::Result<Parking> {
        super::fd::set_nonblocking(listen_fd, true)?;
        let epoll = Epoll::new()?;
        epoll.add_listener(listen_fd, LISTENER)?;
        Ok(Parking {
            epoll,
            idle: Mutex::new(HashSet::new()),
            limit,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<i32>> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits up to `timeout_ms` for work.
    pub(crate) fn next(&self, timeout_ms: i32) -> Next {
        match self.epoll.wait(timeout_ms) {
            None => Next::Nothing,
            Some(LISTENER) => Next::Listener,
            Some(token) => {
                let fd = token as i32;
                if self.lock().remove(&fd) {
                    // SAFETY: `fd` was parked by `park` from an owned
                    // stream and has just left the set, so this is now its
                    // only owner.
                    Next::Conn(unsafe { UnixStream::from_raw_fd(fd) })
                } else {
                    Next::Nothing
                }
            }
        }
    }

    /// Parks an idle connection until its next request; hands it back
    /// instead when `open()` says the process is ending or the set is full.
    /// `registered`: it came from `next` (already in the epoll set).
    pub(crate) fn park(
        &self,
        stream: UnixStream,
        registered: bool,
        open: impl FnOnce() -> bool,
    ) -> Option<UnixStream> {
        let mut idle = self.lock();
        if !open() || idle.len() >= self.limit {
            return Some(stream);
        }
        let fd = stream.into_raw_fd();
        idle.insert(fd);
        if self.epoll.arm_once(fd, fd as u64, registered).is_err() {
            idle.remove(&fd);
            // SAFETY: `fd` came from `stream` and left the set again, so
            // this is its only owner.
            return Some(unsafe { UnixStream::from_raw_fd(fd) });
        }
        None
    }

    /// Takes every idle connection out of the set.
    pub(crate) fn take_all(&self) -> Vec<UnixStream> {
        let fds: Vec<i32> = self.lock().drain().collect();
        fds.into_iter()
            // SAFETY: each descriptor was parked from an owned stream and
            // has just left the set, so this is its only owner.
            .map(|fd| unsafe { UnixStream::from_raw_fd(fd) })
            .collect()
    }
}
