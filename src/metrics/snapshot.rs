//! A consistent-enough copy of the shared figures, per group: what a
//! scrape formats and `mod_wsgi.server_metrics()` reports. Reading takes no
//! lock (each word is loaded atomically; a histogram's count is its
//! buckets' total, so it always matches them). Slots of processes that
//! are gone (an Apache child or a worker that crashed) are freed here.

use super::layout::{self, Layout, SlotField, HISTOGRAM_WORDS};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// A histogram: counts per bucket (not cumulative, `+Inf` last) and the
/// sum in microseconds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Histogram {
    pub(crate) buckets: Vec<u64>,
    pub(crate) sum_us: u64,
}

impl Histogram {
    fn read(words: &[AtomicU64]) -> Histogram {
        let n = HISTOGRAM_WORDS - 1;
        Histogram {
            buckets: words[..n].iter().map(|w| w.load(Relaxed)).collect(),
            sum_us: words[n].load(Relaxed),
        }
    }

    pub(crate) fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    /// (le label, cumulative count), `+Inf` last.
    pub(crate) fn cumulative(&self) -> Vec<(String, u64)> {
        let mut total = 0;
        self.buckets
            .iter()
            .enumerate()
            .map(|(i, n)| {
                total += n;
                (layout::bucket_label(i), total)
            })
            .collect()
    }
}

/// One live process of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Process {
    pub(crate) pid: u32,
    pub(crate) rss: u64,
}

/// Everything about one group.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Group {
    pub(crate) name: String,
    /// Per `layout::CODES` index ("other" last).
    pub(crate) requests: Vec<u64>,
    pub(crate) duration: Histogram,
    pub(crate) queue: Histogram,
    /// Per `layout::REASONS` index.
    pub(crate) restarts: Vec<u64>,
    pub(crate) threads: u64,
    pub(crate) busy: u64,
    pub(crate) processes: Vec<Process>,
    pub(crate) bodies: u64,
    pub(crate) body_bytes: u64,
    pub(crate) spools: u64,
    pub(crate) spool_bytes: u64,
}

impl Group {
    /// Whether this is a daemon process group (queue time applies).
    pub(crate) fn is_daemon(&self) -> bool {
        self.name != layout::EMBEDDED
    }
}

/// Reads every group's figures. `alive(pid)` says whether a slot's owner
/// still runs; a dead one's slot is freed.
pub(crate) fn read(l: &Layout, words: &[AtomicU64], alive: impl Fn(i32) -> bool) -> Vec<Group> {
    let mut groups: Vec<Group> = l
        .groups
        .iter()
        .enumerate()
        .map(|(g, name)| {
            let at = |w: usize| words[w].load(Relaxed);
            Group {
                name: name.clone(),
                requests: (0..layout::CODE_COUNT)
                    .map(|c| at(l.code_word(g, c)))
                    .collect(),
                duration: Histogram::read(&words[l.duration_word(g)..]),
                queue: Histogram::read(&words[l.queue_word(g)..]),
                restarts: (0..layout::REASONS.len())
                    .map(|r| at(l.restart_word(g, r)))
                    .collect(),
                ..Group::default()
            }
        })
        .collect();
    for slot in 0..l.slots {
        let field = |f: SlotField| &words[l.slot_word(slot, f)];
        let pid = field(SlotField::Pid).load(Relaxed);
        if pid == 0 {
            continue;
        }
        if !alive(pid as i32) {
            let _ = field(SlotField::Pid).compare_exchange(pid, 0, Relaxed, Relaxed);
            continue;
        }
        let Some(g) = groups.get_mut(field(SlotField::Group).load(Relaxed) as usize) else {
            continue;
        };
        let threads = field(SlotField::Threads).load(Relaxed);
        g.threads += threads;
        g.busy += field(SlotField::Busy).load(Relaxed).min(threads);
        g.bodies += field(SlotField::Bodies).load(Relaxed);
        g.body_bytes += field(SlotField::BodyBytes).load(Relaxed);
        g.spools += field(SlotField::Spools).load(Relaxed);
        g.spool_bytes += field(SlotField::SpoolBytes).load(Relaxed);
        g.processes.push(Process {
            pid: pid as u32,
            rss: field(SlotField::Rss).load(Relaxed),
        });
    }
    for g in &mut groups {
        g.processes.sort_by_key(|p| p.pid);
    }
    groups
}
