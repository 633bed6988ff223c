//! Serving one connection in a daemon process: check HELLO (the group's
//! secret), read ENVIRON, answer 503 if the request waited longer than
//! queue-timeout, then run the application with a `DaemonBackend` that
//! speaks the wire protocol back to the Apache child. A process that
//! cannot serve at all refuses every connection with the reason.

use super::outgoing::Outgoing;
use super::registry::{self, Group};
use super::spool::{self, Handoff};
use super::wire::{self, Kind, WireError};
use crate::httpd::log::{self, Level};
use crate::os::{self, signals};
use crate::python::pinned::PinnedBytes;
use crate::wsgi::backend::{Backend, Channel, SendError};
use crate::wsgi::environ::INTERNAL_PREFIX;
use crate::wsgi::headers::{utf8_lossy, Status};
use crate::wsgi::runner::{self, Job, Timing};
use crate::wsgi::variables::{
    X_ENABLE_SENDFILE, X_IGNORE_ACTIVITY, X_QUEUE_START_US, X_SCRIPT_MTIME_US, X_SCRIPT_RELOADING,
};
use pyo3::prelude::*;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

/// Where the response goes: straight to the socket, or (once the Apache
/// child stalled) through a spool and its writer thread.
enum Conn {
    Direct(UnixStream),
    Handed(Handoff),
    /// Only while switching from one to the other.
    Switching,
}

/// The request's I/O over the daemon socket.
pub(crate) struct DaemonBackend {
    conn: Conn,
    /// socket-timeout: the longest a stalled write may wait.
    timeout: Duration,
    out: Outgoing,
    header_limit: usize,
    /// A file to pass (a duplicate: the application may close its own).
    file: Option<(std::os::fd::OwnedFd, u64, u64)>,
    body_done: bool,
    /// END is in `out` (or sent).
    end_queued: bool,
    broken: bool,
    /// Headers too large for header-buffer-size: reported at the next flush.
    header_error: Option<String>,
    /// The last BODY frame and how much of it the application has read.
    body_buf: Vec<u8>,
    body_pos: usize,
    /// Bytes of the last BODY frame's payload still in the socket: a read
    /// into a new bytes object took only what it asked for. They are read
    /// by the next reads, or into `body_buf` before anything is sent (the
    /// Apache child is blocked sending them and reads nothing meanwhile).
    pending: usize,
    /// The connection may carry another request once this one is over.
    keep: bool,
    /// The channel is closed: the application's close() has run.
    closed: bool,
    /// DONE is in `out` (or sent).
    done_queued: bool,
}

thread_local! {
    /// The connection a finished request left open for the next one.
    static KEPT: std::cell::RefCell<Option<UnixStream>> = const { std::cell::RefCell::new(None) };
}

/// How much request body the daemon asks the Apache child for at a time.
const BODY_CHUNK: usize = 256 * 1024;

impl DaemonBackend {
    fn queue_end(&mut self, last: bool) {
        if last && !self.end_queued {
            self.out.put_frame(Kind::End, b"");
            self.end_queued = true;
        }
        // A deferred end goes out after close(): DONE can go with it (not
        // through a spool writer, which closes the connection: see
        // `hand_off`).
        let direct = matches!(self.conn, Conn::Direct(_));
        if self.end_queued && self.closed && self.keep && !self.done_queued && direct {
            self.out.put_frame(Kind::Done, b"");
            self.done_queued = true;
        }
    }

    fn write_out(&mut self) -> Result<(), SendError> {
        if self.broken {
            return Err(SendError::ClientGone);
        }
        if self.pending > 0 {
            self.absorb_pending().map_err(|_| SendError::ClientGone)?;
        }
        if !self.out.is_empty() {
            let r = self.send_out();
            self.out.clear();
            if r.is_err() {
                self.broken = true;
                return Err(SendError::ClientGone);
            }
        }
        Ok(())
    }

    /// Sends `out`. When the Apache child takes nothing for
    /// `spool::STALL_MS` (its client is slow), the rest of the response is
    /// handed to a spool writer so this thread can finish the request.
    fn send_out(&mut self) -> Result<(), ()> {
        let fd = match &self.conn {
            Conn::Direct(s) => s.as_raw_fd(),
            Conn::Handed(h) => {
                for part in self.out.slices().iter() {
                    h.append(part).map_err(log_lost)?;
                }
                return Ok(());
            }
            Conn::Switching => return Err(()),
        };
        loop {
            match send_queued(fd, &mut self.out) {
                Sent::All => return Ok(()),
                Sent::Failed => return Err(()),
                Sent::WouldBlock => {
                    if !os::socket::wait_writable(fd, spool::STALL_MS) {
                        return self.hand_off();
                    }
                }
            }
        }
    }

    fn hand_off(&mut self) -> Result<(), ()> {
        let Conn::Direct(stream) = std::mem::replace(&mut self.conn, Conn::Switching) else {
            return Err(());
        };
        let _ = stream.set_write_timeout(Some(self.timeout));
        let mut pending = self.out.unsent();
        // A spool writer closes the connection when it is done, so DONE
        // (which tells the Apache child to keep the connection for its next
        // request) must not go through it: the child would send that
        // request on a connection about to be closed, and answer 502.
        let done = wire::empty_frame(Kind::Done);
        if self.done_queued {
            if pending.ends_with(&done) {
                pending.truncate(pending.len() - done.len());
                self.done_queued = false;
                self.keep = false;
            } else if pending.len() < done.len() {
                // Only the end of DONE is left: send it here, as without
                // spooling.
                let r = (&stream).write_all(&pending).map_err(|_| ());
                self.conn = Conn::Direct(stream);
                return r;
            }
        }
        match Handoff::start(stream, &pending, |msg| log::server(Level::Warn, msg)) {
            Ok(h) => {
                self.conn = Conn::Handed(h);
                Ok(())
            }
            Err(stream) => {
                // No handoff possible: wait for the Apache child (up to the
                // socket timeout), as without spooling.
                let r = (&stream).write_all(&pending).map_err(|_| ());
                self.conn = Conn::Direct(stream);
                r
            }
        }
    }

    /// Reads the rest of a BODY frame's payload into `body_buf`, after what
    /// the application has not read yet (appended to its allocation, not
    /// zero-filled first).
    fn absorb_pending(&mut self) -> Result<(), String> {
        self.body_buf.drain(..self.body_pos);
        self.body_pos = 0;
        let mut body = std::mem::take(&mut self.body_buf);
        let pending = std::mem::take(&mut self.pending) as u64;
        let read = self
            .with_stream(|s| (&mut &*s).take(pending).read_to_end(&mut body))
            .unwrap_or_else(|| Err(ErrorKind::BrokenPipe.into()));
        self.body_buf = body;
        match read {
            Ok(n) if n as u64 == pending => Ok(()),
            Ok(_) => Err(self.lost(std::io::Error::from(ErrorKind::UnexpectedEof))),
            Err(e) => Err(self.lost(e)),
        }
    }

    /// The Apache child went away in the middle of the body: the
    /// connection is not used again.
    fn lost(&mut self, e: impl std::fmt::Display) -> String {
        self.broken = true;
        self.pending = 0;
        format!("lost the Apache child while reading the body: {e}")
    }

    /// Asks the Apache child for up to `want` more body bytes and reads the
    /// reply's frame header: Ok(n) with a BODY frame's `n` bytes of payload
    /// left in the socket (`pending`), Ok(0) at the end of the body.
    fn request_body(&mut self, want: usize) -> Result<usize, String> {
        let want = want.clamp(BODY_CHUNK, wire::MAX_CHUNK as usize) as u32;
        self.out.put_frame(Kind::Read, &want.to_be_bytes());
        self.write_out()
            .map_err(|_| "the Apache child went away".to_string())?;
        let head = self
            .with_stream(|s| wire::read_frame_head(&mut &*s, 0))
            .unwrap_or(Err(WireError::Closed));
        match head {
            Ok((Kind::Body, n)) if n <= want as usize => {
                self.pending = n;
                Ok(n)
            }
            Ok((Kind::BodyEnd, _)) => {
                self.body_done = true;
                Ok(0)
            }
            Ok((Kind::BodyError, n)) => {
                self.body_done = true;
                let text = self
                    .with_stream(|s| wire::read_payload(&mut &*s, n))
                    .unwrap_or(Err(WireError::Closed))
                    .ok()
                    .and_then(|p| wire::decode_text(&p).ok().map(|(_, t)| t.to_vec()))
                    .unwrap_or_default();
                Err(String::from_utf8_lossy(&text).into_owned())
            }
            Ok((kind, _)) => {
                self.broken = true;
                Err(format!("unexpected {kind:?} frame from the Apache child"))
            }
            Err(e) => Err(self.lost(e)),
        }
    }

    /// Runs `f` on the socket once everything queued has been sent.
    fn with_stream<T>(&self, f: impl FnOnce(&UnixStream) -> T) -> Option<T> {
        match &self.conn {
            Conn::Direct(s) => Some(f(s)),
            Conn::Handed(h) => h.with_stream(f).map_err(log_lost).ok(),
            Conn::Switching => None,
        }
    }
}

/// How far a non-blocking send got.
enum Sent {
    All,
    WouldBlock,
    Failed,
}

/// Sends `out[*sent..]` without blocking, advancing `sent`.
fn send_some(fd: i32, out: &[u8], sent: &mut usize) -> Sent {
    while *sent < out.len() {
        match os::socket::send_nowait(fd, &out[*sent..]) {
            Ok(n) => *sent += n,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Sent::WouldBlock,
            Err(_) => return Sent::Failed,
        }
    }
    Sent::All
}

/// Sends what `out` holds without blocking, counting it off there.
fn send_queued(fd: i32, out: &mut Outgoing) -> Sent {
    while !out.is_empty() {
        match os::socket::send_vectored_nowait(fd, &out.slices()) {
            Ok(n) => out.advance(n),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Sent::WouldBlock,
            Err(_) => return Sent::Failed,
        }
    }
    Sent::All
}

/// A handed-off response failed: the spool's own errors are logged (the
/// Apache child going away is not an error of this process).
fn log_lost(lost: spool::Lost) {
    if let Some(msg) = lost.0 {
        log::server(Level::Err, &msg);
    }
}

impl Backend for DaemonBackend {
    fn stage_headers(&mut self, status: &Status, headers: &[(Vec<u8>, Vec<u8>)]) {
        self.out.release();
        if let Err(len) = self
            .out
            .put_headers(&status.line, headers, self.header_limit)
        {
            let msg = format!(
                "the response headers are {len} bytes, over header-buffer-size ({}); raise \
                 header-buffer-size in WSGIDaemonProcess",
                self.header_limit
            );
            self.header_error = Some(msg);
        }
    }

    fn stage_data(&mut self, data: &[u8]) {
        self.out.release();
        for chunk in data.chunks(wire::MAX_CHUNK as usize) {
            self.out.put_frame(Kind::Data, chunk);
        }
    }

    fn stage_pinned(&mut self, data: PinnedBytes) {
        // Blocks sent earlier are released here, with the GIL held; this
        // one is written from the bytes object itself.
        self.out.release();
        self.out.put_data_block(data);
    }

    fn stage_file(&mut self, fd: i32, offset: i64, len: u64, _sendfile: bool) -> bool {
        let Ok(fd) = os::fd::dup(fd) else {
            return false;
        };
        self.file = Some((fd, offset.max(0) as u64, len));
        true
    }

    fn flush(&mut self, last: bool) -> Result<(), SendError> {
        if let Some(msg) = self.header_error.take() {
            self.out.clear();
            self.out
                .put_frame(Kind::Status, &wire::encode_status(500, &msg));
            let _ = self.write_out();
            self.broken = true;
            return Err(SendError::App(msg));
        }
        if let Some((file, offset, len)) = self.file.take() {
            let fd = file.as_raw_fd();
            self.write_out()?;
            let mut frame = Vec::with_capacity(21);
            wire::put_frame(&mut frame, Kind::File, &wire::encode_file(offset, len));
            let sent = self.with_stream(|s| os::fdpass::send_with_fd(s, &frame, fd));
            if !matches!(sent, Some(Ok(()))) {
                self.broken = true;
                return Err(SendError::ClientGone);
            }
        }
        self.queue_end(last);
        self.write_out()
    }

    fn try_flush(&mut self, last: bool) -> Option<Result<(), SendError>> {
        if self.broken || self.header_error.is_some() || self.file.is_some() || self.pending > 0 {
            return None;
        }
        let Conn::Direct(stream) = &self.conn else {
            return None;
        };
        let fd = stream.as_raw_fd();
        self.queue_end(last);
        match send_queued(fd, &mut self.out) {
            Sent::All => {
                self.out.clear();
                self.out.release();
                Some(Ok(()))
            }
            // What was sent is counted in `out`; the rest goes with the
            // GIL released (`flush`).
            Sent::WouldBlock => None,
            Sent::Failed => {
                self.out.clear();
                self.broken = true;
                Some(Err(SendError::ClientGone))
            }
        }
    }

    fn abort(&mut self) {
        self.keep = false;
        self.out
            .put_frame(Kind::Abort, &wire::encode_text(0, "response cut"));
        let _ = self.write_out();
    }

    fn read_buffered(&mut self, buf: &mut [u8]) -> Option<usize> {
        if self.body_pos < self.body_buf.len() {
            let n = buf.len().min(self.body_buf.len() - self.body_pos);
            buf[..n].copy_from_slice(&self.body_buf[self.body_pos..self.body_pos + n]);
            self.body_pos += n;
            Some(n)
        } else if self.body_done && self.pending == 0 {
            Some(0)
        } else {
            None
        }
    }

    fn read_body(&mut self, buf: &mut [u8]) -> Result<usize, String> {
        if buf.is_empty() {
            return Ok(0);
        }
        // What an earlier BODY frame left over.
        if let Some(n) = self.read_buffered(buf) {
            return Ok(n);
        }
        // Ask for a large chunk whatever the application's read size, so a
        // body read in small blocks costs few round trips (at most
        // BODY_CHUNK bytes are held here). The frame is read straight into
        // `buf`; what does not fit is kept for the next reads.
        if self.pending == 0 && self.request_body(buf.len())? == 0 {
            return Ok(0);
        }
        let n = self.pending.min(buf.len());
        let read = self
            .with_stream(|s| (&mut &*s).read_exact(&mut buf[..n]))
            .unwrap_or_else(|| Err(ErrorKind::BrokenPipe.into()));
        self.pending -= n;
        if let Err(e) = read {
            return Err(self.lost(e));
        }
        if self.pending > 0 {
            self.absorb_pending()?;
        }
        Ok(n)
    }

    fn reads_in_place(&self) -> bool {
        true
    }

    /// A large read goes straight from the socket into the new bytes
    /// object; the rest of the frame stays in the socket for the next read
    /// (read into `body_buf` only if something is sent first).
    fn read_body_at_least_into(
        &mut self,
        buf: &mut crate::os::uninit::UninitBuf<'_>,
        need: usize,
    ) -> Result<(), String> {
        let need = need.min(buf.len());
        while buf.filled() < need {
            if self.body_pos < self.body_buf.len() {
                let n = buf.put(&self.body_buf[self.body_pos..]);
                self.body_pos += n;
                continue;
            }
            if self.pending == 0
                && (self.body_done || self.request_body(buf.len() - buf.filled())? == 0)
            {
                break;
            }
            let max = self.pending;
            let got = self
                .with_stream(|s| os::socket::recv_into(s.as_raw_fd(), buf, max))
                .unwrap_or_else(|| Err(ErrorKind::BrokenPipe.into()));
            match got {
                Ok(0) => return Err(self.lost(std::io::Error::from(ErrorKind::UnexpectedEof))),
                Ok(n) => self.pending -= n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.lost(e)),
            }
        }
        Ok(())
    }

    fn respond_status(&mut self, code: u16) {
        self.out.clear();
        self.out
            .put_frame(Kind::Status, &wire::encode_status(code, ""));
        self.end_queued = true;
        let _ = self.write_out();
    }

    fn closed(&mut self) {
        // Channel::close runs with the GIL held.
        self.out.release();
        self.closed = true;
    }

    fn log(&mut self, level: Level, msg: &str) {
        // Logged by the Apache child, with the request's context.
        let code = match level {
            Level::Crit => 2,
            Level::Err => 3,
            Level::Warn => 4,
            Level::Notice => 5,
            Level::Info => 6,
            Level::Debug => 7,
        };
        self.out.put_frame(Kind::Log, &wire::encode_text(code, msg));
        if self.write_out().is_err() {
            log::server(level, msg);
        }
    }
}

impl Drop for DaemonBackend {
    /// A request that ended cleanly leaves its connection for the next one
    /// (`KEPT`), after DONE tells the Apache child so. This may run with
    /// the GIL held: the DONE send never waits (a full socket means the
    /// connection is simply not kept).
    fn drop(&mut self) {
        if !self.keep || self.broken || !self.end_queued || !self.out.is_empty() || self.pending > 0
        {
            return;
        }
        let Conn::Direct(stream) = std::mem::replace(&mut self.conn, Conn::Switching) else {
            return;
        };
        if !self.done_queued {
            let done = wire::empty_frame(Kind::Done);
            let mut sent = 0;
            if !matches!(send_some(stream.as_raw_fd(), &done, &mut sent), Sent::All) {
                return;
            }
        }
        KEPT.with(|k| *k.borrow_mut() = Some(stream));
    }
}

/// What serving a connection came to.
pub(crate) struct Served {
    /// A request was read (not just the peer closing an idle connection).
    pub(crate) request: bool,
    /// The connection, when it may carry another request.
    pub(crate) keep: Option<UnixStream>,
    /// The request ran under `WSGIIgnoreActivity On`: it does not count as
    /// activity for inactivity-timeout.
    pub(crate) ignore_activity: bool,
}

const NO_REQUEST: Served = Served {
    request: false,
    keep: None,
    ignore_activity: false,
};

/// Gives up an idle connection: RETRY tells its Apache child that a request
/// it may have sent already was not run (the connection is then closed).
pub(crate) fn retire(conn: &UnixStream) {
    let retry = wire::empty_frame(Kind::Retry);
    let mut sent = 0;
    let _ = send_some(conn.as_raw_fd(), &retry, &mut sent);
}

/// Answers a new connection with an error status, without running
/// anything: the request (HELLO, ENVIRON) is read first, so the Apache
/// child is not cut off while still sending it and sees the reason.
pub(crate) fn refuse_request(stream: &UnixStream, code: u16, msg: &str) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    for _ in 0..2 {
        if wire::read_frame(&mut &*stream, 0).is_err() {
            break;
        }
    }
    refuse(stream, code, msg);
}

/// A process that cannot serve (its user does not exist, Python cannot
/// start): it stays up and answers every request at once with a 503 and
/// the reason, instead of leaving requests waiting or restarting in a loop.
/// Fixing it needs a configuration change, hence an Apache restart.
pub(crate) fn refuse_forever(group: &Group, msg: &str) -> ! {
    group.say(
        Level::Crit,
        &format!(
            "{msg}; this process will not serve requests (each gets a 503 naming this reason)"
        ),
    );
    let parent = os::process::parent_pid();
    let reason = format!(
        "daemon process group '{}' cannot serve: {msg}",
        group.cfg.name
    );
    loop {
        if signals::stop_requested() || os::process::parent_pid() != parent {
            group.say(
                Level::Info,
                "stopping: a stop signal arrived (or the Apache parent went away)",
            );
            os::process::exit_now(0);
        }
        if !os::socket::wait_readable(group.listen_fd, 200) {
            continue;
        }
        if let Ok(stream) = os::socket::accept(group.listen_fd) {
            refuse_request(&stream, 503, &reason);
        }
    }
}

/// Answers with an error status in place of a response.
fn refuse(stream: &UnixStream, code: u16, msg: &str) {
    let mut out = Vec::new();
    wire::put_frame(&mut out, Kind::Status, &wire::encode_status(code, msg));
    let _ = (&*stream).write_all(&out);
}

/// How much the first receive of a request asks for.
const RECV_LEN: usize = 8192;
/// A receive buffer that grew larger than this (a large environ) is not
/// kept for the thread's next request.
const RECV_KEEP: usize = 64 * 1024;

thread_local! {
    /// The thread's receive buffer, reused from request to request.
    static RECEIVED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// The thread's receive buffer while a request holds it (given back when
/// the request is over).
struct Received(Vec<u8>);

impl Received {
    fn take() -> Received {
        let mut buf = RECEIVED.with(|b| b.take());
        buf.clear();
        buf.reserve(RECV_LEN);
        Received(buf)
    }
}

impl Drop for Received {
    fn drop(&mut self) {
        if self.0.capacity() <= RECV_KEEP {
            let buf = std::mem::take(&mut self.0);
            let _ = RECEIVED.try_with(|b| b.set(buf));
        }
    }
}

/// Receives until `buf` holds `want` bytes (never more).
fn receive_to(fd: i32, buf: &mut Vec<u8>, want: usize) -> Result<(), WireError> {
    if buf.len() >= want {
        return Ok(());
    }
    buf.reserve(want - buf.len());
    while buf.len() < want {
        match os::socket::recv_append(fd, buf, want - buf.len()) {
            Ok(0) => return Err(WireError::Closed),
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The frame starting at `at` in `buf`, received in full: its kind and
/// where its payload is in `buf`.
fn next_frame(
    fd: i32,
    buf: &mut Vec<u8>,
    at: usize,
) -> Result<(Kind, std::ops::Range<usize>), WireError> {
    receive_to(fd, buf, at + 5)?;
    let mut head = [0u8; 5];
    head.copy_from_slice(&buf[at..at + 5]);
    let (kind, len) = wire::parse_head(&head, 0)?;
    receive_to(fd, buf, at + 5 + len)?;
    Ok((kind, at + 5..at + 5 + len))
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Serves one request on a connection from an Apache child: a new one
/// (`fresh`), or an idle one that became readable. With `keep`, a request
/// that ends cleanly hands the connection back for the next request.
pub(crate) fn serve(
    stream: UnixStream,
    group: &Group,
    pid: u32,
    keep: bool,
    fresh: bool,
) -> Served {
    let request = Served {
        request: true,
        keep: None,
        ignore_activity: false,
    };
    let cfg = &group.cfg;
    let timeout = Duration::from_secs(u64::from(
        cfg.socket_timeout
            .unwrap_or_else(crate::httpd::process::server_timeout_secs),
    ));
    // Writes never wait without a limit: they are non-blocking until a
    // stall hands the response to a spool writer, which sets the socket's
    // write timeout (as does the fallback when no handoff is possible).
    if fresh {
        let _ = stream.set_read_timeout(Some(timeout));
    }
    let Some(secret) = registry::secret(&cfg.name) else {
        log::server(
            Level::Err,
            &format!(
                "daemon process '{}': this process holds no secret for its group, so it \
                 refuses every connection; restart Apache",
                cfg.name
            ),
        );
        return NO_REQUEST;
    };
    // HELLO and ENVIRON usually arrive together: one recv() into the
    // thread's buffer (reused, never zero-filled), more only when ENVIRON
    // is larger. Nothing follows them until the daemon asks (READ).
    let fd = stream.as_raw_fd();
    let mut received = Received::take();
    let buf = &mut received.0;
    loop {
        match os::socket::recv_append(fd, buf, RECV_LEN) {
            Ok(n) if n > 0 => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            _ => return NO_REQUEST,
        }
    }
    // mod_wsgi.daemon_start: this thread has taken the request.
    let daemon_start = now_us();
    let (start, hello_end) = match next_frame(fd, buf, 0) {
        Ok((Kind::Hello, hello)) => match wire::check_hello(&buf[hello.clone()], &secret) {
            Ok(start) => (start, hello.end),
            Err(e) => {
                log::server(
                    Level::Err,
                    &format!(
                        "daemon process '{}': refused a connection that is not from this \
                         Apache for this group ({e})",
                        cfg.name
                    ),
                );
                return NO_REQUEST;
            }
        },
        Ok(_) | Err(_) => return NO_REQUEST,
    };
    let environ = match next_frame(fd, buf, hello_end) {
        Ok((Kind::Environ, p)) => p,
        Ok((kind, _)) => {
            refuse(&stream, 500, &format!("expected ENVIRON, got {kind:?}"));
            return request;
        }
        // The Apache child went away in the middle of the request (it was
        // stopped, or gave the request up): nothing to answer or log.
        Err(WireError::Closed | WireError::Io(ErrorKind::ConnectionReset, _)) => return request,
        Err(e) => {
            refuse(&stream, 500, &format!("bad ENVIRON frame: {e}"));
            return request;
        }
    };
    if buf.len() > environ.end {
        refuse(&stream, 500, "unexpected data after ENVIRON");
        return request;
    }
    let environ = &received.0[environ];
    // READY (the pid) goes out before the application runs, on a new
    // connection only: a reused one's Apache child knows the pid.
    if fresh {
        let ready = wire::u32_frame(Kind::Ready, pid);
        if (&stream).write_all(&ready).is_err() {
            return request;
        }
    }
    if let Some(limit) = cfg.queue_timeout {
        let waited = now_us().saturating_sub(start);
        if waited > i64::from(limit) * 1_000_000 {
            refuse(
                &stream,
                503,
                &format!(
                    "the request waited {:.1} s for a free thread in daemon process group '{}', \
                     over queue-timeout ({limit} s): the group is overloaded (raise processes= or \
                     threads=)",
                    waited as f64 / 1e6,
                    cfg.name
                ),
            );
            return request;
        }
    }
    let pairs = match wire::decode_environ(environ) {
        Ok(p) => p,
        Err(e) => {
            refuse(&stream, 500, &format!("bad ENVIRON frame: {e}"));
            return request;
        }
    };
    let ignore_activity = pairs
        .iter()
        .rev()
        .find(|(k, _)| *k == X_IGNORE_ACTIVITY)
        .is_some_and(|(_, v)| *v == b"1");
    let header_limit = cfg.header_buffer_size as usize;
    spool::set_group(&cfg.name);
    let backend = DaemonBackend {
        conn: Conn::Direct(stream),
        timeout,
        out: Outgoing::with_capacity(16 * 1024),
        header_limit,
        file: None,
        body_done: false,
        end_queued: false,
        broken: false,
        header_error: None,
        body_buf: Vec::new(),
        body_pos: 0,
        pending: 0,
        keep,
        closed: false,
        done_queued: false,
    };
    KEPT.with(|k| k.borrow_mut().take());
    crate::python::thread::ensure();
    crate::metrics::queued(daemon_start - start);
    let _busy = crate::metrics::busy();
    let asked = std::time::Instant::now();
    let finish = Python::attach(|py| {
        crate::python::api::gil_wait::begin(asked.elapsed());
        let get = |k: &[u8]| {
            pairs
                .iter()
                .rev()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| *v)
        };
        // A WSGIHandlerScript runs instead of the file the URL maps to.
        let resource = utf8_lossy(get(b"SCRIPT_FILENAME").unwrap_or_default());
        let handler_script = get(b"mod_wsgi.handler_script")
            .filter(|h| !h.is_empty())
            .map(utf8_lossy);
        // The Apache child's stat of the script, unless this daemon sees
        // another file system (chroot=) or runs a WSGIHandlerScript.
        let script_mtime_us = get(X_SCRIPT_MTIME_US)
            .filter(|_| handler_script.is_none() && cfg.chroot.is_none())
            .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok());
        let script = handler_script.unwrap_or_else(|| resource.clone());
        let callable = utf8_lossy(get(b"mod_wsgi.callable_object").unwrap_or(b"application"));
        let app_group = utf8_lossy(get(b"mod_wsgi.application_group").unwrap_or_default());
        let reloading = get(X_SCRIPT_RELOADING) == Some(b"1");
        let sendfile = get(X_ENABLE_SENDFILE) == Some(b"1");
        let queue_start = get(X_QUEUE_START_US)
            .and_then(|v| std::str::from_utf8(v).ok()?.parse().ok())
            .unwrap_or(0);
        let job = Job {
            script: std::path::Path::new(&*script),
            resource: std::path::Path::new(&*resource),
            application_group: &app_group,
            callable: &callable,
            script_reloading: reloading,
            script_mtime_us,
            error_override: false,
            enable_sendfile: sendfile,
            multithread: cfg.threads > 1,
            multiprocess: cfg.multiprocess,
            timing: Timing {
                request_start_us: start,
                queue_start_us: queue_start,
                daemon_start_us: daemon_start,
            },
        };
        let mut fill = crate::python::environ_dict::EnvironFill::new(py);
        for (k, v) in &pairs {
            if !k.starts_with(INTERNAL_PREFIX) {
                fill.put(k, v);
            }
        }
        let dict = match runner::fixed_entries(py, &job).and_then(|f| fill.finish_with(&f)) {
            Ok(d) => d,
            Err(e) => {
                log::server(Level::Err, &format!("cannot build environ: {e}"));
                return None;
            }
        };
        runner::run(py, &job, &dict, Channel::new(Box::new(backend))).1
    });
    // The GIL is released: send what the response still has staged.
    if let Some(finish) = finish {
        finish.send();
    }
    Served {
        request: true,
        keep: KEPT.with(|k| k.borrow_mut().take()),
        ignore_activity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn next_frame_receives_whole_frames_where_they_start() {
        let (mut a, b) = UnixStream::pair().unwrap();
        let mut sent = Vec::new();
        wire::put_frame(&mut sent, Kind::Hello, b"hi");
        wire::put_frame(&mut sent, Kind::Environ, &[7u8; 3000]);
        // In pieces, the second frame's header split.
        a.write_all(&sent[..9]).unwrap();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            a.write_all(&sent[9..]).unwrap();
            a
        });
        let mut buf = Vec::new();
        let (kind, hello) = next_frame(b.as_raw_fd(), &mut buf, 0).unwrap();
        assert_eq!((kind, &buf[hello.clone()]), (Kind::Hello, &b"hi"[..]));
        let (kind, environ) = next_frame(b.as_raw_fd(), &mut buf, hello.end).unwrap();
        assert_eq!(kind, Kind::Environ);
        assert_eq!(&buf[environ.clone()], &[7u8; 3000][..]);
        // Nothing past the frame is received.
        assert_eq!(buf.len(), environ.end);
        drop(writer.join().unwrap());
    }

    #[test]
    fn a_frame_cut_off_is_closed_not_an_error() {
        let mut frame = Vec::new();
        wire::put_frame(&mut frame, Kind::Environ, &[1u8; 100]);
        // Cut in the header, and in the payload.
        for cut in [3, 50] {
            let (mut a, b) = UnixStream::pair().unwrap();
            a.write_all(&frame[..cut]).unwrap();
            drop(a);
            let mut buf = Vec::new();
            assert_eq!(
                next_frame(b.as_raw_fd(), &mut buf, 0),
                Err(WireError::Closed),
                "cut at {cut}"
            );
        }
    }
}
