//! Receiving a request body in the Apache child before a daemon thread is
//! taken (WSGIBufferRequestBody On, the default): a client that trickles
//! its upload then ties up an Apache thread, not one of the group's few
//! daemon threads.
//!
//! Memory stays bounded per process, whatever the number of concurrent
//! uploads: a small body (under `PAGES_FROM`) is kept on the heap; a larger
//! one goes to the process's one buffer of `MEMORY_LIMIT` bytes when that
//! is free and the body fits, else to an unlinked temporary file. Temporary
//! files are reused (rewritten from the start, never truncated), so a
//! spooled body costs a write and a `sendfile` to the daemon rather than a
//! file's creation and removal. Apache's input filters are asked for at
//! most `READ_BLOCK` bytes at a time.

use crate::buffers::{Pages, Pool};
use crate::httpd::request::Request;
use std::fs::File;
use std::io::{self, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The most of a body kept in memory: the size of the buffer.
pub(crate) const MEMORY_LIMIT: usize = 1 << 20;

/// The most one read asks of Apache's input filters. They return what they
/// read in buckets from the connection's allocator, which keeps up to
/// MaxMemFree (2 MiB) of them once freed, for every connection: reads of a
/// whole body at once left up to 1 MiB there per keep-alive connection.
/// (mod_wsgi reads 8 KiB at a time; a socket read brings at most 8000
/// bytes anyway.)
pub(crate) const READ_BLOCK: usize = 16 * 1024;

/// Bodies this large do not go to the heap (each thread's malloc arena
/// would keep them), but to the buffer or a temporary file.
const PAGES_FROM: usize = 64 * 1024;

/// Buffers of MEMORY_LIMIT bytes in use at once in a process: with many
/// concurrent uploads, the others go to temporary files. (Every buffer in
/// use adds its size to the Apache child's resident memory; mod_wsgi holds
/// no body at all, it streams.)
const IN_MEMORY: usize = 1;

/// The process's body buffers (pages of their own, see `Pages`).
static BUFFERS: Pool<Pages> = Pool::new(MEMORY_LIMIT, IN_MEMORY);
static BUFFERS_IN_USE: AtomicUsize = AtomicUsize::new(0);

/// A spooled body is written to its file in blocks of this size, from a
/// buffer of `BOUNCE`.
const WRITE_BLOCK: usize = 64 * 1024;
static BOUNCE: Pool<Pages> = Pool::new(WRITE_BLOCK, FILES_KEEP);

/// Temporary files kept for the next spooled bodies, and the largest a kept
/// file may have grown to (its pages stay in the page cache and on disk).
const FILES_KEEP: usize = 8;
const FILE_KEEP_MAX: u64 = 4 * MEMORY_LIMIT as u64;
static FILES: Mutex<Vec<File>> = Mutex::new(Vec::new());

/// Why a body could not be received.
#[derive(Debug)]
pub(crate) enum ReceiveError {
    /// Reading from the client failed (it went away, timed out, or sent a
    /// malformed or oversized body): the client's problem.
    Client(io::Error),
    /// Storing the body failed: the server's problem.
    Spool(io::Error),
}

/// The process's buffer, while a body holds it.
pub(crate) struct Buffer(Option<Pages>);

impl Buffer {
    /// The buffer, unless as many as IN_MEMORY are in use.
    fn take() -> Option<Buffer> {
        if BUFFERS_IN_USE.fetch_add(1, Ordering::AcqRel) >= IN_MEMORY {
            BUFFERS_IN_USE.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        match BUFFERS.take() {
            Ok(p) => Some(Buffer(Some(p))),
            Err(_) => {
                BUFFERS_IN_USE.fetch_sub(1, Ordering::AcqRel);
                None
            }
        }
    }
}

impl std::ops::Deref for Buffer {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0.as_deref().unwrap_or_default()
    }
}

impl std::ops::DerefMut for Buffer {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.0.as_deref_mut().unwrap_or_default()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            BUFFERS.give(p);
            BUFFERS_IN_USE.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// A temporary file (reused: it may be longer than what it holds now),
/// given back to `FILES` when dropped.
pub(crate) struct Spool(Option<File>);

impl Spool {
    fn take() -> io::Result<Spool> {
        let kept = FILES.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let mut f = match kept {
            Some(f) => f,
            None => {
                crate::os::tempfile::create("a request body", "turn WSGIBufferRequestBody Off")?
            }
        };
        f.seek(SeekFrom::Start(0))?;
        Ok(Spool(Some(f)))
    }

    fn file(&mut self) -> io::Result<&mut File> {
        self.0.as_mut().ok_or_else(|| io::Error::other("no file"))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let Some(f) = self.0.take() else { return };
        if f.metadata().is_ok_and(|m| m.len() <= FILE_KEEP_MAX) {
            let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
            if files.len() < FILES_KEEP {
                files.push(f);
            }
        }
    }
}

/// Where a body held in memory is.
pub(crate) enum Bytes {
    Heap(Vec<u8>),
    Buffer(Buffer),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Heap(v) => v,
            Bytes::Buffer(b) => b,
        }
    }
}

pub(crate) enum Body {
    /// `data[..len]` is the body; `pos` how much has been handed on.
    Memory { data: Bytes, len: usize, pos: usize },
    /// The first `len` bytes of the file are the body.
    Spooled { file: Spool, len: u64, pos: u64 },
}

/// A failed write to the body's temporary file, with where and what to do.
fn spool_error(e: io::Error) -> ReceiveError {
    ReceiveError::Spool(io::Error::new(
        e.kind(),
        format!(
            "cannot write a request body to its temporary file in {}: {e} (free space there, \
             set TMPDIR for Apache to a larger directory, or turn WSGIBufferRequestBody Off)",
            std::env::temp_dir().display()
        ),
    ))
}

fn more_than_declared() -> ReceiveError {
    ReceiveError::Client(io::Error::other("more body than its Content-Length"))
}

impl Body {
    /// Reads the whole body from the client, in reads of at most
    /// READ_BLOCK. A failure to store it is an `Err(Spool)`, a failure to
    /// read it from the client an `Err(Client)`.
    pub(crate) fn receive(r: &Request) -> Result<Body, ReceiveError> {
        let declared = usize::try_from(r.remaining()).unwrap_or(0);
        if declared > 0 && declared < PAGES_FROM {
            return Body::receive_small(r, declared);
        }
        // Chunked, or large: into the buffer when it is free and the
        // body may fit, else (or once it overflows) a temporary file.
        let buffer = if declared <= MEMORY_LIMIT {
            Buffer::take()
        } else {
            None
        };
        let Some(mut data) = buffer else {
            let spool = Spool::take().map_err(ReceiveError::Spool)?;
            return Body::receive_spooled(r, declared, spool, 0);
        };
        let mut len = 0;
        while len < MEMORY_LIMIT {
            let end = MEMORY_LIMIT.min(len + READ_BLOCK);
            match r
                .read_body(&mut data[len..end])
                .map_err(ReceiveError::Client)?
            {
                0 => break,
                n => len += n,
            }
        }
        if declared > 0 && len > declared {
            return Err(more_than_declared());
        }
        if len == MEMORY_LIMIT {
            // Full: whatever comes next goes to a file, after it.
            let mut more = [0u8; 8192];
            let n = r.read_body(&mut more).map_err(ReceiveError::Client)?;
            if n > 0 {
                if declared > 0 {
                    return Err(more_than_declared());
                }
                let mut spool = Spool::take().map_err(ReceiveError::Spool)?;
                let f = spool.file().map_err(ReceiveError::Spool)?;
                f.write_all(&data[..len]).map_err(spool_error)?;
                f.write_all(&more[..n]).map_err(spool_error)?;
                drop(data);
                return Body::receive_spooled(r, declared, spool, (len + n) as u64);
            }
        }
        Ok(Body::Memory {
            data: Bytes::Buffer(data),
            len,
            pos: 0,
        })
    }

    /// The rest of a body into `spool`, which holds its first `len` bytes.
    fn receive_spooled(
        r: &Request,
        declared: usize,
        mut spool: Spool,
        mut len: u64,
    ) -> Result<Body, ReceiveError> {
        let f = spool.file().map_err(ReceiveError::Spool)?;
        // Written in blocks of WRITE_BLOCK (fewer, larger writes cost
        // less), gathered in a pooled buffer of pages (a heap block would
        // stay in the thread's arena).
        let mut block = BOUNCE.take().map_err(ReceiveError::Spool)?;
        let mut end = false;
        while !end {
            let mut filled = 0;
            while filled < WRITE_BLOCK {
                let room = &mut block[filled..WRITE_BLOCK.min(filled + READ_BLOCK)];
                match r.read_body(room).map_err(ReceiveError::Client)? {
                    0 => {
                        end = true;
                        break;
                    }
                    n => filled += n,
                }
            }
            len += filled as u64;
            if declared > 0 && len > declared as u64 {
                BOUNCE.give(block);
                return Err(more_than_declared());
            }
            f.write_all(&block[..filled]).map_err(spool_error)?;
        }
        BOUNCE.give(block);
        Ok(Body::Spooled {
            file: spool,
            len,
            pos: 0,
        })
    }

    /// A small body whose Content-Length is known: read straight into a
    /// buffer of that size.
    fn receive_small(r: &Request, declared: usize) -> Result<Body, ReceiveError> {
        let mut data = vec![0u8; declared];
        let mut len = 0;
        while len < declared {
            match r
                .read_body(&mut data[len..declared])
                .map_err(ReceiveError::Client)?
            {
                0 => break,
                n => len += n,
            }
        }
        // Apache ends a Content-Length body after that many bytes: this
        // read sees the end (and lets Apache finish the body).
        let mut probe = [0u8; 1];
        if len == declared && r.read_body(&mut probe).map_err(ReceiveError::Client)? != 0 {
            return Err(more_than_declared());
        }
        Ok(Body::Memory {
            data: Bytes::Heap(data),
            len,
            pos: 0,
        })
    }

    /// Its size in bytes.
    pub(crate) fn size(&self) -> u64 {
        match self {
            Body::Memory { len, .. } => *len as u64,
            Body::Spooled { len, .. } => *len,
        }
    }

    /// For a body held in memory: its next part, at most `max` bytes (empty
    /// at the end), without copying. None for a spooled body.
    pub(crate) fn next_in_memory(&mut self, max: usize) -> Option<&[u8]> {
        match self {
            Body::Memory { data, len, pos } => {
                let start = *pos;
                let n = max.min(*len - start);
                *pos += n;
                Some(&data[start..start + n])
            }
            Body::Spooled { .. } => None,
        }
    }

    /// For a spooled body: sends its next part, at most `max` bytes, to
    /// `to` as a BODY frame (BODY_END at the end), the payload copied by
    /// the kernel from the file. None for a body in memory.
    pub(crate) fn send_spooled(
        &mut self,
        to: &std::os::unix::net::UnixStream,
        max: usize,
    ) -> Option<io::Result<()>> {
        let Body::Spooled { file, len, pos } = self else {
            return None;
        };
        let n = (*len - *pos).min(max as u64) as usize;
        let kind = if n == 0 {
            super::wire::Kind::BodyEnd
        } else {
            super::wire::Kind::Body
        };
        Some((|| {
            let mut head = Vec::with_capacity(5);
            super::wire::put_header(&mut head, kind, n);
            (&*to).write_all(&head)?;
            let f = file.file()?;
            let mut sent = 0;
            while sent < n {
                match crate::os::fd::send_file(to.as_raw_fd(), f.as_raw_fd(), *pos, n - sent)? {
                    0 => return Err(io::Error::other("the body's temporary file is short")),
                    k => {
                        sent += k;
                        *pos += k as u64;
                    }
                }
            }
            Ok(())
        })())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_body_goes_in_pieces() {
        let mut b = Body::Memory {
            data: Bytes::Heap(b"hello world".to_vec()),
            len: 11,
            pos: 0,
        };
        assert_eq!(b.next_in_memory(6), Some(&b"hello "[..]));
        assert_eq!(b.next_in_memory(100), Some(&b"world"[..]));
        assert_eq!(b.next_in_memory(100), Some(&b""[..]));
    }

    #[test]
    fn one_buffer_per_process() {
        let a = Buffer::take();
        assert!(a.is_some());
        assert!(Buffer::take().is_none());
        drop(a);
        assert!(Buffer::take().is_some());
    }

    #[test]
    fn spooled_files_are_reused_and_read_up_to_their_body() {
        let mut s = Spool::take().unwrap();
        s.file()
            .unwrap()
            .write_all(b"a longer earlier body")
            .unwrap();
        drop(s);
        let mut s = Spool::take().unwrap();
        s.file().unwrap().write_all(b"short").unwrap();
        let mut b = Body::Spooled {
            file: s,
            len: 5,
            pos: 0,
        };
        assert_eq!(b.size(), 5);
        assert!(b.next_in_memory(3).is_none());
        let (tx, mut rx) = std::os::unix::net::UnixStream::pair().unwrap();
        b.send_spooled(&tx, 3).unwrap().unwrap();
        b.send_spooled(&tx, 3).unwrap().unwrap();
        b.send_spooled(&tx, 3).unwrap().unwrap();
        drop(tx);
        let mut got = Vec::new();
        std::io::Read::read_to_end(&mut rx, &mut got).unwrap();
        assert_eq!(
            got,
            [
                &[3u8, 0, 0, 0, 3][..],
                b"sho",
                &[3, 0, 0, 0, 2],
                b"rt",
                &[4, 0, 0, 0, 0]
            ]
            .concat()
        );
    }
}
