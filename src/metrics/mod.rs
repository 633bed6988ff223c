//! Figures about every process of this Apache, for the `wsgi-metrics`
//! handler (Prometheus / OpenMetrics) and `mod_wsgi.server_metrics()`.
//!
//! They live in one anonymous shared memory region (`httpd::shm`) the
//! Apache parent sets up in post_config, before it forks Apache children
//! or daemon processes, so all of them inherit it. Its layout
//! (`layout`) follows the configuration: per group (`%{GLOBAL}` for the
//! Apache children, then each daemon process group) the request counts by
//! status code, the duration and queue-time histograms and the restart
//! counts by reason; then one slot per process (its pid, group, threads,
//! busy threads, resident memory, buffered bodies and spooled responses).
//! Everything is updated with relaxed atomic adds: no lock and no Python
//! on the request path. Collection is always on: a request costs a clock
//! read and four atomic adds. A scrape reads it without locking
//! (`snapshot`) and formats it (`exposition`).

pub(crate) mod exposition;
pub(crate) mod layout;
pub(crate) mod snapshot;
#[cfg(test)]
mod tests;

use crate::os::process::Exit;
use layout::{Layout, SlotField};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex, OnceLock};

/// The region and its layout.
pub(crate) struct Installed {
    pub(crate) layout: Layout,
    words: &'static [AtomicU64],
}

impl Installed {
    fn word(&self, i: usize) -> &AtomicU64 {
        &self.words[i]
    }

    fn slot(&self, slot: usize, f: SlotField) -> &AtomicU64 {
        self.word(self.layout.slot_word(slot, f))
    }
}

/// The Apache parent's current region (replaced at each configuration
/// generation, on its one thread).
static PARENT: Mutex<Option<Arc<Installed>>> = Mutex::new(None);
/// What a forked process serves with: fixed for its lifetime, read with
/// no lock on the request path.
static FROZEN: OnceLock<Arc<Installed>> = OnceLock::new();
/// This process's slot (usize::MAX: none) and group index.
static MY_SLOT: AtomicUsize = AtomicUsize::new(usize::MAX);
static MY_GROUP: AtomicUsize = AtomicUsize::new(0);

/// A digest of the layout (FNV-1a), so a graceful restart with the same
/// groups and sizes keeps the region.
fn signature(l: &Layout) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: &[u8]| {
        for &x in b {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    eat(&layout::MAGIC.to_le_bytes());
    eat(&(l.slots as u64).to_le_bytes());
    for g in &l.groups {
        eat(g.as_bytes());
        eat(&[0]);
    }
    h
}

/// Sets up the region for this generation's layout (the Apache parent, in
/// post_config, before anything is forked).
pub(crate) fn install(layout: Layout) -> Result<(), String> {
    let mut parent = PARENT.lock().unwrap_or_else(|e| e.into_inner());
    // The old region may be unmapped by shm::region: drop every reference
    // to it first.
    *parent = None;
    let words = crate::httpd::shm::region(layout.words(), signature(&layout))?;
    for (w, v) in words.iter().zip(layout.header()) {
        w.store(v, Relaxed);
    }
    *parent = Some(Arc::new(Installed { layout, words }));
    Ok(())
}

/// The region this process sees.
pub(crate) fn current() -> Option<Arc<Installed>> {
    if let Some(f) = FROZEN.get() {
        return Some(f.clone());
    }
    PARENT.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

fn frozen() -> Option<&'static Installed> {
    FROZEN.get().map(|a| &**a)
}

/// In a freshly forked process that serves requests (an Apache child, a
/// daemon worker): takes a slot for `group` with `threads` request
/// threads. Without a free slot the process goes unreported.
pub(crate) fn claim(group: &str, threads: usize) {
    let Some(m) = current() else {
        return;
    };
    let _ = FROZEN.set(m.clone());
    let Some(g) = m.layout.group_index(group) else {
        return;
    };
    MY_GROUP.store(g, Relaxed);
    let pid = u64::from(std::process::id());
    for slot in 0..m.layout.slots {
        let owner = m.slot(slot, SlotField::Pid);
        if owner.compare_exchange(0, pid, Relaxed, Relaxed).is_ok() {
            for f in [
                SlotField::Busy,
                SlotField::Bodies,
                SlotField::BodyBytes,
                SlotField::Spools,
                SlotField::SpoolBytes,
                SlotField::Counted,
            ] {
                m.slot(slot, f).store(0, Relaxed);
            }
            m.slot(slot, SlotField::Group).store(g as u64, Relaxed);
            m.slot(slot, SlotField::Threads)
                .store(threads as u64, Relaxed);
            MY_SLOT.store(slot, Relaxed);
            update_memory();
            return;
        }
    }
}

/// Gives this process's slot up (at its orderly exit).
pub(crate) fn release() {
    let slot = MY_SLOT.swap(usize::MAX, Relaxed);
    if let Some(m) = frozen().filter(|_| slot != usize::MAX) {
        m.slot(slot, SlotField::Pid).store(0, Relaxed);
    }
}

fn my_slot(f: SlotField) -> Option<&'static AtomicU64> {
    let slot = MY_SLOT.load(Relaxed);
    if slot == usize::MAX {
        return None;
    }
    frozen().map(|m| m.slot(slot, f))
}

/// A request handled in this Apache child ended: counted for `group`
/// (None: embedded mode) with its final status and its duration since
/// Apache read it (`start_us`, microseconds since the epoch).
pub(crate) fn request_done(group: Option<&str>, status: u16, start_us: i64) {
    let Some(m) = frozen() else {
        return;
    };
    let g = match group {
        None => 0,
        Some(name) => match m.layout.group_index(name) {
            Some(g) => g,
            None => return,
        },
    };
    let now = now_us();
    m.word(m.layout.code_word(g, layout::code_index(status)))
        .fetch_add(1, Relaxed);
    observe(m, m.layout.duration_word(g), now.saturating_sub(start_us));
    // Memory at most once a second per process (one read of /proc).
    if let Some(at) = my_slot(SlotField::RssAt) {
        let secs = (now / 1_000_000) as u64;
        if at.load(Relaxed) != secs && at.swap(secs, Relaxed) != secs {
            update_memory();
        }
    }
}

fn observe(m: &Installed, at: usize, us: i64) {
    let us = us.max(0) as u64;
    m.word(at + layout::bucket_index(us)).fetch_add(1, Relaxed);
    m.word(at + layout::HISTOGRAM_WORDS - 1)
        .fetch_add(us, Relaxed);
}

/// In a daemon worker: a request waited `us` microseconds from Apache
/// taking it to a daemon thread starting it.
pub(crate) fn queued(us: i64) {
    if let Some(m) = frozen() {
        observe(m, m.layout.queue_word(MY_GROUP.load(Relaxed)), us);
    }
}

/// Counts a thread of this process as busy until the guard drops.
pub(crate) struct Busy(Option<&'static AtomicU64>);

pub(crate) fn busy() -> Busy {
    let w = my_slot(SlotField::Busy);
    if let Some(w) = w {
        w.fetch_add(1, Relaxed);
    }
    Busy(w)
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Some(w) = self.0 {
            w.fetch_sub(1, Relaxed);
        }
    }
}

/// A buffered request body (or a spooled response) of `bytes`, counted
/// until the guard drops; `add` grows it.
pub(crate) struct Held {
    count: Option<&'static AtomicU64>,
    bytes: Option<&'static AtomicU64>,
    held: u64,
}

impl Held {
    fn new(count: SlotField, bytes: SlotField) -> Held {
        let count = my_slot(count);
        if let Some(c) = count {
            c.fetch_add(1, Relaxed);
        }
        Held {
            count,
            bytes: my_slot(bytes),
            held: 0,
        }
    }

    pub(crate) fn add(&mut self, n: u64) {
        if let Some(b) = self.bytes {
            b.fetch_add(n, Relaxed);
        }
        self.held += n;
    }

    pub(crate) fn sub(&mut self, n: u64) {
        let n = n.min(self.held);
        if let Some(b) = self.bytes {
            b.fetch_sub(n, Relaxed);
        }
        self.held -= n;
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let held = self.held;
        self.sub(held);
        if let Some(c) = self.count {
            c.fetch_sub(1, Relaxed);
        }
    }
}

/// A request body the Apache child buffers.
pub(crate) fn body() -> Held {
    Held::new(SlotField::Bodies, SlotField::BodyBytes)
}

/// A response a daemon spools for a slow Apache child.
pub(crate) fn spool() -> Held {
    Held::new(SlotField::Spools, SlotField::SpoolBytes)
}

/// Takes this process's resident memory into its slot.
pub(crate) fn update_memory() {
    if let Some(w) = my_slot(SlotField::Rss) {
        w.store(crate::os::memory::rss_bytes(), Relaxed);
    }
}

/// In a daemon worker that ends for `reason` (6.1's shutdown_reason
/// name, or "deadlock"): counts the restart, and marks the slot so its
/// manager does not count the exit again.
pub(crate) fn worker_ending(reason: &str) {
    let Some(m) = frozen() else {
        return;
    };
    if let Some(c) = my_slot(SlotField::Counted) {
        if c.swap(1, Relaxed) == 1 {
            return;
        }
    }
    let g = MY_GROUP.load(Relaxed);
    m.word(m.layout.restart_word(g, layout::reason_index(reason)))
        .fetch_add(1, Relaxed);
}

/// In a slot manager that reaped worker `pid` of `group`: frees its slot,
/// and counts its end unless the worker counted it (a limit it reached)
/// or it ended cleanly. `draining`: the worker had announced a graceful
/// exit.
pub(crate) fn worker_reaped(group: &str, pid: i32, ended: &Exit, draining: bool) {
    let Some(m) = current() else {
        return;
    };
    let mut counted = draining;
    for slot in 0..m.layout.slots {
        if m.slot(slot, SlotField::Pid).load(Relaxed) == pid as u64 {
            counted |= m.slot(slot, SlotField::Counted).load(Relaxed) == 1;
            m.slot(slot, SlotField::Pid).store(0, Relaxed);
        }
    }
    let reason = match *ended {
        _ if counted => return,
        Exit::Code(0) => return,
        Exit::Signal(sig) => layout::signal_reason(sig),
        Exit::Code(_) => layout::reason_index("exit-status"),
    };
    if let Some(g) = m.layout.group_index(group) {
        m.word(m.layout.restart_word(g, reason))
            .fetch_add(1, Relaxed);
    }
}

/// In the Apache parent: a slot manager of `group` died unexpectedly.
pub(crate) fn manager_died(group: &str) {
    if let Some(m) = current() {
        if let Some(g) = m.layout.group_index(group) {
            m.word(
                m.layout
                    .restart_word(g, layout::reason_index("manager-died")),
            )
            .fetch_add(1, Relaxed);
        }
    }
}

/// Every group's figures now (a scrape).
pub(crate) fn read() -> Option<Vec<snapshot::Group>> {
    let m = current()?;
    Some(snapshot::read(
        &m.layout,
        m.words,
        crate::os::process::exists,
    ))
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}
