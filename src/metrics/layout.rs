//! Where each figure lives in the shared metrics region: a flat array of
//! 64-bit words, laid out from the configuration (how many groups, how many
//! process slots) and this file's fixed label sets (status codes, histogram
//! buckets, restart reasons). Pure arithmetic, unit-tested.

/// The HTTP status codes counted one by one; any other is counted as
/// `code="other"` (a fixed set keeps the region's size known up front and
/// the series count bounded).
pub(crate) const CODES: [u16; 26] = [
    200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 408, 409, 410,
    413, 422, 429, 500, 502, 503, 504,
];
/// The `code` label of everything not in `CODES`.
pub(crate) const OTHER_CODE: &str = "other";
const CODE_SLOTS: usize = CODES.len() + 1;

/// Histogram bucket upper bounds in microseconds: 5 ms to 60 s (the
/// `+Inf` bucket follows).
pub(crate) const BUCKETS_US: [u64; 13] = [
    5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000,
    10_000_000, 30_000_000, 60_000_000,
];
/// Words of one histogram: a count per bucket (not cumulative; `+Inf`
/// last), then the sum in microseconds. Its count is the buckets' total,
/// so a scrape always sees `_count` equal to the `+Inf` bucket.
pub(crate) const HISTOGRAM_WORDS: usize = BUCKETS_US.len() + 2;

/// Why a daemon process was replaced (`reason` of
/// `mod_wsgi_process_restarts_total`).
pub(crate) const REASONS: [&str; 25] = [
    "maximum-requests",
    "memory-limit",
    "request-timeout",
    "deadlock",
    "inactivity",
    "restart-interval",
    "reload",
    "stop-signal",
    "eviction",
    "startup-timeout",
    "signal:SIGHUP",
    "signal:SIGINT",
    "signal:SIGQUIT",
    "signal:SIGILL",
    "signal:SIGABRT",
    "signal:SIGBUS",
    "signal:SIGFPE",
    "signal:SIGKILL",
    "signal:SIGSEGV",
    "signal:SIGPIPE",
    "signal:SIGTERM",
    "signal:other",
    "exit-status",
    "manager-died",
    "other",
];

/// Words per group, rounded up to a 64-byte line.
const GROUP_WORDS: usize = (CODE_SLOTS + 2 * HISTOGRAM_WORDS + REASONS.len()).div_ceil(8) * 8;
const CODES_AT: usize = 0;
const DURATION_AT: usize = CODE_SLOTS;
const QUEUE_AT: usize = DURATION_AT + HISTOGRAM_WORDS;
const RESTARTS_AT: usize = QUEUE_AT + HISTOGRAM_WORDS;

/// Words of the header: a magic word, the group and slot counts.
const HEADER_WORDS: usize = 8;
pub(crate) const MAGIC: u64 = 0x6d6f_645f_7773_6701;

/// Words per process slot: two 64-byte lines, so processes never share one.
pub(crate) const SLOT_WORDS: usize = 16;

/// The fields of a process slot (word offsets within it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SlotField {
    /// The owner's pid; 0 when free.
    Pid = 0,
    /// Its group's index.
    Group = 1,
    /// Request threads it has.
    Threads = 2,
    /// Threads running a request now.
    Busy = 3,
    /// Resident memory, bytes.
    Rss = 4,
    /// When `Rss` was taken (seconds since the epoch).
    RssAt = 5,
    /// Request bodies buffered now (Apache children), and their bytes.
    Bodies = 6,
    BodyBytes = 7,
    /// Responses handed to spool writers now (daemons), and their bytes.
    Spools = 8,
    SpoolBytes = 9,
    /// 1 once the owner counted the reason it is ending (a daemon worker).
    Counted = 10,
}

/// The region's shape for one configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Group 0 is the Apache children (`%{GLOBAL}`); then each daemon
    /// process group.
    pub(crate) groups: Vec<String>,
    /// Process slots: every Apache child and daemon worker claims one.
    pub(crate) slots: usize,
}

/// The label of the Apache children's group (embedded mode).
pub(crate) const EMBEDDED: &str = "%{GLOBAL}";

impl Layout {
    /// Slots for twice `apache_children` (ServerLimit: the children of a
    /// generation, and the old one's still finishing after a graceful
    /// restart, which keeps the region), and each daemon group three times
    /// its processes (a draining worker, its replacement, and the old
    /// generation's).
    pub(crate) fn new(apache_children: usize, daemons: &[(String, usize)]) -> Layout {
        let mut groups = vec![EMBEDDED.to_string()];
        groups.extend(daemons.iter().map(|(n, _)| n.clone()));
        let slots =
            2 * apache_children.max(1) + daemons.iter().map(|(_, p)| 3 * p).sum::<usize>() + 4;
        Layout { groups, slots }
    }

    pub(crate) fn words(&self) -> usize {
        HEADER_WORDS + self.groups.len() * GROUP_WORDS + self.slots * SLOT_WORDS
    }

    /// The header the region starts with.
    pub(crate) fn header(&self) -> [u64; 3] {
        [MAGIC, self.groups.len() as u64, self.slots as u64]
    }

    /// A group's index by name (None: not a configured group).
    pub(crate) fn group_index(&self, name: &str) -> Option<usize> {
        self.groups.iter().position(|g| g == name)
    }

    fn group_at(&self, group: usize) -> usize {
        HEADER_WORDS + group * GROUP_WORDS
    }

    pub(crate) fn code_word(&self, group: usize, code: usize) -> usize {
        self.group_at(group) + CODES_AT + code
    }

    pub(crate) fn duration_word(&self, group: usize) -> usize {
        self.group_at(group) + DURATION_AT
    }

    pub(crate) fn queue_word(&self, group: usize) -> usize {
        self.group_at(group) + QUEUE_AT
    }

    pub(crate) fn restart_word(&self, group: usize, reason: usize) -> usize {
        self.group_at(group) + RESTARTS_AT + reason
    }

    pub(crate) fn slot_word(&self, slot: usize, field: SlotField) -> usize {
        HEADER_WORDS + self.groups.len() * GROUP_WORDS + slot * SLOT_WORDS + field as usize
    }
}

/// `code`'s index among the counted codes (`CODES.len()` is "other").
pub(crate) fn code_index(code: u16) -> usize {
    CODES.binary_search(&code).unwrap_or(CODES.len())
}

/// The `code` label of index `i`.
pub(crate) fn code_label(i: usize) -> String {
    CODES
        .get(i)
        .map_or_else(|| OTHER_CODE.to_string(), |c| c.to_string())
}

pub(crate) const CODE_COUNT: usize = CODE_SLOTS;

/// The bucket a duration of `us` microseconds falls in (`BUCKETS_US.len()`
/// is `+Inf`).
pub(crate) fn bucket_index(us: u64) -> usize {
    BUCKETS_US.partition_point(|&bound| bound < us)
}

/// A bucket bound as Prometheus writes `le` ("0.005", "1", "+Inf").
pub(crate) fn bucket_label(i: usize) -> String {
    match BUCKETS_US.get(i) {
        Some(&us) => seconds(us),
        None => "+Inf".to_string(),
    }
}

/// Microseconds as seconds, shortest exact decimal ("0.005", "60").
pub(crate) fn seconds(us: u64) -> String {
    let whole = us / 1_000_000;
    let frac = us % 1_000_000;
    if frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:06}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// The index of a restart reason: a daemon worker's own (6.1's
/// `shutdown_reason` names, or "deadlock"), else "other".
pub(crate) fn reason_index(reason: &str) -> usize {
    let label = match reason {
        "maximum_requests" => "maximum-requests",
        "memory_limit" => "memory-limit",
        "request_timeout" => "request-timeout",
        "deadlock_timeout" | "deadlock" => "deadlock",
        "inactivity_timeout" => "inactivity",
        "restart_interval" => "restart-interval",
        "script_reload" => "reload",
        "shutdown_signal" => "stop-signal",
        "eviction_signal" | "graceful_signal" => "eviction",
        "startup_timeout" => "startup-timeout",
        other => other,
    };
    REASONS
        .iter()
        .position(|r| *r == label)
        .unwrap_or(REASONS.len() - 1)
}

/// The reason for a worker that died by signal `sig`.
pub(crate) fn signal_reason(sig: i32) -> usize {
    let name = match sig {
        1 => "signal:SIGHUP",
        2 => "signal:SIGINT",
        3 => "signal:SIGQUIT",
        4 => "signal:SIGILL",
        6 => "signal:SIGABRT",
        7 => "signal:SIGBUS",
        8 => "signal:SIGFPE",
        9 => "signal:SIGKILL",
        11 => "signal:SIGSEGV",
        13 => "signal:SIGPIPE",
        15 => "signal:SIGTERM",
        _ => "signal:other",
    };
    reason_index(name)
}
