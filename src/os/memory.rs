//! Memory of this process: its resident size and the malloc arenas.

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).max(4096) as usize
}

/// How far down from `from` (an address in this thread's stack) the stack
/// has pages that were ever written, looking at most `max` bytes below:
/// pages present in memory or swapped out, as /proc/self/pagemap says
/// (a forked process shares its parent's). 0 when there are none below the
/// page of `from`; None when pagemap cannot be read.
pub(crate) fn stack_written_below(from: usize, max: usize) -> Option<usize> {
    use std::os::unix::fs::FileExt;
    const PRESENT_OR_SWAPPED: u64 = 0b11 << 62;
    let page = page_size();
    let top = from / page; // the page `from` is in
    let pages = (max / page).min(top);
    let first = top - pages;
    let mut entries = vec![0u8; pages * 8];
    let f = std::fs::File::open("/proc/self/pagemap").ok()?;
    f.read_exact_at(&mut entries, (first * 8) as u64).ok()?;
    // The lowest such page; entries run upwards from `first`.
    let lowest = entries.chunks_exact(8).position(|e| {
        let mut b = [0u8; 8];
        b.copy_from_slice(e);
        u64::from_ne_bytes(b) & PRESENT_OR_SWAPPED != 0
    });
    Some(lowest.map_or(0, |i| from - (first + i) * page))
}

/// The process's resident set size in bytes (from /proc/self/statm).
pub(crate) fn rss_bytes() -> u64 {
    let text = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = text
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    pages * page_size() as u64
}

/// Caps the number of glibc malloc arenas (per-thread heaps) of this
/// process; best effort.
pub(crate) fn set_malloc_arenas(n: i32) {
    // SAFETY: mallopt only changes allocator tuning; called before the
    // process starts its threads.
    unsafe { libc::mallopt(libc::M_ARENA_MAX, n) };
}

/// Tests: fills `n` frames of 16 KiB below the caller with `byte`; the
/// deepest frame's array address.
#[cfg(test)]
#[inline(never)]
pub(crate) fn fill_stack_below(n: usize, byte: u8) -> usize {
    let mut area = [byte; 16 * 1024];
    std::hint::black_box(&mut area);
    let deepest = if n > 1 {
        fill_stack_below(n - 1, byte)
    } else {
        area.as_ptr() as usize
    };
    std::hint::black_box(&area);
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_written_below_sees_how_deep_a_thread_went() {
        // A new thread's stack is fresh memory: nothing written below its
        // first frames until a call goes deeper.
        std::thread::Builder::new()
            .stack_size(4 << 20)
            .spawn(|| {
                let mark = 0u8;
                let here = std::hint::black_box(&mark) as *const u8 as usize;
                let before = stack_written_below(here, 1 << 20).expect("pagemap");
                assert!(before < 64 * 1024, "{before}");
                fill_stack_below(12, 1); // about 192 KiB further down
                let after = stack_written_below(here, 1 << 20).expect("pagemap");
                assert!(after >= 180 * 1024, "{after}");
                assert!(after < 400 * 1024, "{after}");
                // Looking less far down finds at most that far (to the
                // start of the page).
                let near = stack_written_below(here, 64 * 1024).unwrap();
                assert!(near <= 64 * 1024 + page_size(), "{near}");
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
