//! wsgi.input: the request body as a file-like object.
//!
//! Reads go to Apache's input filters (ap_get_client_block) with the GIL
//! released, into a Rust buffer that Python sees copies of; a read(n) of
//! 64 KiB or more with nothing buffered and the body long enough goes
//! straight into the new bytes object it returns (`fresh_bytes::filled`). `Expect:
//! 100-continue` is answered by Apache on the first read. Reading past the
//! end returns b'' and never blocks.

use super::backend::Channel;
use crate::buffers::Pool;
use pyo3::exceptions::PyOSError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList};

/// The least a read asks the backend for.
const BLOCK: usize = 64 * 1024;
/// The most one read asks for, once a body has proved large.
const READ_AHEAD: usize = 256 * 1024;
/// Buffers larger than a block come from a pool of this size (read-ahead
/// plus what the application left unread), shared by the process's threads.
const POOLED: usize = 2 * READ_AHEAD;
static BUFFERS: Pool = Pool::new(POOLED, 8);

#[pyclass(module = "mod_wsgi")]
pub(crate) struct Input {
    channel: Channel,
    /// `buf[pos..end]` is read and not yet handed out; the rest is room
    /// (zeroed once, when the buffer grows, then reused; a large one comes
    /// from `BUFFERS` and goes back there).
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    fills: u32,
    /// The backend reads in place (asked at the first large read).
    in_place: Option<bool>,
    /// Body bytes not yet read from the backend, when CONTENT_LENGTH said.
    unread_hint: Option<u64>,
    eof: bool,
    /// Bytes handed to the application so far.
    pub(crate) consumed: u64,
}

impl Drop for Input {
    fn drop(&mut self) {
        BUFFERS.give(std::mem::take(&mut self.buf));
    }
}

impl Input {
    /// Reads from the backend so far (input_reads of the mod_wsgi events).
    pub(crate) fn reads(&self) -> u64 {
        u64::from(self.fills)
    }

    pub(crate) fn new(channel: Channel, content_length: Option<u64>) -> Input {
        Input {
            channel,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            fills: 0,
            in_place: None,
            unread_hint: content_length,
            eof: false,
            consumed: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..self.end]
    }

    /// Reads more of the body into the buffer (at least `BLOCK` bytes of
    /// room, `want` if more, and `READ_AHEAD` after the first reads); false
    /// at the end of the body. Bytes the backend already holds in memory
    /// are taken without releasing the GIL.
    ///
    /// With the GIL released once, reading goes on until `need` bytes came
    /// (or the body ended): Apache hands over a socket read (about 8 KB) at
    /// a time, and a GIL round trip for each would cost more than the copy.
    fn fill(&mut self, py: Python<'_>, want: usize, need: usize) -> PyResult<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        let mut room = if self.fills > 1 {
            READ_AHEAD
        } else {
            want.clamp(BLOCK, READ_AHEAD)
        };
        // No bigger than the rest of the body (a small form gets a small
        // buffer), but at least 1 byte so that the end is seen.
        if let Some(unread) = self.unread_hint {
            room = room.min(unread.max(1).try_into().unwrap_or(usize::MAX));
        }
        self.fills += 1;
        let start = self.end;
        if self.buf.len() < start + room {
            let pooled =
                (start + room > BLOCK && start + room <= POOLED && self.buf.len() < POOLED)
                    .then(|| BUFFERS.take().ok())
                    .flatten();
            if let Some(mut pooled) = pooled {
                pooled[..start].copy_from_slice(&self.buf[..start]);
                self.buf = pooled;
            } else {
                self.buf.resize(start + room, 0);
            }
        }
        let buf = &mut self.buf[start..start + room];
        let n = match self.channel.stage(|b| b.read_buffered(buf)) {
            Some(Some(n)) => Ok(n),
            Some(None) => {
                let mut chunk = std::mem::take(&mut self.buf);
                let result = self.channel.io(py, move |b| {
                    let n = b.read_body_at_least(&mut chunk[start..start + room], need);
                    (chunk, n)
                });
                match result {
                    Some((chunk, n)) => {
                        self.buf = chunk;
                        n
                    }
                    None => Err(String::new()),
                }
            }
            None => Err(String::new()),
        };
        match n {
            Ok(n) => {
                self.end = start + n;
                if let Some(unread) = self.unread_hint.as_mut() {
                    *unread = unread.saturating_sub(n as u64);
                }
                if n == 0 {
                    self.eof = true;
                }
                Ok(n > 0)
            }
            Err(why) => {
                self.eof = true;
                Err(read_error(&why))
            }
        }
    }

    /// read(n) of a large block with nothing buffered and at least `n`
    /// bytes of body to come: read straight into the bytes object returned
    /// (no copy through `buf`). None when this does not apply.
    fn read_direct<'py>(
        &mut self,
        py: Python<'py>,
        n: usize,
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        if n < BLOCK || self.eof || self.pos != self.end {
            return Ok(None);
        }
        if self.unread_hint.is_none_or(|u| u < n as u64) {
            return Ok(None);
        }
        let channel = &self.channel;
        if !*self
            .in_place
            .get_or_insert_with(|| channel.stage(|b| b.reads_in_place()).unwrap_or(false))
        {
            return Ok(None);
        }
        self.fills += 1;
        let channel = self.channel.clone();
        let read = crate::python::fresh_bytes::filled(py, n, |buf| {
            channel
                .io(py, move |b| b.read_body_at_least_into(buf, n))
                .unwrap_or_else(|| Err(String::new()))
                .map_err(|why| read_error(&why))
        });
        let bytes = match read {
            Ok(b) => b,
            Err(e) => {
                self.eof = true;
                return Err(e);
            }
        };
        let got = bytes.as_bytes().len();
        if let Some(unread) = self.unread_hint.as_mut() {
            *unread = unread.saturating_sub(got as u64);
        }
        if got == 0 {
            self.eof = true;
        }
        self.consumed += got as u64;
        Ok(Some(bytes))
    }

    /// Hands out up to `n` buffered bytes (as a range of `buf`).
    fn take(&mut self, n: usize) -> std::ops::Range<usize> {
        let n = n.min(self.end - self.pos);
        let range = self.pos..self.pos + n;
        self.pos += n;
        self.consumed += n as u64;
        range
    }

    fn bytes<'py>(&self, py: Python<'py>, range: std::ops::Range<usize>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.buf[range])
    }

    fn read_range(
        &mut self,
        py: Python<'_>,
        size: Option<usize>,
    ) -> PyResult<std::ops::Range<usize>> {
        match size {
            Some(n) => {
                while self.buffered().len() < n {
                    let missing = n - self.buffered().len();
                    if !self.fill(py, missing, missing)? {
                        break;
                    }
                }
                Ok(self.take(n))
            }
            None => {
                while self.fill(py, READ_AHEAD, READ_AHEAD)? {}
                Ok(self.take(usize::MAX))
            }
        }
    }

    fn readline_range(
        &mut self,
        py: Python<'_>,
        limit: Option<usize>,
    ) -> PyResult<std::ops::Range<usize>> {
        let mut scanned = 0;
        loop {
            let avail = self.buffered();
            if let Some(i) = avail[scanned..].iter().position(|&b| b == b'\n') {
                let end = scanned + i + 1;
                return Ok(self.take(limit.map_or(end, |l| l.min(end))));
            }
            scanned = avail.len();
            if let Some(l) = limit {
                if scanned >= l {
                    return Ok(self.take(l));
                }
            }
            if !self.fill(py, BLOCK, 1)? {
                return Ok(self.take(limit.unwrap_or(usize::MAX)));
            }
        }
    }
}

/// The error a failed read raises ("" when the request is over).
fn read_error(why: &str) -> PyErr {
    if why.is_empty() {
        PyOSError::new_err("wsgi.input used after its request ended")
    } else {
        PyOSError::new_err(format!("error reading the request body: {why}"))
    }
}

fn size_arg(size: Option<isize>) -> Option<usize> {
    match size {
        Some(n) if n >= 0 => Some(n as usize),
        _ => None,
    }
}

#[pymethods]
impl Input {
    #[pyo3(signature = (size=None))]
    fn read<'py>(&mut self, py: Python<'py>, size: Option<isize>) -> PyResult<Bound<'py, PyBytes>> {
        if let Some(n) = size_arg(size) {
            if let Some(bytes) = self.read_direct(py, n)? {
                return Ok(bytes);
            }
        }
        let range = self.read_range(py, size_arg(size))?;
        Ok(self.bytes(py, range))
    }

    #[pyo3(signature = (size=None))]
    fn readline<'py>(
        &mut self,
        py: Python<'py>,
        size: Option<isize>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let range = self.readline_range(py, size_arg(size))?;
        Ok(self.bytes(py, range))
    }

    #[pyo3(signature = (hint=None))]
    fn readlines<'py>(
        &mut self,
        py: Python<'py>,
        hint: Option<isize>,
    ) -> PyResult<Bound<'py, PyList>> {
        let hint = size_arg(hint).filter(|&h| h > 0);
        let lines = PyList::empty(py);
        let mut total = 0;
        loop {
            let line = self.readline_range(py, None)?;
            if line.is_empty() {
                break;
            }
            total += line.len();
            lines.append(self.bytes(py, line))?;
            if hint.is_some_and(|h| total >= h) {
                break;
            }
        }
        Ok(lines)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        let line = self.readline_range(py, None)?;
        Ok(if line.is_empty() {
            None
        } else {
            Some(self.bytes(py, line))
        })
    }

    fn close(&self) {}

    fn readable(&self) -> bool {
        true
    }
}
