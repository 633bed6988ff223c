//! CPU time, peak memory and context switches from getrusage (the thread's
//! or the process's), for the `mod_wsgi` metrics and events and the daemon's
//! request threads.

/// CPU seconds spent in user and system mode.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct CpuTimes {
    pub(crate) user: f64,
    pub(crate) system: f64,
}

fn usage(who: libc::c_int) -> Option<libc::rusage> {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the caller-owned struct.
    if unsafe { libc::getrusage(who, ru.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: initialised by the successful call (and zeroed before).
    Some(unsafe { ru.assume_init() })
}

fn seconds(tv: libc::timeval) -> f64 {
    tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6
}

fn times(who: libc::c_int) -> Option<CpuTimes> {
    usage(who).map(|ru| CpuTimes {
        user: seconds(ru.ru_utime),
        system: seconds(ru.ru_stime),
    })
}

/// The calling thread's CPU time (RUSAGE_THREAD).
pub(crate) fn thread() -> Option<CpuTimes> {
    times(libc::RUSAGE_THREAD)
}

/// The whole process's CPU time.
pub(crate) fn process() -> Option<CpuTimes> {
    times(libc::RUSAGE_SELF)
}

/// How many times the calling thread has given up the CPU to wait (its
/// voluntary context switches); 0 if unknown.
pub(crate) fn thread_voluntary_switches() -> u64 {
    usage(libc::RUSAGE_THREAD).map_or(0, |ru| ru.ru_nvcsw.max(0) as u64)
}

/// The process's peak resident set size in bytes.
pub(crate) fn max_rss_bytes() -> u64 {
    usage(libc::RUSAGE_SELF).map_or(0, |ru| ru.ru_maxrss.max(0) as u64 * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_thread_that_sleeps_counts_a_voluntary_switch() {
        let before = thread_voluntary_switches();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(thread_voluntary_switches() > before);
    }
}
