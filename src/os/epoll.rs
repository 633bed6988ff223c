//! One epoll instance shared by a daemon process's request threads: the
//! group's listening socket plus the idle connections Apache children keep
//! open between requests. Each connection is armed one-shot, so exactly one
//! thread is handed a connection that has a request waiting (usually the
//! one thread waiting here: `daemon::turns` decides which threads wait).

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

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

    /// Watches an eventfd, level-triggered: every waiting thread sees it.
    pub(crate) fn add_level(&self, fd: i32, token: u64) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, libc::EPOLLIN as u32, token)
    }

    /// Arms a listening socket (non-blocking) for one readable event: one
    /// waiting thread is woken per arming, not every thread (a
    /// level-triggered listener wakes one more waiter each time a woken
    /// thread finds it still readable, most of them only to fail accept()).
    fn arm_listener(&self, fd: i32, token: u64, added: bool) -> io::Result<()> {
        let op = if added {
            libc::EPOLL_CTL_MOD
        } else {
            libc::EPOLL_CTL_ADD
        };
        self.ctl(op, fd, (libc::EPOLLIN | libc::EPOLLONESHOT) as u32, token)
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
/// Token of the wake-up eventfd.
const WAKE: u64 = u64::MAX - 1;

/// A non-blocking, close-on-exec eventfd.
fn eventfd() -> io::Result<std::os::fd::OwnedFd> {
    // SAFETY: eventfd takes no pointers; the new descriptor is owned by
    // the returned value.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) };
    if fd < 0 {
        return Err(super::last_error());
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// The epoll instance and the idle connections parked in it. A parked
/// connection belongs to the set: whoever removes it from the set (the
/// thread its event went to, or a drain) owns the descriptor.
///
/// The set's lock is held only to insert or remove, never across a system
/// call: a connection armed while its next request is already waiting wakes
/// another thread at once, which would otherwise block on the lock of the
/// thread still arming it. A drain (`take_all`) instead waits for parks in
/// progress (`arming`), so it never takes a descriptor not yet armed.
pub(crate) struct Parking {
    epoll: Epoll,
    /// Readable for good once `wake_all` ran: every waiting thread returns.
    wake: std::os::fd::OwnedFd,
    /// The group's listening socket, armed one-shot: the thread its event
    /// goes to accepts (`accept`) and arms it again for the next one.
    listen_fd: i32,
    /// Arming the listener again failed: retried at every `next`.
    listener_unarmed: AtomicBool,
    idle: Mutex<FdSet>,
    /// Read-held by `park` from inserting a connection until it is armed;
    /// write-held by `take_all`.
    arming: RwLock<()>,
    limit: usize,
}

/// A set of descriptors, hashed by a multiplication (no SipHash: the keys
/// are this process's own descriptor numbers).
type FdSet = HashSet<i32, BuildHasherDefault<FdHasher>>;

#[derive(Default)]
struct FdHasher(u64);

impl Hasher for FdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_i32(&mut self, v: i32) {
        // Fibonacci hashing: the high bits (which the table uses) depend
        // on every bit of the number.
        self.0 = u64::from(v as u32).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// What a request thread is handed.
pub(crate) enum Next {
    /// The listening socket is readable: accept with `Parking::accept`.
    Listener,
    /// An idle connection has a request (or its peer closed it).
    Conn(UnixStream),
    /// The timeout passed, or `wake_all` ran.
    Nothing,
}

impl Parking {
    /// Watches `listen_fd` (made non-blocking) and keeps at most `limit`
    /// idle connections.
    pub(crate) fn new(listen_fd: i32, limit: usize) -> io::Result<Parking> {
        super::fd::set_nonblocking(listen_fd, true)?;
        let epoll = Epoll::new()?;
        epoll.arm_listener(listen_fd, LISTENER, false)?;
        let wake = eventfd()?;
        // Level-triggered and never read: once written, every wait returns.
        epoll.add_level(wake.as_raw_fd(), WAKE)?;
        Ok(Parking {
            epoll,
            wake,
            listen_fd,
            listener_unarmed: AtomicBool::new(false),
            idle: Mutex::new(FdSet::default()),
            arming: RwLock::new(()),
            limit,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FdSet> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits up to `timeout_ms` for work. After `Next::Listener` the
    /// caller must call `accept` (which arms the listener again).
    pub(crate) fn next(&self, timeout_ms: i32) -> Next {
        if self.listener_unarmed.load(Ordering::Relaxed) {
            self.rearm_listener();
        }
        match self.epoll.wait(timeout_ms) {
            None | Some(WAKE) => Next::Nothing,
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

    /// Accepts a connection on the listening socket (after
    /// `Next::Listener`; another thread or process may have taken it
    /// first), then arms the listener for the next one: a connection still
    /// waiting wakes one more thread at once.
    pub(crate) fn accept(&self) -> io::Result<UnixStream> {
        let conn = super::socket::accept(self.listen_fd);
        self.rearm_listener();
        conn
    }

    fn rearm_listener(&self) {
        let failed = self
            .epoll
            .arm_listener(self.listen_fd, LISTENER, true)
            .is_err();
        self.listener_unarmed.store(failed, Ordering::Relaxed);
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
        // No drain takes the connection between its insertion and arming.
        let _arming = self.arming.read().unwrap_or_else(|e| e.into_inner());
        let fd = {
            let mut idle = self.lock();
            if !open() || idle.len() >= self.limit {
                return Some(stream);
            }
            let fd = stream.into_raw_fd();
            idle.insert(fd);
            fd
        };
        // Until armed, no event for it can hand it to a thread.
        if self.epoll.arm_once(fd, fd as u64, registered).is_err() && self.lock().remove(&fd) {
            // SAFETY: `fd` came from `stream` and left the set again (it
            // was never armed, and no drain ran meanwhile), so this is its
            // only owner.
            return Some(unsafe { UnixStream::from_raw_fd(fd) });
        }
        None
    }

    /// Wakes every thread waiting in `next`, now and from now on (the
    /// process stops taking work: the threads see it and leave).
    pub(crate) fn wake_all(&self) {
        super::fd::write_fd(self.wake.as_raw_fd(), &1u64.to_ne_bytes());
    }

    /// Takes every idle connection out of the set.
    pub(crate) fn take_all(&self) -> Vec<UnixStream> {
        // Parks in progress finish arming first.
        let _arming = self.arming.write().unwrap_or_else(|e| e.into_inner());
        let fds: Vec<i32> = self.lock().drain().collect();
        fds.into_iter()
            // SAFETY: each descriptor was parked from an owned stream and
            // has just left the set, so this is its only owner.
            .map(|fd| unsafe { UnixStream::from_raw_fd(fd) })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn parked_connections_come_back_once_readable_or_drained() {
        let listener = std::os::unix::net::UnixListener::bind(
            std::env::temp_dir().join(format!("mwr-epoll-{}", std::process::id())),
        );
        let listener = listener.unwrap();
        let p = Parking::new(listener.as_raw_fd(), 2).unwrap();
        let (mut a, b) = UnixStream::pair().unwrap();
        let (_c, d) = UnixStream::pair().unwrap();
        let b_fd = b.as_raw_fd();
        assert!(p.park(b, false, || true).is_none());
        assert!(p.park(d, false, || true).is_none());
        // Full: handed back.
        let (_e, f) = UnixStream::pair().unwrap();
        assert!(p.park(f, false, || true).is_some());
        // Ending: handed back.
        let (_g, h) = UnixStream::pair().unwrap();
        assert!(p.park(h, false, || false).is_some());
        assert!(matches!(p.next(0), Next::Nothing));
        a.write_all(b"x").unwrap();
        match p.next(1000) {
            Next::Conn(s) => assert_eq!(s.as_raw_fd(), b_fd),
            _ => panic!("the readable connection was not handed out"),
        }
        // Armed once: no second event for it.
        assert!(matches!(p.next(0), Next::Nothing));
        // The listener: one event per arming, armed again by `accept`.
        let path = std::env::temp_dir().join(format!("mwr-epoll-{}", std::process::id()));
        let _c1 = UnixStream::connect(&path).unwrap();
        let _c2 = UnixStream::connect(&path).unwrap();
        assert!(matches!(p.next(1000), Next::Listener));
        assert!(matches!(p.next(0), Next::Nothing));
        assert!(p.accept().is_ok());
        assert!(matches!(p.next(1000), Next::Listener));
        assert!(p.accept().is_ok());
        assert!(matches!(p.next(0), Next::Nothing));
        // Once woken, every wait returns at once.
        p.wake_all();
        assert!(matches!(p.next(5000), Next::Nothing));
        assert!(matches!(p.next(5000), Next::Nothing));
        let rest = p.take_all();
        assert_eq!(rest.len(), 1);
        assert!(p.take_all().is_empty());
        let _ = std::fs::remove_file(
            std::env::temp_dir().join(format!("mwr-epoll-{}", std::process::id())),
        );
    }

    #[test]
    fn fd_hasher_spreads_small_numbers() {
        let h = |v: i32| {
            let mut s = FdHasher::default();
            s.write_i32(v);
            s.finish() >> 57
        };
        let tops: HashSet<u64> = (0..64).map(h).collect();
        assert!(tops.len() > 32, "{tops:?}");
    }
}
