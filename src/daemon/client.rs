//! The Apache child's side of a daemon-mode request: connect to the
//! group's socket (retrying while a daemon restarts, up to connect-timeout),
//! send HELLO and ENVIRON, then follow the daemon's frames: feed it the
//! request body when it asks, check and apply the response headers (never
//! trusting them: CR/LF or bad names get a 500), stream the body through
//! Apache's output filters, send passed files as file buckets. A daemon that
//! dies mid-request is reported by pid, not as "truncated headers".

use super::body::{Body, ReceiveError, READ_BLOCK};
use super::registry::{self, Group};
use super::wire::{self, EnvironWriter, Kind, WireError};
use crate::httpd::brigade::Brigade;
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::request::Request;
use crate::os::fdpass::FdReader;
use crate::wsgi::environ::{fmt_i64, Sink};
use crate::wsgi::headers::{check_header_bytes, from_latin1, parse_status_latin1};
use crate::wsgi::variables::{
    now_us, request_variables, Target, X_QUEUE_START_US, X_SCRIPT_MTIME_US,
};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::raw::c_int;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

impl Sink for EnvironWriter {
    fn put(&mut self, key: &[u8], value: &[u8]) {
        EnvironWriter::put(self, key, value)
    }
}

fn connect(group: &Group) -> Result<UnixStream, String> {
    let path = &group.socket_path;
    let deadline =
        Instant::now() + Duration::from_secs(u64::from(group.cfg.connect_timeout.max(1)));
    let mut delay = Duration::from_millis(5);
    loop {
        match UnixStream::connect(path) {
            Ok(s) => return Ok(s),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                let (owner, mode) = std::fs::metadata(path)
                    .map(|m| (m.uid().to_string(), format!("{:o}", m.mode() & 0o777)))
                    .unwrap_or_else(|_| ("?".into(), "?".into()));
                return Err(format!(
                    "permission denied connecting to the socket {path} of daemon process group \
                     '{}' (socket owned by uid {owner}, mode {mode}; this Apache child runs as \
                     uid {}): set socket-user= in WSGIDaemonProcess to the user Apache's \
                     children run as, or check the permissions of WSGISocketPrefix's directory",
                    group.cfg.name,
                    crate::os::identity::current_uid()
                ));
            }
            Err(e) => {
                if Instant::now() >= deadline {
                    return Err(format!(
                        "cannot connect to daemon process group '{}' at {path} within \
                         connect-timeout ({} s): {e}; the group's processes may be failing to \
                         start (see earlier log lines) or all busy",
                        group.cfg.name, group.cfg.connect_timeout
                    ));
                }
                std::thread::sleep(delay);
                delay = (delay * 2).min(Duration::from_millis(250));
            }
        }
    }
}

/// Whether daemon process `pid`, which just closed a connection in the
/// middle of a response, is still running: a process that exits closes its
/// sockets a moment before it becomes a zombie, so give it that moment.
fn daemon_still_running(pid: u32) -> bool {
    let stat = format!("/proc/{pid}/stat");
    let deadline = Instant::now() + Duration::from_millis(100);
    loop {
        match crate::os::process::state_of(&stat) {
            None | Some(b'Z' | b'X') => return false,
            Some(_) if Instant::now() >= deadline => return true,
            Some(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// Logs why the Apache child answers a 5xx for a daemon-side reason, with
/// a recognisable prefix naming the case (`[daemon-5xx connect]`, ...), so
/// failures around restarts can be counted and told apart.
fn log_5xx(r: &Request, case: &str, msg: &str) {
    log::request(r, Level::Err, &format!("[daemon-5xx {case}] {msg}"));
}

/// A DATA frame at least this large makes the reader expect more of them
/// (`FdReader::expect_large`): their payloads then bypass its buffer.
const LARGE_DATA: usize = 16 * 1024;

/// How many times a request is sent again on a new connection that the
/// daemon closed before it said READY (the request never ran: it was in
/// the backlog of a process that stopped accepting, at a restart).
const UNACCEPTED_RETRIES: u32 = 4;

/// How the relay ended.
enum End {
    Done,
    Status(c_int),
    /// The daemon gave up the reused connection (RETRY) without running
    /// the request: send it again on a new connection.
    Retry,
    /// A new connection was closed before READY: the request never ran.
    Unaccepted,
}

/// True when a whole frame header of `kind` is already buffered.
fn frame_is_next(reader: &FdReader, kind: Kind) -> bool {
    let b = reader.buffered();
    b.len() >= 5 && b[0] == kind as u8
}

/// A connection left open by a finished request, and its daemon's pid.
type Idle = (UnixStream, u32);

thread_local! {
    /// The connection this Apache thread's last daemon request left open,
    /// and the socket it goes to.
    static IDLE: std::cell::RefCell<(String, Option<Idle>)> =
        const { std::cell::RefCell::new((String::new(), None)) };
}

/// The idle connection to `path` kept by this thread. It is not probed
/// (no system call): a daemon that gave it up meanwhile makes the request's
/// write fail, or answers it with RETRY, or (gone with the request unread)
/// resets it before a frame came back; in each case the request never ran
/// and is sent again on a new connection (`End::Retry`).
fn take_idle(path: &str) -> Option<Idle> {
    IDLE.with(|c| {
        let mut c = c.borrow_mut();
        let idle = c.1.take()?;
        (c.0 == path).then_some(idle)
    })
}

fn keep_idle(path: &str, idle: Idle) {
    IDLE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0 != path {
            c.0 = path.to_owned();
        }
        c.1 = Some(idle);
    })
}

struct Relay<'a> {
    r: &'a Request,
    group: &'a Group,
    stream: &'a UnixStream,
    bb: Brigade,
    headers_sent: bool,
    pid: u32,
    error_override: bool,
    enable_sendfile: bool,
    /// The request body when it was received before connecting.
    body: Option<Body>,
    /// The daemon sent END, ABORT or STATUS.
    daemon_finished: bool,
    /// Reused for request body chunks.
    read_buf: Vec<u8>,
    /// The connection carried an earlier request.
    reused: bool,
    /// Response bytes passed to the output filters since the last flush.
    unflushed: u64,
    /// A frame came from the daemon.
    heard: bool,
}

impl Relay<'_> {
    fn who(&self) -> String {
        if self.pid == 0 {
            format!("daemon process group '{}'", self.group.cfg.name)
        } else {
            format!(
                "daemon process '{}' (pid {})",
                self.group.cfg.name, self.pid
            )
        }
    }

    /// Something failed: 5xx if nothing was sent yet, else cut the body.
    /// `case` names the failure in the log line's prefix.
    fn failed(&mut self, status: c_int, case: &str, msg: &str) -> End {
        log_5xx(self.r, case, msg);
        if self.headers_sent {
            self.bb.push_broken();
            let _ = self.bb.pass();
            End::Done
        } else {
            End::Status(status)
        }
    }

    fn send(&self, kind: Kind, payload: &[u8]) -> bool {
        wire::write_frame(&mut &*self.stream, kind, payload).is_ok()
    }

    fn feed_body(&mut self, want: u32) -> bool {
        let want = want.clamp(1, wire::MAX_CHUNK) as usize;
        if let Some(body) = self.body.as_mut() {
            // A body held in memory is sent from where it is.
            if let Some(chunk) = body.next_in_memory(want) {
                return if chunk.is_empty() {
                    wire::write_frame(&mut &*self.stream, Kind::BodyEnd, b"").is_ok()
                } else {
                    wire::write_frame(&mut &*self.stream, Kind::Body, chunk).is_ok()
                };
            }
            // One in a temporary file goes from the file to the socket.
            if let Some(sent) = body.send_spooled(self.stream, want) {
                return sent.is_ok();
            }
        }
        // Straight from Apache, in blocks (see READ_BLOCK).
        let mut buf = std::mem::take(&mut self.read_buf);
        let buf_len = want.min(READ_BLOCK);
        if buf.len() < buf_len {
            buf.resize(buf_len, 0);
        }
        let got = self.r.read_body(&mut buf[..buf_len]);
        let sent = self.send_body(&buf, got);
        self.read_buf = buf;
        sent
    }

    fn send_body(&self, buf: &[u8], got: std::io::Result<usize>) -> bool {
        match got {
            Ok(0) => self.send(Kind::BodyEnd, b""),
            Ok(n) => self.send(Kind::Body, &buf[..n]),
            Err(_) => self.send(
                Kind::BodyError,
                &wire::encode_text(
                    3,
                    "the client went away, timed out or sent a malformed body",
                ),
            ),
        }
    }

    fn apply_headers(&mut self, payload: &[u8]) -> Result<Option<c_int>, String> {
        let (status, headers) =
            wire::decode_headers(payload).map_err(|e| format!("bad HEADERS frame: {e}"))?;
        // Checked again here (never trusting the daemon), as bytes, all of
        // them before any is applied.
        let code = parse_status_latin1(status)?;
        for (n, v) in &headers {
            check_header_bytes(n, v)?;
        }
        if self.error_override && code >= 400 {
            return Ok(Some(c_int::from(code)));
        }
        self.r.set_status(code, status);
        for &(name, value) in &headers {
            if name.eq_ignore_ascii_case(b"Content-Type") {
                self.r.set_content_type(value);
            } else {
                let err = name.eq_ignore_ascii_case(b"WWW-Authenticate");
                self.r.add_header_out(err, name, value);
            }
        }
        self.headers_sent = true;
        Ok(None)
    }

    /// Logs a LOG frame from the daemon with this request's context.
    fn log_frame(&self, payload: &[u8]) {
        if let Ok((level, text)) = wire::decode_text(payload) {
            let level = match level {
                0..=2 => Level::Crit,
                3 => Level::Err,
                4 => Level::Warn,
                5 => Level::Notice,
                6 => Level::Info,
                _ => Level::Debug,
            };
            log::request(self.r, level, &String::from_utf8_lossy(text));
        }
    }

    /// After the response ended, the daemon may still log (close() raising,
    /// the last wsgi.errors text) before it closes the connection: the
    /// response has gone to the client already, so wait for those lines.
    /// True when the daemon then said DONE: the connection may carry the
    /// next request.
    fn drain_logs(&self, reader: &mut FdReader) -> bool {
        loop {
            match wire::read_frame(reader, 0) {
                Ok((Kind::Log, payload)) => self.log_frame(&payload),
                Ok((Kind::Done, _)) => return reader.buffered().is_empty(),
                Ok(_) | Err(_) => return false,
            }
        }
    }

    /// Whether the response passed on so far should be flushed to the
    /// client now, as mod_wsgi 6.1 decides: when the daemon has sent
    /// nothing more within response-flush-delay (so a streaming response
    /// goes out promptly, while a fast one goes in full blocks), or when
    /// more than response-buffer-size bytes went by without a flush.
    fn flush_due(&self, reader: &FdReader) -> bool {
        let cfg = &self.group.cfg;
        if self.unflushed > cfg.response_buffer_size {
            return true;
        }
        if !reader.buffered().is_empty() {
            return false;
        }
        let delay = i32::try_from(cfg.response_flush_delay_ms).unwrap_or(i32::MAX);
        !crate::os::socket::wait_readable(self.stream.as_raw_fd(), delay)
    }

    /// How the request ended, and whether its connection may be reused.
    fn run(&mut self, reader: &mut FdReader) -> (End, bool) {
        // response-socket-timeout= (else socket-timeout=) bounds each write
        // of the response to the client, as in mod_wsgi; Apache's Timeout
        // applies again afterwards.
        let cfg = &self.group.cfg;
        let saved = cfg
            .response_socket_timeout
            .or(cfg.socket_timeout)
            .and_then(|secs| {
                let old = self.r.client_socket_timeout()?;
                self.r
                    .set_client_socket_timeout(i64::from(secs) * 1_000_000);
                Some(old)
            });
        let end = self.relay(reader);
        if let Some(old) = saved {
            self.r.set_client_socket_timeout(old);
        }
        // Only when the daemon ended the response itself: after a client
        // went away the connection is dropped so the daemon stops at once.
        if !self.daemon_finished {
            return (end, false);
        }
        // The client gets its response now, not after the app's close()
        // (unless DONE came with the end: close() has run already).
        if !frame_is_next(reader, Kind::Done) {
            self.r.flush_connection();
        }
        let reusable = self.drain_logs(reader);
        (end, reusable)
    }

    fn relay(&mut self, reader: &mut FdReader) -> End {
        let header_limit = self.group.cfg.header_buffer_size as u32;
        loop {
            // A DATA frame's payload is read straight into a bucket's
            // memory (once the headers went out; before, it is an error).
            let headers_sent = self.headers_sent;
            let bb = &mut self.bb;
            let frame = wire::read_frame_head(reader, header_limit).and_then(|(kind, len)| {
                if kind == Kind::Data && headers_sent {
                    bb.push_read(len, reader)?;
                    // After a large block the next is likely large too.
                    reader.expect_large(len >= LARGE_DATA);
                    Ok((kind, Vec::new(), len))
                } else {
                    Ok((kind, wire::read_payload(reader, len)?, len))
                }
            });
            let (kind, payload, len) = match frame {
                Ok(f) => {
                    self.heard = true;
                    f
                }
                Err(
                    e @ (WireError::Closed
                    | WireError::Io(
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe,
                        _,
                    )),
                ) => {
                    // A new connection closed before READY: the process
                    // stopped accepting with it still queued (a restart).
                    if !self.reused && !self.heard {
                        return End::Unaccepted;
                    }
                    // A kept connection reset before any frame came back:
                    // its daemon closed it with the request still unread
                    // (the application never saw it), so it goes again on
                    // a new connection. An orderly close (EOF) is not
                    // retried: the daemon may have read the request.
                    if self.reused
                        && !self.heard
                        && matches!(e, WireError::Io(io::ErrorKind::ConnectionReset, _))
                    {
                        return End::Retry;
                    }
                    let msg = if self.pid != 0 && daemon_still_running(self.pid) {
                        format!(
                            "{} closed the connection before sending a complete response \
                             while still running: it gave the response up (its own log lines \
                             say why)",
                            self.who()
                        )
                    } else {
                        format!(
                            "{} closed the connection before sending a complete response: the \
                             process exited or was killed (the log line about its pid says why)",
                            self.who()
                        )
                    };
                    return self.failed(ffi::HTTP_BAD_GATEWAY, "closed", &msg);
                }
                Err(WireError::Io(io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut, e)) => {
                    let msg = format!(
                        "no response from {} within socket-timeout/request-timeout ({e}); \
                         answering 504",
                        self.who()
                    );
                    return self.failed(ffi::HTTP_GATEWAY_TIME_OUT, "timeout", &msg);
                }
                Err(e) => {
                    let msg = format!("malformed data from {}: {e}", self.who());
                    return self.failed(ffi::HTTP_BAD_GATEWAY, "malformed", &msg);
                }
            };
            match kind {
                Kind::Ready => {
                    self.pid = wire::decode_u32(&payload).unwrap_or(0);
                }
                Kind::Read => {
                    let want = wire::decode_u32(&payload).unwrap_or(0);
                    if !self.feed_body(want) {
                        let msg = format!("lost {} while sending the request body", self.who());
                        return self.failed(ffi::HTTP_BAD_GATEWAY, "body", &msg);
                    }
                }
                Kind::Headers => match self.apply_headers(&payload) {
                    Ok(None) => {}
                    Ok(Some(code)) => return End::Status(code),
                    Err(e) => {
                        let msg = format!("refused the response of {}: {e}", self.who());
                        return self.failed(ffi::HTTP_INTERNAL_SERVER_ERROR, "headers", &msg);
                    }
                },
                Kind::Data => {
                    if !self.headers_sent {
                        let msg = format!("{} sent body data before headers", self.who());
                        return self.failed(ffi::HTTP_BAD_GATEWAY, "protocol", &msg);
                    }
                    // The payload is in the brigade already (push_read).
                    self.unflushed += len as u64;
                    // When the end is already here, send both in one pass.
                    let end_next = frame_is_next(reader, Kind::End);
                    if end_next {
                        let _ = wire::read_frame(reader, 0);
                        self.daemon_finished = true;
                        self.bb.push_eos();
                    } else if self.flush_due(reader) {
                        self.bb.push_flush();
                        self.unflushed = 0;
                    }
                    if self.bb.pass().is_err() {
                        log::request(
                            self.r,
                            Level::Info,
                            "the client closed the connection before the response was complete",
                        );
                        return End::Done;
                    }
                    if end_next {
                        return End::Done;
                    }
                }
                Kind::File => {
                    let Some(fd) = reader.take_fd() else {
                        let msg = format!("{} sent FILE without a descriptor", self.who());
                        return self.failed(ffi::HTTP_BAD_GATEWAY, "protocol", &msg);
                    };
                    let ok = match wire::decode_file(&payload) {
                        Ok((offset, len)) => {
                            self.bb
                                .push_file(fd, offset as i64, len as i64, self.enable_sendfile)
                        }
                        Err(_) => false,
                    };
                    crate::os::fd::close(fd);
                    if !ok {
                        let msg = format!("cannot send the file passed by {}", self.who());
                        return self.failed(ffi::HTTP_INTERNAL_SERVER_ERROR, "file", &msg);
                    }
                }
                Kind::End => {
                    self.daemon_finished = true;
                    if !self.headers_sent {
                        let msg = format!("{} ended the response without headers", self.who());
                        return self.failed(ffi::HTTP_BAD_GATEWAY, "protocol", &msg);
                    }
                    self.bb.push_eos();
                    let _ = self.bb.pass();
                    return End::Done;
                }
                Kind::Abort => {
                    self.daemon_finished = true;
                    self.bb.push_broken();
                    let _ = self.bb.pass();
                    return End::Done;
                }
                Kind::Status => {
                    self.daemon_finished = true;
                    let (code, msg) = wire::decode_status(&payload).unwrap_or((500, b""));
                    if code >= 500 {
                        log_5xx(self.r, "daemon-status", &from_latin1(msg));
                    } else if !msg.is_empty() {
                        log::request(self.r, Level::Err, &from_latin1(msg));
                    }
                    if self.headers_sent {
                        self.bb.push_broken();
                        let _ = self.bb.pass();
                        return End::Done;
                    }
                    return End::Status(c_int::from(code));
                }
                Kind::Log => self.log_frame(&payload),
                Kind::Retry if self.reused && !self.headers_sent => return End::Retry,
                other => {
                    let msg = format!("{} sent an unexpected {other:?} frame", self.who());
                    return self.failed(ffi::HTTP_BAD_GATEWAY, "protocol", &msg);
                }
            }
        }
    }
}

/// Serves `r` through daemon process group `name`.
pub(crate) fn relay(r: &Request, name: &str, t: &Target<'_>) -> c_int {
    let Some(group) = registry::group(name) else {
        log::request(
            r,
            Level::Err,
            &format!(
                "No WSGI daemon process called '{name}' has been configured: add \
                 'WSGIDaemonProcess {name} ...' or fix WSGIProcessGroup / process-group="
            ),
        );
        return ffi::HTTP_INTERNAL_SERVER_ERROR;
    };
    if let Err(e) = super::script_owner::check(&group.cfg, t.script) {
        log::request(r, Level::Err, &e);
        return ffi::HTTP_FORBIDDEN;
    }
    // mod_wsgi.queue_start: this Apache child has taken the request.
    let queue_start = now_us();
    // Receive the body first, so a slow upload holds this Apache thread,
    // not a daemon thread. A client that sent `Expect: 100-continue` gets
    // its 100 from Apache here (as from a buffering proxy), not when the
    // application reads: otherwise adding that header would bypass the
    // buffering. WSGIBufferRequestBody Off leaves the 100 to the app.
    let has_body = r.remaining() > 0 || r.read_chunked();
    // Counted in the metrics while this request holds it.
    let mut held = None;
    let body = if t.config.buffer_request_body && has_body {
        let mut buffered = crate::metrics::body();
        match Body::receive(r) {
            Ok(b) => {
                buffered.add(b.size());
                held = Some(buffered);
                Some(b)
            }
            Err(ReceiveError::Client(e)) => {
                log::request(
                    r,
                    Level::Info,
                    &format!(
                        "could not receive the request body for daemon process group '{name}': {e}"
                    ),
                );
                return ffi::HTTP_BAD_REQUEST;
            }
            Err(ReceiveError::Spool(e)) => {
                log::request(r, Level::Err, &e.to_string());
                return ffi::HTTP_INTERNAL_SERVER_ERROR;
            }
        }
    } else {
        None
    };
    let mut body = body;
    let _held = held;
    let mut idle = take_idle(&group.socket_path);
    let mut unaccepted = 0;
    loop {
        let reused = idle.is_some();
        let (stream, pid) = match idle.take() {
            Some(kept) => kept,
            None => match connect(&group) {
                Ok(s) => {
                    set_timeouts(&group, &s);
                    (s, 0)
                }
                Err(msg) => {
                    log_5xx(r, "connect", &msg);
                    return ffi::HTTP_SERVICE_UNAVAILABLE;
                }
            },
        };
        match attempt(r, &group, t, &stream, body.take(), pid, queue_start) {
            Attempt::Retry(b) if reused => body = b,
            Attempt::Retry(_) => {
                log_5xx(
                    r,
                    "retry-on-new",
                    "a new daemon connection was given up at once",
                );
                return ffi::HTTP_BAD_GATEWAY;
            }
            Attempt::Unaccepted(b, _, case, msg) if unaccepted < UNACCEPTED_RETRIES => {
                unaccepted += 1;
                body = b;
                log::request(
                    r,
                    Level::Info,
                    &format!("[daemon-retry {case}] {msg}; sending it again on a new connection"),
                );
                // The group's socket is being replaced: give it a moment.
                std::thread::sleep(Duration::from_millis(5 << unaccepted));
            }
            Attempt::Unaccepted(_, code, case, msg) => {
                log_5xx(
                    r,
                    case,
                    &format!("{msg} ({} tries on new connections)", unaccepted + 1),
                );
                return code;
            }
            Attempt::Ended(code, Some(pid)) => {
                keep_idle(&group.socket_path, (stream, pid));
                return code;
            }
            Attempt::Ended(code, None) => return code,
        }
    }
}

fn set_timeouts(group: &Group, stream: &UnixStream) {
    let socket_timeout = group
        .cfg
        .socket_timeout
        .unwrap_or_else(crate::httpd::process::server_timeout_secs);
    // With interrupt-timeout= the daemon answers 504 itself once the
    // RequestTimeout it raised has unwound the request: wait that long too.
    let read_timeout = match (group.cfg.request_timeout, group.cfg.interrupt_timeout) {
        (Some(rt), Some(it)) => rt.saturating_add(it).saturating_add(1),
        (Some(rt), None) => rt.min(socket_timeout),
        (None, _) => socket_timeout,
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(u64::from(read_timeout.max(1)))));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(u64::from(socket_timeout.max(1)))));
}

/// How one try at sending the request went.
enum Attempt {
    /// Send it again on a new connection, with its body.
    Retry(Option<Body>),
    /// The handler's status, and the daemon's pid if the connection may be
    /// kept for the next request.
    Ended(c_int, Option<u32>),
    /// A new connection was dropped before the daemon took the request
    /// (it never ran): send it again on another new connection, with its
    /// body; after `UNACCEPTED_RETRIES`, answer the status and log the case
    /// and message.
    Unaccepted(Option<Body>, c_int, &'static str, String),
}

thread_local! {
    /// The buffer this Apache thread builds its requests' HELLO and
    /// ENVIRON in, reused from request to request.
    static REQUEST_BUF: std::cell::Cell<Vec<u8>> = std::cell::Cell::new(Vec::with_capacity(8192));
}

/// A request buffer that grew larger than this (a large environ) is not
/// kept for the thread's next request.
const REQUEST_BUF_KEEP: usize = 64 * 1024;

/// Sends the request on `stream` (reused when the daemon's `pid` is known)
/// and relays the response.
fn attempt(
    r: &Request,
    group: &Group,
    t: &Target<'_>,
    stream: &UnixStream,
    body: Option<Body>,
    pid: u32,
    queue_start: i64,
) -> Attempt {
    let reused = pid != 0;
    let name = &group.cfg.name;
    let Some(secret) = registry::secret(name) else {
        log_5xx(
            r,
            "secret",
            &format!(
                "no secret for daemon process group '{name}' in this Apache child: restart Apache"
            ),
        );
        return Attempt::Ended(ffi::HTTP_INTERNAL_SERVER_ERROR, None);
    };
    // HELLO and ENVIRON go out together from the thread's buffer.
    let mut out = REQUEST_BUF.take();
    out.clear();
    wire::hello(&mut out, &secret, r.request_time());
    let mut env = EnvironWriter::after(out);
    request_variables(r, t, &mut env);
    let mut digits = [0u8; 20];
    env.put(X_QUEUE_START_US, fmt_i64(&mut digits, queue_start));
    if let Some(m) = t.script_mtime_us.filter(|_| t.config.script_reloading) {
        env.put(X_SCRIPT_MTIME_US, fmt_i64(&mut digits, m));
    }
    let out = env.finish();
    let sent = (&*stream).write_all(&out);
    if out.capacity() <= REQUEST_BUF_KEEP {
        REQUEST_BUF.set(out);
    }
    let mut reader = match FdReader::new(stream) {
        Ok(reader) => reader,
        Err(e) => {
            log_5xx(
                r,
                "memory",
                &format!(
                    "cannot map a buffer for the response of daemon process group '{name}': {e}"
                ),
            );
            return Attempt::Ended(ffi::HTTP_INTERNAL_SERVER_ERROR, None);
        }
    };
    if let Err(e) = sent {
        if reused {
            return Attempt::Retry(body);
        }
        // The daemon may have refused the request and said why.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        if let Ok((Kind::Status, p)) = wire::read_frame(&mut reader, 0) {
            let (code, msg) = wire::decode_status(&p).unwrap_or((503, b""));
            log_5xx(r, "daemon-status", &from_latin1(msg));
            return Attempt::Ended(c_int::from(code), None);
        }
        // Else the connection was dropped unaccepted (a process that
        // stopped accepting at a restart): the request never ran.
        return Attempt::Unaccepted(
            body,
            ffi::HTTP_SERVICE_UNAVAILABLE,
            "send",
            format!("cannot send the request to daemon process group '{name}': {e}"),
        );
    }
    let mut relay = Relay {
        r,
        group,
        stream,
        bb: Brigade::new(r),
        headers_sent: false,
        pid,
        error_override: t.config.error_override,
        enable_sendfile: t.config.enable_sendfile,
        body,
        daemon_finished: false,
        read_buf: Vec::new(),
        reused,
        unflushed: 0,
        heard: false,
    };
    let (end, reusable) = relay.run(&mut reader);
    let keep = (reusable && relay.pid != 0).then_some(relay.pid);
    match end {
        End::Retry => Attempt::Retry(relay.body.take()),
        End::Unaccepted => Attempt::Unaccepted(
            relay.body.take(),
            ffi::HTTP_BAD_GATEWAY,
            "closed",
            format!(
                "daemon process group '{name}' closed the connection before sending a complete \
                 response, without accepting the request: its process stopped (a restart) or \
                 refused the connection (see its log lines)"
            ),
        ),
        End::Done => Attempt::Ended(ffi::OK, keep),
        End::Status(code) => Attempt::Ended(code, keep),
    }
}
