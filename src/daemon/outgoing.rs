//! What a daemon thread has queued for the Apache child: frames in its own
//! buffers and, in the middle, at most one large block of a `bytes` object
//! sent from the object itself (`PinnedBytes`: no copy into the buffer).
//! The byte stream is `head`, the block, then `tail`; `done` of it are sent.

use super::wire::{self, Kind};
use crate::httpd::brigade::Pinned;
use crate::python::pinned::PinnedBytes;
use std::io::IoSlice;

#[derive(Default)]
pub(crate) struct Outgoing {
    head: Vec<u8>,
    block: Option<PinnedBytes>,
    tail: Vec<u8>,
    /// Bytes of head + block + tail already sent.
    done: usize,
    /// Blocks sent, to be dropped where the GIL is held (`release`).
    sent_blocks: Vec<PinnedBytes>,
}

thread_local! {
    /// A request's `head` buffer, kept for the thread's next request.
    static SPARE_HEAD: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// A `head` buffer that grew larger than this is not kept.
const KEEP_HEAD: usize = 64 * 1024;

/// The unsent bytes as up to three slices (no allocation).
pub(crate) struct Slices<'a> {
    parts: [IoSlice<'a>; 3],
    n: usize,
}

impl<'a> std::ops::Deref for Slices<'a> {
    type Target = [IoSlice<'a>];
    fn deref(&self) -> &[IoSlice<'a>] {
        &self.parts[..self.n]
    }
}

impl Outgoing {
    /// A queue whose first buffer is the thread's spare one (from its last
    /// request), at least `n` bytes.
    pub(crate) fn with_capacity(n: usize) -> Outgoing {
        let mut head = SPARE_HEAD.try_with(|s| s.take()).unwrap_or_default();
        head.clear();
        head.reserve(n);
        Outgoing {
            head,
            block: None,
            tail: Vec::new(),
            done: 0,
            sent_blocks: Vec::new(),
        }
    }

    /// Queues a HEADERS frame, encoded in place, unless its payload is
    /// over `limit` bytes: then nothing is queued and the payload's size
    /// is the error.
    pub(crate) fn put_headers(
        &mut self,
        status: &[u8],
        headers: &[(Vec<u8>, Vec<u8>)],
        limit: usize,
    ) -> Result<(), usize> {
        let buf = self.buf();
        let at = buf.len();
        let len = wire::put_headers_frame(buf, status, headers);
        if len > limit {
            buf.truncate(at);
            return Err(len);
        }
        Ok(())
    }

    /// Where frames go now: after the block, if one is queued.
    fn buf(&mut self) -> &mut Vec<u8> {
        if self.block.is_some() {
            &mut self.tail
        } else {
            &mut self.head
        }
    }

    pub(crate) fn put_frame(&mut self, kind: Kind, payload: &[u8]) {
        wire::put_frame(self.buf(), kind, payload);
    }

    /// Queues a DATA frame whose payload is sent from `block` itself (one
    /// block at a time: with one queued already, this one is copied).
    pub(crate) fn put_data_block(&mut self, block: PinnedBytes) {
        let len = block.bytes().len();
        if self.block.is_some() || len > wire::MAX_CHUNK as usize {
            for chunk in block.bytes().chunks(wire::MAX_CHUNK as usize) {
                self.put_frame(Kind::Data, chunk);
            }
            self.sent_blocks.push(block);
            return;
        }
        wire::put_header(&mut self.head, Kind::Data, len);
        self.block = Some(block);
    }

    fn total(&self) -> usize {
        self.head.len() + self.block.as_ref().map_or(0, |b| b.bytes().len()) + self.tail.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.done >= self.total()
    }

    /// The unsent bytes, as up to three slices.
    pub(crate) fn slices(&self) -> Slices<'_> {
        let mut skip = self.done;
        let mut out = Slices {
            parts: [IoSlice::new(&[]), IoSlice::new(&[]), IoSlice::new(&[])],
            n: 0,
        };
        let block: &[u8] = self.block.as_ref().map_or(&[], |b| b.bytes());
        for part in [&self.head[..], block, &self.tail[..]] {
            if skip >= part.len() {
                skip -= part.len();
                continue;
            }
            out.parts[out.n] = IoSlice::new(&part[skip..]);
            out.n += 1;
            skip = 0;
        }
        out
    }

    /// `n` more bytes were sent; everything sent empties the queue.
    pub(crate) fn advance(&mut self, n: usize) {
        self.done += n;
        if self.is_empty() {
            self.clear();
        }
    }

    /// The unsent bytes, copied (for a spool taking the rest over).
    pub(crate) fn unsent(&self) -> Vec<u8> {
        self.slices()
            .iter()
            .flat_map(|s| s.iter().copied())
            .collect()
    }

    /// Forgets everything queued (sent or not).
    pub(crate) fn clear(&mut self) {
        self.head.clear();
        self.tail.clear();
        self.done = 0;
        if let Some(b) = self.block.take() {
            self.sent_blocks.push(b);
        }
    }

    /// Drops the references to blocks no longer queued: call it with the
    /// GIL held (a `PinnedBytes` dropped without it takes the GIL).
    pub(crate) fn release(&mut self) {
        self.sent_blocks.clear();
    }
}

impl Drop for Outgoing {
    fn drop(&mut self) {
        if self.head.capacity() > 0 && self.head.capacity() <= KEEP_HEAD {
            let head = std::mem::take(&mut self.head);
            let _ = SPARE_HEAD.try_with(|s| s.set(head));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_queue_in_order_and_advance_across_parts() {
        let mut o = Outgoing::default();
        assert!(o.is_empty());
        o.put_frame(Kind::Log, b"ab");
        assert_eq!(o.unsent(), [Kind::Log as u8, 0, 0, 0, 2, b'a', b'b']);
        o.advance(3);
        assert_eq!(o.unsent(), [0, 2, b'a', b'b']);
        o.advance(4);
        assert!(o.is_empty());
        assert_eq!(o.slices().len(), 0);
    }

    #[test]
    fn headers_over_the_limit_queue_nothing() {
        let h = vec![(b"X-A".to_vec(), vec![b'a'; 100])];
        let mut o = Outgoing::with_capacity(16);
        o.put_frame(Kind::Log, b"ab");
        let before = o.unsent();
        assert!(matches!(o.put_headers(b"200 OK", &h, 50), Err(n) if n > 100));
        assert_eq!(o.unsent(), before);
        assert!(o.put_headers(b"200 OK", &h, 500).is_ok());
        let mut want = before;
        want.extend_from_slice(&{
            let mut f = Vec::new();
            wire::put_frame(&mut f, Kind::Headers, &wire::encode_headers(b"200 OK", &h));
            f
        });
        assert_eq!(o.unsent(), want);
    }
}
