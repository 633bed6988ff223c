//! CPU time, peak memory and context switches from getrusage (the thread's
//! or the process's), for the `mod_wsgi` metrics and events; and, for the
//! daemon's request threads, a thread's switches with its exact CPU time
//! (its CPU clock).

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

/// A point in the calling thread's life: how many times it has given up
/// the CPU to wait (voluntary context switches, getrusage) and how much CPU
/// time it has used (`CLOCK_THREAD_CPUTIME_ID`, exact to the call: the
/// times getrusage gives a running thread lag by up to a scheduler tick);
/// zeros if unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ThreadMark {
    pub(crate) voluntary_switches: u64,
    pub(crate) cpu_micros: u64,
}

fn thread_cpu_micros() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime fills the caller-owned timespec.
    if unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) } != 0 {
        return 0;
    }
    (ts.tv_sec.max(0) as u64) * 1_000_000 + (ts.tv_nsec.max(0) as u64) / 1000
}

pub(crate) fn thread_mark() -> ThreadMark {
    ThreadMark {
        voluntary_switches: usage(libc::RUSAGE_THREAD).map_or(0, |ru| ru.ru_nvcsw.max(0) as u64),
        cpu_micros: thread_cpu_micros(),
    }
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
        let before = thread_mark();
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(thread_mark().voluntary_switches > before.voluntary_switches);
    }

    #[test]
    fn a_thread_that_computes_counts_its_cpu_time() {
        let before = thread_mark();
        let start = std::time::Instant::now();
        while start.elapsed() < std::time::Duration::from_millis(5) {
            std::hint::spin_loop();
        }
        let after = thread_mark();
        // 5 ms of wall time, most of it on the CPU unless the machine is
        // very busy; and never more CPU than wall time.
        let used = after.cpu_micros - before.cpu_micros;
        assert!(used > 500, "{used} µs");
        assert!(
            used <= start.elapsed().as_micros() as u64 + 1000,
            "{used} µs"
        );
    }
}
