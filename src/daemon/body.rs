//! Receiving a request body in the Apache child before a daemon thread is
//! taken (WSGIBufferRequestBody On, the default): a client that trickles
//! its upload then ties up an Apache thread, not one of the group's few
//! daemon threads. The body stays in memory up to `MEMORY_LIMIT`, and goes
//! to an unlinked temporary file beyond that, so memory stays bounded.

use crate::buffers::Pool;
use crate::httpd::request::Request;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

/// Bytes kept in memory before the body moves to a temporary file.
pub(crate) const MEMORY_LIMIT: usize = 1 << 20;

/// Bodies this large are received into a pooled buffer of MEMORY_LIMIT.
const POOLED_FROM: usize = 64 * 1024;
/// Free buffers the process keeps for the next bodies.
const POOL_KEEP: usize = 8;

/// Body buffers shared by the process's threads (see `Pool`).
static BUFFERS: Pool = Pool::new(MEMORY_LIMIT, POOL_KEEP);

/// Why a body could not be received.
#[derive(Debug)]
pub(crate) enum ReceiveError {
    /// Reading from the client failed (it went away, timed out, or sent a
    /// malformed or oversized body): the client's problem.
    Client(io::Error),
    /// Storing the body failed: the server's problem.
    Spool(io::Error),
}

pub(crate) enum Body {
    /// `data[..len]` is the body; `pos` how much has been handed on.
    Memory {
        data: Vec<u8>,
        len: usize,
        pos: usize,
    },
    Spooled(File),
}

fn temp_file() -> io::Result<File> {
    crate::os::tempfile::create("a request body", "turn WSGIBufferRequestBody Off")
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

impl Body {
    /// Reads the whole body from the client. A failure to store it is an
    /// `Err(Spool)`, a failure to read it from the client an `Err(Client)`.
    pub(crate) fn receive(r: &Request) -> Result<Body, ReceiveError> {
        let declared = usize::try_from(r.remaining()).unwrap_or(0);
        if declared > 0 && declared <= MEMORY_LIMIT {
            return Body::receive_sized(r, declared);
        }
        // Chunked, or too large for memory: read in blocks, spool beyond
        // MEMORY_LIMIT.
        let mut data = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut file: Option<File> = None;
        let spool = spool_error;
        loop {
            let n = r.read_body(&mut buf).map_err(ReceiveError::Client)?;
            if n == 0 {
                break;
            }
            match file.as_mut() {
                Some(f) => f.write_all(&buf[..n]).map_err(spool)?,
                None if data.len() + n > MEMORY_LIMIT => {
                    let mut f = temp_file().map_err(ReceiveError::Spool)?;
                    f.write_all(&data).map_err(spool)?;
                    f.write_all(&buf[..n]).map_err(spool)?;
                    data = Vec::new();
                    file = Some(f);
                }
                None => data.extend_from_slice(&buf[..n]),
            }
        }
        Ok(match file {
            Some(mut f) => {
                f.seek(SeekFrom::Start(0)).map_err(spool)?;
                Body::Spooled(f)
            }
            None => {
                let len = data.len();
                Body::Memory { data, len, pos: 0 }
            }
        })
    }

    /// A body whose Content-Length fits in memory: read straight into a
    /// buffer (no bounce buffer, no growth), from the pool when it is large.
    /// (Pages of its own per body, returned at once, were measured 20%
    /// slower for 1 MiB uploads: mmap/munmap and page faults cost more.)
    fn receive_sized(r: &Request, declared: usize) -> Result<Body, ReceiveError> {
        let mut data = if declared >= POOLED_FROM {
            BUFFERS.take()
        } else {
            vec![0u8; declared]
        };
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
            return Err(ReceiveError::Client(io::Error::other(
                "more body than its Content-Length",
            )));
        }
        Ok(Body::Memory { data, len, pos: 0 })
    }

    /// Its size in bytes (what it holds in memory or in its file).
    pub(crate) fn size(&self) -> u64 {
        match self {
            Body::Memory { len, .. } => *len as u64,
            Body::Spooled(f) => f.metadata().map_or(0, |m| m.len()),
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
            Body::Spooled(_) => None,
        }
    }

    /// The next part of the body, at most `buf.len()` bytes; 0 at the end.
    pub(crate) fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Body::Memory { .. } => {
                let chunk = self.next_in_memory(buf.len()).unwrap_or_default();
                buf[..chunk.len()].copy_from_slice(chunk);
                Ok(chunk.len())
            }
            Body::Spooled(f) => f.read(buf),
        }
    }
}

impl Drop for Body {
    /// Gives a pooled buffer back (see `Pool`).
    fn drop(&mut self) {
        if let Body::Memory { data, .. } = self {
            BUFFERS.give(std::mem::take(data));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_body_reads_in_pieces() {
        let mut b = Body::Memory {
            data: b"hello world".to_vec(),
            len: 11,
            pos: 0,
        };
        let mut buf = [0u8; 4];
        let mut out = Vec::new();
        loop {
            let n = b.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, b"hello world");
        let mut b = Body::Memory {
            data: b"hello world".to_vec(),
            len: 11,
            pos: 0,
        };
        assert_eq!(b.next_in_memory(6), Some(&b"hello "[..]));
        assert_eq!(b.next_in_memory(100), Some(&b"world"[..]));
        assert_eq!(b.next_in_memory(100), Some(&b""[..]));
    }

    #[test]
    fn temp_files_are_anonymous() {
        let mut f = temp_file().unwrap();
        f.write_all(b"abc").unwrap();
        f.seek(SeekFrom::Start(0)).unwrap();
        let mut s = String::new();
        f.read_to_string(&mut s).unwrap();
        assert_eq!(s, "abc");
    }
}
