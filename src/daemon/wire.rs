//! The wire protocol between an Apache child and a daemon process, over a
//! UNIX stream socket. Every message is a frame:
//!
//! ```text
//! +--------+----------------------+-----------------------+
//! | kind   | length               | payload               |
//! | 1 byte | 4 bytes, big-endian  | `length` bytes        |
//! +--------+----------------------+-----------------------+
//! ```
//!
//! Each kind has its own maximum length; a frame of an unknown kind or over
//! its limit is refused (the connection is then dropped), never trusted.
//!
//! A request: the Apache child sends HELLO (protocol magic, version, the
//! target group's secret, the request's start time) and ENVIRON. The daemon
//! answers READY (its pid), then pulls the request body with READ frames
//! (the child answers each with BODY, or BODY_END at the end, so
//! `Expect: 100-continue` is only answered when the application reads),
//! and sends HEADERS, DATA / FILE (a file descriptor passed with
//! SCM_RIGHTS, sent by Apache itself) and END. STATUS means "nothing was
//! sent: answer with this status"; ABORT means "the body is incomplete";
//! LOG carries a message to log with the request's context.
//!
//! The connection carries one request at a time and may carry many: after
//! the response (END or STATUS) and the application's close(), a daemon
//! that keeps the connection sends DONE, and the Apache child may send the
//! next request on it (without READY: the pid is known). A daemon that
//! gives up an idle connection sends RETRY before closing it: a request
//! that meets RETRY was not run, and the Apache child sends it again on a
//! new connection.
//!
//! Numbers inside payloads are big-endian; strings are length-prefixed
//! (u32) byte strings.

use std::io::{self, Read, Write};

pub(crate) const MAGIC: &[u8; 4] = b"MWRS";
pub(crate) const VERSION: u16 = 2;
pub use super::registry::SECRET_LEN;

/// The kinds of frame, with the most each may carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
    Hello = 1,
    Environ = 2,
    Body = 3,
    BodyEnd = 4,
    BodyError = 5,
    Ready = 0x10,
    Read = 0x11,
    Headers = 0x12,
    Data = 0x13,
    File = 0x14,
    End = 0x15,
    Abort = 0x16,
    Status = 0x17,
    Log = 0x18,
    Done = 0x19,
    Retry = 0x1a,
}

/// Largest body chunk in one BODY or DATA frame.
pub(crate) const MAX_CHUNK: u32 = 1 << 20;
/// Largest environ (Apache's own header limits keep real ones far below).
pub(crate) const MAX_ENVIRON: u32 = 8 << 20;
/// Largest log message or error text.
pub(crate) const MAX_TEXT: u32 = 64 << 10;

impl Kind {
    pub(crate) fn from_u8(b: u8) -> Option<Kind> {
        use Kind::*;
        Some(match b {
            1 => Hello,
            2 => Environ,
            3 => Body,
            4 => BodyEnd,
            5 => BodyError,
            0x10 => Ready,
            0x11 => Read,
            0x12 => Headers,
            0x13 => Data,
            0x14 => File,
            0x15 => End,
            0x16 => Abort,
            0x17 => Status,
            0x18 => Log,
            0x19 => Done,
            0x1a => Retry,
            _ => return None,
        })
    }

    /// The largest payload this kind may carry. HEADERS is bounded by the
    /// group's header-buffer-size, passed in by the reader.
    pub fn max_len(self, header_limit: u32) -> u32 {
        use Kind::*;
        match self {
            Hello => 4 + 2 + SECRET_LEN as u32 + 8,
            Environ => MAX_ENVIRON,
            Body | Data => MAX_CHUNK,
            BodyEnd | End | Done | Retry => 0,
            Ready | Read => 4,
            File => 16,
            Status => 2 + MAX_TEXT,
            Headers => header_limit,
            BodyError | Abort | Log => 1 + MAX_TEXT,
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    Io(io::ErrorKind, String),
    /// The peer closed the connection between frames.
    Closed,
    UnknownKind(u8),
    TooLarge {
        kind: Kind,
        len: u32,
        max: u32,
    },
    Malformed(&'static str),
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Io(_, e) => write!(f, "{e}"),
            WireError::Closed => write!(f, "connection closed"),
            WireError::UnknownKind(k) => write!(f, "unknown frame kind {k:#04x}"),
            WireError::TooLarge { kind, len, max } => {
                write!(
                    f,
                    "{kind:?} frame of {len} bytes exceeds the limit of {max}"
                )
            }
            WireError::Malformed(what) => write!(f, "malformed frame: {what}"),
        }
    }
}

impl From<io::Error> for WireError {
    fn from(e: io::Error) -> WireError {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            WireError::Closed
        } else {
            WireError::Io(e.kind(), e.to_string())
        }
    }
}

/// Appends a frame header for `len` payload bytes.
pub(crate) fn put_header(out: &mut Vec<u8>, kind: Kind, len: usize) {
    out.push(kind as u8);
    out.extend_from_slice(&(len as u32).to_be_bytes());
}

/// Appends a whole frame.
/// A frame without payload (DONE, RETRY, END...).
pub(crate) fn empty_frame(kind: Kind) -> [u8; 5] {
    [kind as u8, 0, 0, 0, 0]
}

/// A frame carrying one u32 (READY, READ).
pub(crate) fn u32_frame(kind: Kind, v: u32) -> [u8; 9] {
    let mut f = [kind as u8, 0, 0, 0, 4, 0, 0, 0, 0];
    f[5..].copy_from_slice(&v.to_be_bytes());
    f
}

pub(crate) fn put_frame(out: &mut Vec<u8>, kind: Kind, payload: &[u8]) {
    put_header(out, kind, payload.len());
    out.extend_from_slice(payload);
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Reads one frame; `header_limit` bounds HEADERS frames.
pub fn read_frame(r: &mut impl Read, header_limit: u32) -> Result<(Kind, Vec<u8>), WireError> {
    let (kind, len) = read_frame_head(r, header_limit)?;
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok((kind, payload))
}

/// Writes one frame without copying its payload (header and payload in
/// one vectored write where they fit).
pub(crate) fn write_frame(w: &mut impl Write, kind: Kind, payload: &[u8]) -> io::Result<()> {
    let mut head = [0u8; 5];
    head[0] = kind as u8;
    head[1..].copy_from_slice(&(payload.len() as u32).to_be_bytes());
    let total = head.len() + payload.len();
    let mut sent = 0;
    while sent < total {
        let r = if sent < head.len() {
            w.write_vectored(&[io::IoSlice::new(&head[sent..]), io::IoSlice::new(payload)])
        } else {
            w.write(&payload[sent - head.len()..])
        };
        match r {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => sent += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads a frame's payload of `len` bytes (after `read_frame_head`).
pub(crate) fn read_payload(r: &mut impl Read, len: usize) -> Result<Vec<u8>, WireError> {
    let mut payload = vec![0u8; len];
    r.read_exact(&mut payload)?;
    Ok(payload)
}

/// Reads and checks a frame header: its kind and payload length.
pub(crate) fn read_frame_head(
    r: &mut impl Read,
    header_limit: u32,
) -> Result<(Kind, usize), WireError> {
    let mut head = [0u8; 5];
    read_head(r, &mut head)?;
    parse_head(&head, header_limit)
}

/// Checks a frame header already received: its kind and payload length.
pub(crate) fn parse_head(head: &[u8; 5], header_limit: u32) -> Result<(Kind, usize), WireError> {
    let kind = Kind::from_u8(head[0]).ok_or(WireError::UnknownKind(head[0]))?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    let max = kind.max_len(header_limit);
    if len > max {
        return Err(WireError::TooLarge { kind, len, max });
    }
    Ok((kind, len as usize))
}

fn read_head(r: &mut impl Read, head: &mut [u8; 5]) -> Result<(), WireError> {
    let mut got = 0;
    while got < head.len() {
        match r.read(&mut head[got..]) {
            Ok(0) if got == 0 => return Err(WireError::Closed),
            Ok(0) => return Err(WireError::Malformed("truncated frame header")),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A cursor over a payload that refuses to read past its end.
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Cursor<'a> {
        Cursor { buf }
    }

    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Malformed("field runs past the end of the frame"));
        }
        let (a, b) = self.buf.split_at(n);
        self.buf = b;
        Ok(a)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, WireError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub(crate) fn u64(&mut self) -> Result<u64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    pub(crate) fn bytes(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.u32()? as usize;
        self.take(n)
    }

    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }

    pub(crate) fn finish(&self) -> Result<(), WireError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(WireError::Malformed("trailing bytes after the last field"))
        }
    }
}

/// HELLO: magic, version, secret, request start (µs since the epoch),
/// appended to `out`.
pub(crate) fn hello(out: &mut Vec<u8>, secret: &[u8; SECRET_LEN], request_start_us: i64) {
    const LEN: usize = 4 + 2 + SECRET_LEN + 8;
    out.reserve(5 + LEN);
    put_header(out, Kind::Hello, LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_be_bytes());
    out.extend_from_slice(secret);
    out.extend_from_slice(&request_start_us.to_be_bytes());
}

/// Checks a HELLO payload against the expected secret (in constant time);
/// returns the request's start time.
pub fn check_hello(payload: &[u8], secret: &[u8; SECRET_LEN]) -> Result<i64, WireError> {
    let mut c = Cursor::new(payload);
    if c.take(4)? != MAGIC {
        return Err(WireError::Malformed("not a mod_wsgi_rs connection"));
    }
    if c.u16()? != VERSION {
        return Err(WireError::Malformed(
            "protocol version mismatch (Apache and daemon from different builds)",
        ));
    }
    let got = c.take(SECRET_LEN)?;
    let diff = got
        .iter()
        .zip(secret)
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    if diff != 0 {
        return Err(WireError::Malformed("wrong secret"));
    }
    let start = c.u64()? as i64;
    c.finish()?;
    Ok(start)
}

/// Builds an ENVIRON frame incrementally: a count, then key/value pairs.
pub struct EnvironWriter {
    buf: Vec<u8>,
    /// Where the frame starts in `buf` (after what it held before).
    start: usize,
    count: u32,
}

impl Default for EnvironWriter {
    fn default() -> Self {
        EnvironWriter::new()
    }
}

impl EnvironWriter {
    pub fn new() -> EnvironWriter {
        EnvironWriter::after(Vec::with_capacity(4096))
    }

    /// Writes the frame after what `buf` holds already (HELLO, say), so
    /// the request goes out from one buffer, which the caller may reuse.
    pub fn after(mut buf: Vec<u8>) -> EnvironWriter {
        let start = buf.len();
        buf.extend_from_slice(&[0u8; 9]); // frame header + count, filled in later
        EnvironWriter {
            buf,
            start,
            count: 0,
        }
    }

    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.buf.reserve(8 + key.len() + value.len());
        put_bytes(&mut self.buf, key);
        put_bytes(&mut self.buf, value);
        self.count += 1;
    }

    /// The buffer with the finished ENVIRON frame, header included, after
    /// what it held before.
    pub fn finish(mut self) -> Vec<u8> {
        let at = self.start;
        let len = (self.buf.len() - at - 5) as u32;
        self.buf[at] = Kind::Environ as u8;
        self.buf[at + 1..at + 5].copy_from_slice(&len.to_be_bytes());
        self.buf[at + 5..at + 9].copy_from_slice(&self.count.to_be_bytes());
        self.buf
    }
}

/// Name/value byte-string pairs borrowed from a frame.
pub(crate) type HeaderList<'a> = Vec<(&'a [u8], &'a [u8])>;

/// Decodes an ENVIRON payload into pairs (later duplicates win when the
/// caller inserts them in order).
pub fn decode_environ(payload: &[u8]) -> Result<HeaderList<'_>, WireError> {
    let mut c = Cursor::new(payload);
    let n = c.u32()? as usize;
    // Each pair needs at least 8 bytes: refuse counts the payload cannot hold.
    if n > payload.len() / 8 {
        return Err(WireError::Malformed("environ count larger than the frame"));
    }
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let k = c.bytes()?;
        let v = c.bytes()?;
        pairs.push((k, v));
    }
    c.finish()?;
    Ok(pairs)
}

/// HEADERS payload: status line, then name/value pairs.
pub fn encode_headers(status: &[u8], headers: &[(Vec<u8>, Vec<u8>)]) -> Vec<u8> {
    let mut p = Vec::with_capacity(64 + headers.len() * 48);
    put_headers_payload(&mut p, status, headers);
    p
}

fn put_headers_payload(p: &mut Vec<u8>, status: &[u8], headers: &[(Vec<u8>, Vec<u8>)]) {
    let size = 8
        + status.len()
        + headers
            .iter()
            .map(|(n, v)| 8 + n.len() + v.len())
            .sum::<usize>();
    p.reserve(size);
    put_bytes(p, status);
    p.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    for (n, v) in headers {
        put_bytes(p, n);
        put_bytes(p, v);
    }
}

/// Appends a whole HEADERS frame (the payload encoded in place); returns
/// the payload's length.
pub(crate) fn put_headers_frame(
    out: &mut Vec<u8>,
    status: &[u8],
    headers: &[(Vec<u8>, Vec<u8>)],
) -> usize {
    let at = out.len();
    put_header(out, Kind::Headers, 0);
    put_headers_payload(out, status, headers);
    let len = out.len() - at - 5;
    out[at + 1..at + 5].copy_from_slice(&(len as u32).to_be_bytes());
    len
}

/// A decoded HEADERS payload: the status line and the headers.
pub(crate) type DecodedHeaders<'a> = (&'a [u8], HeaderList<'a>);

pub fn decode_headers(payload: &[u8]) -> Result<DecodedHeaders<'_>, WireError> {
    let mut c = Cursor::new(payload);
    let status = c.bytes()?;
    let n = c.u32()? as usize;
    if n > payload.len() / 8 {
        return Err(WireError::Malformed("header count larger than the frame"));
    }
    let mut headers = Vec::with_capacity(n);
    for _ in 0..n {
        let name = c.bytes()?;
        let value = c.bytes()?;
        headers.push((name, value));
    }
    c.finish()?;
    Ok((status, headers))
}

/// STATUS payload: the status code and a message for the log.
pub(crate) fn encode_status(code: u16, message: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(2 + message.len());
    p.extend_from_slice(&code.to_be_bytes());
    p.extend_from_slice(truncate(message.as_bytes()));
    p
}

pub fn decode_status(payload: &[u8]) -> Result<(u16, &[u8]), WireError> {
    let mut c = Cursor::new(payload);
    let code = c.u16()?;
    if !(100..=599).contains(&code) {
        return Err(WireError::Malformed("status code out of range"));
    }
    Ok((code, c.rest()))
}

/// LOG / ABORT / BODY_ERROR payload: a level byte and text.
pub(crate) fn encode_text(level: u8, text: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(1 + text.len());
    p.push(level);
    p.extend_from_slice(truncate(text.as_bytes()));
    p
}

pub fn decode_text(payload: &[u8]) -> Result<(u8, &[u8]), WireError> {
    let mut c = Cursor::new(payload);
    let level = c.take(1)?[0];
    Ok((level, c.rest()))
}

fn truncate(b: &[u8]) -> &[u8] {
    &b[..b.len().min(MAX_TEXT as usize)]
}

/// FILE payload: offset and length of the file whose descriptor travels
/// with the frame.
pub(crate) fn encode_file(offset: u64, len: u64) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&offset.to_be_bytes());
    p[8..].copy_from_slice(&len.to_be_bytes());
    p
}

pub fn decode_file(payload: &[u8]) -> Result<(u64, u64), WireError> {
    let mut c = Cursor::new(payload);
    let offset = c.u64()?;
    let len = c.u64()?;
    c.finish()?;
    Ok((offset, len))
}

pub fn decode_u32(payload: &[u8]) -> Result<u32, WireError> {
    let mut c = Cursor::new(payload);
    let v = c.u32()?;
    c.finish()?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(bytes: &[u8]) -> Vec<(Kind, Vec<u8>)> {
        let mut r = bytes;
        let mut out = Vec::new();
        loop {
            match read_frame(&mut r, 32768) {
                Ok(f) => out.push(f),
                Err(WireError::Closed) => return out,
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn hello_round_trip_and_secret_check() {
        let secret = [7u8; SECRET_LEN];
        let mut out = Vec::new();
        hello(&mut out, &secret, 1234);
        let f = frames(&out);
        assert_eq!(f[0].0, Kind::Hello);
        assert_eq!(check_hello(&f[0].1, &secret), Ok(1234));
        let other = [8u8; SECRET_LEN];
        assert_eq!(
            check_hello(&f[0].1, &other),
            Err(WireError::Malformed("wrong secret"))
        );
        let mut bad = f[0].1.clone();
        bad[0] = b'X';
        assert!(check_hello(&bad, &secret).is_err());
        assert!(check_hello(&f[0].1[..10], &secret).is_err());
    }

    #[test]
    fn environ_round_trip() {
        let mut w = EnvironWriter::new();
        w.put(b"REQUEST_METHOD", b"GET");
        w.put(b"PATH_INFO", b"/caf\xe9");
        w.put(b"EMPTY", b"");
        let frame = w.finish();
        let f = frames(&frame);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].0, Kind::Environ);
        let pairs = decode_environ(&f[0].1).unwrap();
        assert_eq!(
            pairs,
            vec![
                (&b"REQUEST_METHOD"[..], &b"GET"[..]),
                (&b"PATH_INFO"[..], &b"/caf\xe9"[..]),
                (&b"EMPTY"[..], &b""[..])
            ]
        );
    }

    #[test]
    fn environ_after_hello_in_one_buffer() {
        let secret = [9u8; SECRET_LEN];
        let mut buf = Vec::new();
        hello(&mut buf, &secret, -5);
        let hello_len = buf.len();
        let mut w = EnvironWriter::after(buf);
        w.put(b"A", b"1");
        w.put(b"B", b"");
        let buf = w.finish();
        let f = frames(&buf);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].0, Kind::Hello);
        assert_eq!(check_hello(&f[0].1, &secret), Ok(-5));
        assert_eq!(f[1].0, Kind::Environ);
        assert_eq!(
            decode_environ(&f[1].1).unwrap(),
            vec![(&b"A"[..], &b"1"[..]), (&b"B"[..], &b""[..])]
        );
        // The same as the frame written on its own.
        let mut alone = EnvironWriter::new();
        alone.put(b"A", b"1");
        alone.put(b"B", b"");
        assert_eq!(&buf[hello_len..], &alone.finish()[..]);
        // A reused buffer, cleared, gives the same bytes again.
        let mut again = buf;
        again.clear();
        hello(&mut again, &secret, -5);
        let mut w = EnvironWriter::after(again);
        w.put(b"A", b"1");
        w.put(b"B", b"");
        assert_eq!(frames(&w.finish()), f);
    }

    #[test]
    fn headers_frame_in_place_matches_encode_headers() {
        let h = vec![
            (b"Content-Type".to_vec(), b"text/plain".to_vec()),
            (b"X-Empty".to_vec(), Vec::new()),
        ];
        let mut out = b"prefix".to_vec();
        let len = put_headers_frame(&mut out, b"200 OK", &h);
        let mut want = b"prefix".to_vec();
        put_frame(&mut want, Kind::Headers, &encode_headers(b"200 OK", &h));
        assert_eq!(out, want);
        assert_eq!(len, want.len() - 6 - 5);
    }

    #[test]
    fn malformed_environ_is_refused() {
        // Count says 1000 pairs, frame holds none.
        assert!(decode_environ(&1000u32.to_be_bytes()).is_err());
        // A key length running past the end.
        let mut p = 1u32.to_be_bytes().to_vec();
        p.extend_from_slice(&100u32.to_be_bytes());
        p.extend_from_slice(b"abc");
        assert!(decode_environ(&p).is_err());
        // Trailing garbage.
        let mut w = EnvironWriter::new();
        w.put(b"A", b"B");
        let mut frame = w.finish();
        frame.push(0);
        assert!(decode_environ(&frame[5..]).is_err());
        // Truncated input.
        assert!(decode_environ(&[0, 0]).is_err());
    }

    #[test]
    fn oversized_and_unknown_frames_are_refused() {
        let mut out = Vec::new();
        put_header(&mut out, Kind::Data, (MAX_CHUNK + 1) as usize);
        let err = read_frame(&mut &out[..], 32768).unwrap_err();
        assert!(matches!(
            err,
            WireError::TooLarge {
                kind: Kind::Data,
                ..
            }
        ));
        let mut out = Vec::new();
        put_header(&mut out, Kind::Headers, 40000);
        assert!(matches!(
            read_frame(&mut &out[..], 32768),
            Err(WireError::TooLarge {
                kind: Kind::Headers,
                ..
            })
        ));
        let out = [0x99u8, 0, 0, 0, 0];
        assert_eq!(
            read_frame(&mut &out[..], 32768),
            Err(WireError::UnknownKind(0x99))
        );
        let mut out = Vec::new();
        put_header(&mut out, Kind::End, 1);
        assert!(read_frame(&mut &out[..], 32768).is_err());
    }

    #[test]
    fn truncated_frames_are_errors_not_hangs() {
        let mut out = Vec::new();
        put_frame(&mut out, Kind::Data, b"hello");
        assert_eq!(
            read_frame(&mut &out[..3], 32768),
            Err(WireError::Malformed("truncated frame header"))
        );
        assert_eq!(read_frame(&mut &out[..7], 32768), Err(WireError::Closed));
        assert_eq!(read_frame(&mut &b""[..], 32768), Err(WireError::Closed));
    }

    #[test]
    fn headers_round_trip_and_bounds() {
        let h = vec![
            (b"Content-Type".to_vec(), b"text/plain".to_vec()),
            (b"X-A".to_vec(), b"".to_vec()),
        ];
        let p = encode_headers(b"200 OK", &h);
        let (status, got) = decode_headers(&p).unwrap();
        assert_eq!(status, b"200 OK");
        assert_eq!(
            got,
            vec![
                (&b"Content-Type"[..], &b"text/plain"[..]),
                (&b"X-A"[..], &b""[..])
            ]
        );
        assert!(decode_headers(&p[..p.len() - 1]).is_err());
        let mut huge = encode_headers(b"200 OK", &[]);
        let at = 4 + 6;
        huge[at..at + 4].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(decode_headers(&huge).is_err());
    }

    #[test]
    fn small_payloads_round_trip() {
        assert_eq!(
            decode_status(&encode_status(504, "slow")).unwrap(),
            (504, &b"slow"[..])
        );
        assert!(decode_status(&encode_status(999, "x")).is_err());
        assert!(decode_status(&[1]).is_err());
        assert_eq!(
            decode_text(&encode_text(3, "msg")).unwrap(),
            (3, &b"msg"[..])
        );
        assert!(decode_text(&[]).is_err());
        assert_eq!(decode_file(&encode_file(10, 20)).unwrap(), (10, 20));
        assert!(decode_file(&[0; 15]).is_err());
        assert_eq!(decode_u32(&7u32.to_be_bytes()).unwrap(), 7);
        let long = "x".repeat(MAX_TEXT as usize + 10);
        assert_eq!(encode_text(1, &long).len(), 1 + MAX_TEXT as usize);
    }

    #[test]
    fn fixed_frames_read_back_as_written() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&u32_frame(Kind::Ready, 4242));
        stream.extend_from_slice(&empty_frame(Kind::Done));
        stream.extend_from_slice(&empty_frame(Kind::Retry));
        let mut r = &stream[..];
        let (kind, p) = read_frame(&mut r, 0).unwrap();
        assert_eq!((kind, decode_u32(&p).unwrap()), (Kind::Ready, 4242));
        assert_eq!(read_frame(&mut r, 0).unwrap(), (Kind::Done, vec![]));
        assert_eq!(read_frame(&mut r, 0).unwrap(), (Kind::Retry, vec![]));
        assert_eq!(read_frame(&mut r, 0), Err(WireError::Closed));
        // DONE and RETRY carry nothing: a payload is refused.
        let mut bad = &[Kind::Done as u8, 0, 0, 0, 1, 0][..];
        assert!(matches!(
            read_frame(&mut bad, 0),
            Err(WireError::TooLarge { .. })
        ));
    }

    #[test]
    fn write_frame_matches_put_frame_across_short_writes() {
        /// Accepts at most 3 bytes per call, like a full socket.
        struct Dribble(Vec<u8>);
        impl Write for Dribble {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                let n = b.len().min(3);
                self.0.extend_from_slice(&b[..n]);
                Ok(n)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut d = Dribble(Vec::new());
        write_frame(&mut d, Kind::Data, b"hello world").unwrap();
        let mut want = Vec::new();
        put_frame(&mut want, Kind::Data, b"hello world");
        assert_eq!(d.0, want);
    }
}
