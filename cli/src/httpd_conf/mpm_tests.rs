use super::*;

fn settings(mpm: Mpm, embedded: bool, processes: u32, threads: u32, max: Option<u32>) -> Settings {
    let mut s = Settings::for_tests();
    s.mpm = mpm;
    s.embedded = embedded;
    s.processes = processes;
    s.threads = threads;
    s.max_clients = max;
    s
}

#[test]
fn default_daemon_mode() {
    let l = MpmLimits::of(&settings(Mpm::Event, false, 1, 5, None));
    assert_eq!(
        l,
        MpmLimits {
            max_request_workers: 10,
            threads_per_child: 10,
            children: 1,
            server_limit: 2,
            min_spare_threads: 2,
            max_spare_threads: 20,
            start_servers: 1,
        }
    );
}

/// The consistency Apache checks, for many shapes: one busy thread never
/// puts a server within MinSpareThreads of MaxRequestWorkers (AH10159),
/// MaxSpareThreads is not raised by Apache, the children fit ServerLimit.
#[test]
fn threaded_limits_are_consistent() {
    for mpm in [Mpm::Event, Mpm::Worker] {
        for embedded in [false, true] {
            for processes in [1, 2, 3, 8] {
                for threads in [1, 2, 5, 15, 40] {
                    for max in [None, Some(1), Some(2), Some(7), Some(30), Some(101)] {
                        let s = settings(mpm, embedded, processes, threads, max);
                        let l = MpmLimits::of(&s);
                        let what =
                            format!("{l:?} for {mpm:?} {embedded} {processes} {threads} {max:?}");
                        let wanted = max.unwrap_or(if embedded { processes * threads } else { 1 });
                        assert!(l.max_request_workers >= wanted, "{what}");
                        assert_eq!(
                            l.max_request_workers,
                            l.children * l.threads_per_child,
                            "{what}"
                        );
                        assert!(l.children * 2 <= l.server_limit, "{what}");
                        assert!(l.min_spare_threads >= 1, "{what}");
                        assert!(l.min_spare_threads <= l.threads_per_child, "{what}");
                        if l.max_request_workers > 1 {
                            // One request in progress leaves enough idle threads.
                            assert!(l.max_request_workers > l.min_spare_threads, "{what}");
                        }
                        assert!(
                            l.min_spare_threads <= l.max_request_workers.div_ceil(4).max(1),
                            "{what}"
                        );
                        assert!(
                            l.max_spare_threads > l.min_spare_threads + l.threads_per_child,
                            "{what}"
                        );
                        assert!(l.max_spare_threads >= l.max_request_workers, "{what}");
                    }
                }
            }
        }
    }
}

#[test]
fn prefork_limits() {
    let l = MpmLimits::of(&settings(Mpm::Prefork, true, 2, 5, None));
    assert_eq!((l.max_request_workers, l.threads_per_child), (2, 1));
    assert!(l.max_spare_threads > l.min_spare_threads);
    let mut c = String::new();
    limits(&mut c, &settings(Mpm::Prefork, true, 2, 5, None));
    assert!(c.contains("MaxRequestWorkers 2\n"), "{c}");
}

#[test]
fn section_text() {
    let mut c = String::new();
    limits(&mut c, &settings(Mpm::Event, false, 1, 5, None));
    assert!(
        c.contains(
            "StartServers 1\nServerLimit 2\nThreadLimit 10\nThreadsPerChild 10\n\
             MaxRequestWorkers 10\nMinSpareThreads 2\nMaxSpareThreads 20\n"
        ),
        "{c}"
    );
}

#[test]
fn worker_fractions() {
    let mut s = settings(Mpm::Event, false, 4, 25, None);
    s.workers = [Some(0.5), Some(0.1), Some(0.9)];
    let l = MpmLimits::of(&s);
    assert_eq!(l.max_request_workers, 150);
    assert_eq!(l.start_servers, 3);
    assert_eq!(l.min_spare_threads, 15);
    assert_eq!(l.max_spare_threads, 135);
    let mut s = settings(Mpm::Prefork, false, 1, 5, Some(10));
    s.workers = [Some(0.0), Some(1.0), Some(0.0)];
    let l = MpmLimits::of(&s);
    assert_eq!(
        (l.start_servers, l.min_spare_threads, l.max_spare_threads),
        (1, 10, 11)
    );
}
