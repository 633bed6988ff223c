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
//!
//! When the spool cannot take more (its temporary file cannot be created
//! or written: a full or read-only TMPDIR, a quota, no descriptors left),
//! nothing is lost: the application's thread waits until the writer has
//! sent what it holds, then writes the rest itself, waiting for the Apache
//! child as it would without spooling. That is logged once per process.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};

/// How long the Apache child may stop reading before the response is
/// handed off.
pub(crate) const STALL_MS: i32 = 200;
/// Spooled bytes held in memory; more goes to a temporary file.
pub(crate) const MEMORY_LIMIT: usize = 1 << 20;
/// Spooled bytes at most (memory and file); beyond this the application
/// waits for the client, as it would without spooling.
pub(crate) const SPOOL_LIMIT: u64 = 1 << 30;
/// Responses handed off at once per process; beyond this a stalled
/// response keeps its thread.
pub(crate) const MAX_HANDOFFS: usize = 256;
/// What the writer sends per write.
const CHUNK: usize = 256 * 1024;

static HANDOFFS: AtomicUsize = AtomicUsize::new(0);

/// "daemon process 'NAME' (pid N)", for the log line of a failed spool.
static PROCESS: OnceLock<String> = OnceLock::new();
/// A failed spool has been logged by this process.
static REPORTED: AtomicBool = AtomicBool::new(false);

/// Names this process's daemon group for the spool's log line (the first
/// call in a process counts).
pub(crate) fn set_group(name: &str) {
    PROCESS.get_or_init(|| format!("daemon process '{name}' (pid {})", std::process::id()));
}

/// Where the once-per-process line about a spool that cannot take more
/// goes (the error log, in a daemon).
pub(crate) type Report = fn(&str);

/// Reports, once per process, that a stalled response could not be
/// spooled (`why`) and that the thread waits for the client instead.
fn report_spool_failure(report: Report, why: &str) {
    if REPORTED.swap(true, Ordering::SeqCst) {
        return;
    }
    let who = PROCESS.get().map_or("daemon process", String::as_str);
    report(&format!(
        "{who}: {why}; the thread waits for the client instead (nothing is cut; this is \
         logged once per process)"
    ));
}

/// Responses still being written by a writer thread (a draining process
/// waits for them).
pub(crate) fn in_flight() -> usize {
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
    /// The spool could not take more: the application's thread writes the
    /// rest itself once the writer is idle.
    direct: bool,
    /// This spool and its pending bytes, in the metrics (until dropped).
    held: Option<crate::metrics::Held>,
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
            self.counted(-(n as i64));
            return Ok(());
        }
        let n = (self.file_end - self.file_pos).min(CHUNK as u64) as usize;
        if n > 0 {
            buf.resize(n, 0);
            if let Some(f) = &self.file {
                f.read_exact_at(buf, self.file_pos)?;
            }
            self.file_pos += n as u64;
            self.counted(-(n as i64));
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

    /// Queues `data`, or leaves everything as it was and says why the
    /// spool cannot take it.
    fn append(&mut self, data: &[u8]) -> Result<(), String> {
        if self.file_end == 0 && self.mem.len() + data.len() <= MEMORY_LIMIT {
            self.mem.extend(data);
            self.counted(data.len() as i64);
            return Ok(());
        }
        if self.file.is_none() {
            let file = crate::os::tempfile::create(
                "a stalled response",
                "give the daemon process group more threads",
            )
            .map_err(|e| e.to_string())?;
            self.file = Some(file);
        }
        if let Some(f) = &self.file {
            // A partial write is overwritten by the next append: only
            // `file_end` counts.
            f.write_all_at(data, self.file_end).map_err(|e| {
                let dir = std::env::temp_dir();
                format!(
                    "cannot spool a stalled response to a temporary file in {}: {e} (free \
                     space there or set TMPDIR for Apache to a larger directory)",
                    dir.display()
                )
            })?;
        }
        self.file_end += data.len() as u64;
        self.counted(data.len() as i64);
        Ok(())
    }

    /// Pending bytes grew or shrank by `delta`.
    fn counted(&mut self, delta: i64) {
        if let Some(h) = &mut self.held {
            if delta >= 0 {
                h.add(delta as u64);
            } else {
                h.sub(delta.unsigned_abs());
            }
        }
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
pub(crate) struct Handoff {
    shared: Arc<Shared>,
    report: Report,
}

/// The response could not be written: the Apache child went away, or the
/// spool failed (with the reason, for the log).
#[derive(Debug)]
pub(crate) struct Lost(pub Option<String>);

impl Handoff {
    /// Hands `stream` to a new writer thread, which first sends `pending`.
    /// Gives the stream back if no more handoffs are allowed or the thread
    /// cannot start. A spool that cannot take more is told to `report`.
    pub(crate) fn start(
        stream: UnixStream,
        pending: &[u8],
        report: Report,
    ) -> Result<Handoff, UnixStream> {
        if HANDOFFS.fetch_add(1, Ordering::SeqCst) >= MAX_HANDOFFS {
            HANDOFFS.fetch_sub(1, Ordering::SeqCst);
            return Err(stream);
        }
        let mut state = State {
            held: Some(crate::metrics::spool()),
            ..State::default()
        };
        state.mem.extend(pending);
        state.counted(pending.len() as i64);
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
            Ok(_) => Ok(Handoff { shared, report }),
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

    /// Queues response bytes for the writer. When the spool cannot take
    /// them, they are written by this thread once the writer has sent what
    /// it holds (waiting for the Apache child up to the socket's write
    /// timeout), and so is the rest of the response.
    pub(crate) fn append(&self, data: &[u8]) -> Result<(), Lost> {
        let mut g = self.shared.lock();
        while !g.failed
            && !g.direct
            && g.pending() > 0
            && g.pending() + data.len() as u64 > SPOOL_LIMIT
        {
            g = self.shared.wait(g);
        }
        if g.failed {
            return Err(Lost(g.error.take()));
        }
        if !g.direct {
            match g.append(data) {
                Ok(()) => {
                    drop(g);
                    self.shared.changed.notify_all();
                    return Ok(());
                }
                Err(why) => {
                    g.direct = true;
                    report_spool_failure(self.report, &why);
                }
            }
        }
        drop(g);
        self.write_direct(data)
    }

    /// Writes `data` on the stream once the writer is idle.
    fn write_direct(&self, data: &[u8]) -> Result<(), Lost> {
        let written = self.with_stream(|mut s| s.write_all(data))?;
        if written.is_err() {
            // The Apache child went away or stalled past the timeout.
            self.shared.lock().failed = true;
            self.shared.changed.notify_all();
            return Err(Lost(None));
        }
        Ok(())
    }

    /// Runs `f` on the stream once everything queued has been sent, with
    /// the writer held off until `f` returns.
    pub(crate) fn with_stream<T>(&self, f: impl FnOnce(&UnixStream) -> T) -> Result<T, Lost> {
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
        let h = Handoff::start(a, b"head", |_| ()).map_err(|_| ()).unwrap();
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
    fn a_spool_that_cannot_take_more_falls_back_to_direct_writes() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let h = Handoff::start(a, b"head", |_| ()).map_err(|_| ()).unwrap();
        // A spool file that refuses writes (read-only), as a full TMPDIR does.
        h.shared.lock().file = Some(File::open("/dev/null").unwrap());
        let reader = std::thread::spawn(move || {
            // A slow start, so memory fills and the file is needed.
            std::thread::sleep(std::time::Duration::from_millis(50));
            let mut out = Vec::new();
            b.read_to_end(&mut out).unwrap();
            out
        });
        let mut expect = b"head".to_vec();
        for i in 0..12u8 {
            let piece = pattern(300 * 1024 + i as usize, i);
            h.append(&piece).unwrap();
            expect.extend_from_slice(&piece);
        }
        assert!(h.shared.lock().direct);
        assert!(REPORTED.load(Ordering::SeqCst));
        drop(h);
        let got = reader.join().unwrap();
        assert_eq!(got.len(), expect.len());
        assert!(got == expect, "bytes differ");
    }

    #[test]
    fn a_gone_reader_fails_appends() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let h = Handoff::start(a, &pattern(64 * 1024, 1), |_| ())
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
