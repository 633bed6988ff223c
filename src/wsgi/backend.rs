//! Where a request's bytes come from and go to. The Python-facing objects
//! (wsgi.input, start_response/write, wsgi.errors) hold a shared `Channel`
//! to a `Backend`: Apache itself in embedded mode, the daemon socket in
//! daemon mode. The channel is emptied when the request ends, so an object
//! an application keeps afterwards gets an error instead of touching a
//! finished request.
//!
//! Locking rule: the channel's mutex is taken for I/O only with the GIL
//! released (`Channel::io`), so no thread ever waits for it while holding
//! the GIL and blocking someone who needs the GIL.

use super::headers::Status;
use crate::httpd::brigade::Pinned;
use crate::httpd::log::Level;
use crate::python::pinned::PinnedBytes;
use pyo3::prelude::*;
use std::sync::{Arc, Mutex, MutexGuard};

/// Why sending failed.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The client (or the Apache child relaying it) went away.
    ClientGone,
    /// The application broke the protocol (message for the log).
    App(String),
}

/// A request's I/O. Methods marked "GIL held" copy data out of Python
/// objects; the others are called with the GIL released.
pub(crate) trait Backend: Send {
    /// GIL held: status and headers for the response (no I/O yet).
    fn stage_headers(&mut self, status: &Status, headers: &[(Vec<u8>, Vec<u8>)]);
    /// GIL held: a copy of `data` to send with the next `flush`.
    fn stage_data(&mut self, data: &[u8]);
    /// GIL held: a large block of a `bytes` object to send with the next
    /// `flush`, by reference where the backend can (the default copies).
    fn stage_pinned(&mut self, data: PinnedBytes) {
        self.stage_data(data.bytes());
    }
    /// GIL held: `len` bytes of the open file `fd` from `offset`; false if
    /// the file cannot be sent this way (the caller then iterates it).
    fn stage_file(&mut self, fd: i32, offset: i64, len: u64, sendfile: bool) -> bool;
    /// Sends what was staged; `last` ends the response.
    fn flush(&mut self, last: bool) -> Result<(), SendError>;
    /// GIL held: `flush` if it can be done at once without blocking; None
    /// (having sent part, perhaps) when the caller must `flush` with the
    /// GIL released.
    fn try_flush(&mut self, _last: bool) -> Option<Result<(), SendError>> {
        None
    }
    /// Ends a response whose body is incomplete so the client can tell.
    fn abort(&mut self);
    /// Reads request body bytes: Ok(0) at the end.
    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, String>;
    /// Reads until at least `need` bytes (at most `buf.len()`) came or the
    /// body ended: Ok(0) only at the end.
    fn read_body_at_least(&mut self, buf: &mut [u8], need: usize) -> Result<usize, String> {
        let need = need.clamp(1, buf.len().max(1));
        let mut got = 0;
        while got < need {
            match self.read_body(&mut buf[got..])? {
                0 => break,
                n => got += n,
            }
        }
        Ok(got)
    }
    /// Whether `read_body_at_least_into` reads in place (else wsgi.input
    /// keeps reading through its own buffer).
    fn reads_in_place(&self) -> bool {
        false
    }
    /// `read_body_at_least` into memory not yet initialised (a new bytes
    /// object): reads until `need` bytes are filled or the body ended. The
    /// default zeroes the memory once and reads into it.
    fn read_body_at_least_into(
        &mut self,
        buf: &mut crate::os::uninit::UninitBuf<'_>,
        need: usize,
    ) -> Result<(), String> {
        let need = need.min(buf.len());
        while buf.filled() < need {
            match self.read_body(buf.unfilled_zeroed())? {
                0 => break,
                n => buf.advance(n),
            }
        }
        Ok(())
    }
    /// GIL held: body bytes this backend already holds in memory (0 at
    /// the end), or None if getting more would mean I/O.
    fn read_buffered(&mut self, _buf: &mut [u8]) -> Option<usize> {
        None
    }
    /// Logs a message about this request.
    fn log(&mut self, level: Level, msg: &str);
    /// Nothing was sent and the request ends with this error status. In
    /// embedded mode Apache answers it from the handler's return value; a
    /// daemon tells the Apache child.
    fn respond_status(&mut self, _code: u16) {}
    /// The request is over (the application's close() has run): nothing
    /// more will be staged, only a deferred end may still be sent.
    fn closed(&mut self) {}
}

/// The shared, invalidatable handle to a request's backend.
#[derive(Clone)]
pub(crate) struct Channel(Arc<Mutex<Option<Box<dyn Backend>>>>);

impl Channel {
    pub(crate) fn new(backend: Box<dyn Backend>) -> Channel {
        Channel(Arc::new(Mutex::new(Some(backend))))
    }

    fn lock(&self) -> MutexGuard<'_, Option<Box<dyn Backend>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the backend with the GIL held (staging copies only).
    pub(crate) fn stage<R>(&self, f: impl FnOnce(&mut dyn Backend) -> R) -> Option<R> {
        self.lock().as_mut().map(|b| f(b.as_mut()))
    }

    /// Runs `f` on the backend with the GIL released.
    pub(crate) fn io<R: Send>(
        &self,
        py: Python<'_>,
        f: impl FnOnce(&mut dyn Backend) -> R + Send,
    ) -> Option<R> {
        let me = self.clone();
        let (result, asked) = py.detach(move || {
            let r = me.lock().as_mut().map(|b| f(b.as_mut()));
            (r, std::time::Instant::now())
        });
        crate::python::api::gil_wait::retaken(asked);
        result
    }

    /// Ends the request: every later use reports it is over.
    pub(crate) fn close(&self) -> Option<Box<dyn Backend>> {
        let mut backend = self.lock().take();
        if let Some(b) = backend.as_mut() {
            b.closed();
        }
        backend
    }
}

impl crate::python::logstream::RequestLog for Channel {
    fn log(&self, py: Python<'_>, text: &str) -> bool {
        let text = text.to_owned();
        self.io(py, move |b| b.log(Level::Err, &text)).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out its body `step` bytes per read, like Apache's socket reads.
    struct Trickle {
        body: Vec<u8>,
        pos: usize,
        step: usize,
        reads: usize,
    }

    impl Backend for Trickle {
        fn stage_headers(&mut self, _: &Status, _: &[(Vec<u8>, Vec<u8>)]) {}
        fn stage_data(&mut self, _: &[u8]) {}
        fn stage_file(&mut self, _: i32, _: i64, _: u64, _: bool) -> bool {
            false
        }
        fn flush(&mut self, _: bool) -> Result<(), SendError> {
            Ok(())
        }
        fn abort(&mut self) {}
        fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, String> {
            self.reads += 1;
            let n = buf.len().min(self.step).min(self.body.len() - self.pos);
            buf[..n].copy_from_slice(&self.body[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
        fn log(&mut self, _: Level, _: &str) {}
    }

    #[test]
    fn read_body_at_least_gathers_small_reads() {
        let mut t = Trickle {
            body: (0..100u8).collect(),
            pos: 0,
            step: 8,
            reads: 0,
        };
        let mut buf = [0u8; 64];
        assert_eq!(t.read_body_at_least(&mut buf, 30).unwrap(), 32);
        assert_eq!(t.reads, 4);
        assert_eq!(&buf[..32], &(0..32u8).collect::<Vec<_>>()[..]);
        // `need` beyond the buffer is capped; the end stops early.
        assert_eq!(t.read_body_at_least(&mut buf, 1000).unwrap(), 64);
        assert_eq!(t.read_body_at_least(&mut buf, 64).unwrap(), 4);
        assert_eq!(t.read_body_at_least(&mut buf, 64).unwrap(), 0);
        // need 1: one read is enough.
        t.pos = 0;
        t.reads = 0;
        assert_eq!(t.read_body_at_least(&mut buf, 1).unwrap(), 8);
        assert_eq!(t.reads, 1);
    }
}
