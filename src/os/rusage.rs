//! CPU time and peak memory from getrusage (the thread's or the process's),
//! for the `mod_wsgi` metrics and events.

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

/// The process's peak resident set size in bytes.
pub(crate) fn max_rss_bytes() -> u64 {
    usage(libc::RUSAGE_SELF).map_or(0, |ru| ru.ru_maxrss.max(0) as u64 * 1024)
}
