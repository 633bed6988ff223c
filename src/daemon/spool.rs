//! Freeing a daemon thread from a slow reader. When the Apache child stops
//! taking a response (its client reads slowly, or not at all) for
//! `STALL_MS`, the connection is handed to a writer thread and the rest of
//! the response is spooled (memory up to `MEMORY_LIMIT`, then an unlinked
//! temporary file up to `SPOOL_LIMIT`), so the application finishes and the
//! daemon thread serves the next request. Slow clients then cost an Apache
//! thread, as static files do, not one of the group's few daemon threads.
//!
//! Order is kept: data goes to memory only while the file holds nothing,
//! and the writer drains memory before the file. Anything that must reach
//! the socket directly (a passed file descriptor, a request for body data)
//! first waits until the writer has sent everything (`with_stream`).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// How long the Apache child may stop reading before the response is
/// handed off.
pub const STALL_MS: i32 = 200;
/// Spooled bytes held in memory; more goes to a temporary file.
pub const MEMORY_LIMIT: usize = 1 << 20;
/// Spooled bytes at most (memory and file); beyond this the application
/// waits for the client, as it would without spooling.
pub const SPOOL_LIMIT: u64 = 1 << 30;
/// Responses handed off at once per process; beyond this a stalled
/// response keeps its thread.
pub const MAX_HANDOFFS: usize = 256;
/// What the writer sends per write.
const CHUNK: usize = 256 * 1024;

static HANDOFFS: AtomicUsize = AtomicUsize::new(0);

/// Responses still being written by a writer thread (a draining process
/// waits for them).
pub fn in_flight() -> usize {
    HANDOFFS.load(Ordering::SeqCst)
}

#[derive(Default)]
struct State {
    mem: VecDeque<u8>,
    file: Option<File>,
    /// Offsets into `file`: written by the application, read by the writer.
    file_end: u64,
    file_pos: u64,
    /// The application side is done (no more data will come).
    finished: bool,
    /// The writer is sending a chunk it took out of the spool.
    writing: bool,
    /// Writing to the Apache child failed: the response is lost.
    failed: bool,
    /// Why, when it is the server's fault (the spool failed), not the
    /// Apache child's going away.
    error: Option<String>,
}

impl State {
    fn pending(&self) -> u64 {
        self.mem.len() as u64 + (self.file_end - self.file_pos)
    }

    fn idle(&self) -> bool {
        self.pending() == 0 && !self.writing
    }

    /// Moves up to `CHUNK` spooled bytes into `buf` (memory first).
    fn take(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        if !self.mem.is_empty() {
            let n = self.mem.len().min(CHUNK);
            let (front, back) = self.mem.as_slices();
            let from_front = front.len().min(n);
            buf.extend_from_slice(&front[..from_front]);
            buf.extend_from_slice(&back[..n - from_front]);
            self.mem.drain(..n);
            return Ok(());
        }
        let n = (self.file_end - self.file_pos).min(CHUNK as u64) as usize;
        if n > 0 {
            buf.resize(n, 0);
            if let Some(f) = &self.file {
                f.read_exact_at(buf, self.file_pos)?;
            }
            self.file_pos += n as u64;
            if self.file_pos == self.file_end {
                // Empty again: reuse the file from its start.
                self.file_pos = 0;
                self.file_end = 0;
                if let Some(f) = &self.file {
                    let _ = f.set_len(0);
                }
            }
        }
        Ok(())
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        if self.file_end == 0 && self.mem.len() + data.len() <= MEMORY_LIMIT {
            self.mem.extend(data);
            return Ok(());
        }
        if self.file.is_none() {
            self.file = Some(crate::os::tempfile::create(
                "a response to a slow client",
                "give the daemon process group more threads",
            )?);
        }
        if let Some(f) = &self.file {
            f.write_all_at(data, self.file_end)?;
        }
        self.file_end += data.len() as u64;
        Ok(())
    }
}

struct Shared {
    stream: UnixStream,
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, g: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(g).unwrap_or_else(|e| e.into_inner())
    }
}

/// The application's side of a handed-off response.
pub struct Handoff {
    shared: Arc<Shared>,
}

/// The response could not be written: the Apache child went away, or the
/// spool failed (with the reason, for the log).
#[derive(Debug)]
pub struct Lost(pub Option<String>);

impl Handoff {
    /// Hands `stream` to a new writer thread, which first sends `pending`.
    /// Gives the stream back if no more handoffs are allowed or the thread
    /// cannot start.
    pub fn start(stream: UnixStream, pending: &[u8]) -> Result<Handoff, UnixStream> {
        if HANDOFFS.fetch_add(1, Ordering::SeqCst) >= MAX_HANDOFFS {
            HANDOFFS.fetch_sub(1, Ordering::SeqCst);
            return Err(stream);
        }
        let mut state = State::default();
        state.mem.extend(pending);
        let shared = Arc::new(Shared {
            stream,
            state: Mutex::new(state),
            changed: Condvar::new(),
        });
        let writer = Arc::clone(&shared);
        let spawned = std::thread::Builder::new()
            .name("wsgi-spool".into())
            .stack_size(64 * 1024)
            .spawn(move || {
                write_out(&writer);
                HANDOFFS.fetch_sub(1, Ordering::SeqCst);
            });
        match spawned {
            Ok(_) => Ok(Handoff { shared }),
            Err(_) => {
                HANDOFFS.fetch_sub(1, Ordering::SeqCst);
                match Arc::try_unwrap(shared) {
                    Ok(s) => Err(s.stream),
                    // Unreachable: the closure that held the clone was dropped.
                    Err(_) => unreachable!("spool writer not started but still shared"),
                }
            }
        }
    }

    /// Queues response bytes for the writer.
    pub fn append(&self, data: &[u8]) -> Result<(), Lost> {
        let mut g = self.shared.lock();
        while !g.failed && g.pending() > 0 && g.pending() + data.len() as u64 > SPOOL_LIMIT {
            g = self.shared.wait(g);
        }
        if g.failed {
            return Err(Lost(g.error.take()));
        }
        if let Err(e) = g.append(data) {
            g.failed = true;
            drop(g);
            self.shared.changed.notify_all();
            return Err(Lost(Some(e.to_string())));
        }
        drop(g);
        self.shared.changed.notify_all();
        Ok(())
    }

    /// Runs `f` on the stream once everything queued has been sent, with
    /// the writer held off until `f` returns.
    pub fn with_stream<T>(&self, f: impl FnOnce(&UnixStream) -> T) -> Result<T, Lost> {
        let mut g = self.shared.lock();
        while !g.failed && !g.idle() {
            g = self.shared.wait(g);
        }
        if g.failed {
            return Err(Lost(g.error.take()));
        }
        Ok(f(&self.shared.stream))
    }
}

impl Drop for Handoff {
    fn drop(&mut self) {
        self.shared.lock().finished = true;
        self.shared.changed.notify_all();
    }
}

/// The writer thread: sends the spool until the application is done and
/// everything is sent, or the Apache child goes away.
fn write_out(shared: &Shared) {
    let mut buf = Vec::with_capacity(CHUNK);
    loop {
        {
            let mut g = shared.lock();
            while g.pending() == 0 && !g.finished {
                g = shared.wait(g);
            }
            if g.pending() == 0 {
                return; // finished and all sent
            }
            if let Err(e) = g.take(&mut buf) {
                g.failed = true;
                g.error = Some(format!("cannot read back a spooled response: {e}"));
                drop(g);
                shared.changed.notify_all();
                return;
            }
            g.writing = true;
        }
        shared.changed.notify_all();
        let sent = (&shared.stream).write_all(&buf);
        let mut g = shared.lock();
        g.writing = false;
        if sent.is_err() {
            g.failed = true;
        }
        let failed = g.failed;
        drop(g);
        shared.changed.notify_all();
        if failed {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn pattern(n: usize, seed: u8) -> Vec<u8> {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn order_is_kept_through_memory_and_file() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let reader = std::thread::spawn(move || {
            let mut out = Vec::new();
            b.read_to_end(&mut out).unwrap();
            out
        });
        let mut expect = b"head".to_vec();
        let h = Handoff::start(a, b"head").map_err(|_| ()).unwrap();
        // Pieces that cross MEMORY_LIMIT, so later ones go to the file.
        for i in 0..12u8 {
            let piece = pattern(300 * 1024 + i as usize, i);
            h.append(&piece).unwrap();
            expect.extend_from_slice(&piece);
        }
        let direct = h.with_stream(|mut s| s.write_all(b"direct")).unwrap();
        assert!(direct.is_ok());
        expect.extend_from_slice(b"direct");
        h.append(b"tail").unwrap();
        expect.extend_from_slice(b"tail");
        drop(h);
        let got = reader.join().unwrap();
        assert_eq!(got.len(), expect.len());
        assert!(got == expect, "bytes differ");
    }

    #[test]
    fn a_gone_reader_fails_appends() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let h = Handoff::start(a, &pattern(64 * 1024, 1))
            .map_err(|_| ())
            .unwrap();
        // The writer notices the broken pipe; appends then fail.
        let mut lost = false;
        for _ in 0..1000 {
            if h.append(&pattern(64 * 1024, 2)).is_err() {
                lost = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(lost);
        assert!(h.with_stream(|_| ()).is_err());
    }
}
