//! Memory of this process: its resident size and the malloc arenas.

/// The process's resident set size in bytes (from /proc/self/statm).
pub(crate) fn rss_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64;
    pages * page
}

/// Caps the number of glibc malloc arenas (per-thread heaps) of this
/// process; best effort.
pub(crate) fn set_malloc_arenas(n: i32) {
    // SAFETY: mallopt only changes allocator tuning; called before the
    // process starts its threads.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, n) };
}
