use super::exposition::{self, format, wants_openmetrics};
use super::layout::{self, Layout, SlotField};
use super::snapshot;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[test]
fn buckets_are_upper_inclusive() {
    assert_eq!(layout::bucket_index(0), 0);
    assert_eq!(layout::bucket_index(5_000), 0);
    assert_eq!(layout::bucket_index(5_001), 1);
    assert_eq!(layout::bucket_index(1_000_000), 7);
    assert_eq!(layout::bucket_index(60_000_000), 12);
    assert_eq!(layout::bucket_index(60_000_001), 13);
    assert_eq!(layout::bucket_label(0), "0.005");
    assert_eq!(layout::bucket_label(7), "1");
    assert_eq!(layout::bucket_label(8), "2.5");
    assert_eq!(layout::bucket_label(13), "+Inf");
    assert_eq!(layout::seconds(1_250_000), "1.25");
    assert_eq!(layout::seconds(7), "0.000007");
}

#[test]
fn codes_and_reasons() {
    assert_eq!(layout::code_label(layout::code_index(200)), "200");
    assert_eq!(layout::code_label(layout::code_index(504)), "504");
    assert_eq!(layout::code_label(layout::code_index(418)), "other");
    assert_eq!(
        layout::REASONS[layout::reason_index("maximum_requests")],
        "maximum-requests"
    );
    assert_eq!(
        layout::REASONS[layout::reason_index("script_reload")],
        "reload"
    );
    assert_eq!(
        layout::REASONS[layout::reason_index("deadlock")],
        "deadlock"
    );
    assert_eq!(
        layout::REASONS[layout::reason_index("graceful_signal")],
        "eviction"
    );
    assert_eq!(
        layout::REASONS[layout::reason_index("startup_timeout")],
        "startup-timeout"
    );
    assert_eq!(layout::REASONS[layout::reason_index("new_reason")], "other");
    assert_eq!(layout::REASONS[layout::signal_reason(9)], "signal:SIGKILL");
    assert_eq!(layout::REASONS[layout::signal_reason(31)], "signal:other");
}

#[test]
fn layout_places_never_overlap() {
    let l = Layout::new(4, &[("a".into(), 2), ("b".into(), 1)]);
    assert_eq!(l.groups, ["%{GLOBAL}", "a", "b"]);
    assert_eq!(l.slots, 8 + 6 + 3 + 4);
    let mut used = std::collections::HashSet::new();
    for g in 0..3 {
        for c in 0..layout::CODE_COUNT {
            assert!(used.insert(l.code_word(g, c)));
        }
        for h in [l.duration_word(g), l.queue_word(g)] {
            for i in 0..layout::HISTOGRAM_WORDS {
                assert!(used.insert(h + i));
            }
        }
        for r in 0..layout::REASONS.len() {
            assert!(used.insert(l.restart_word(g, r)));
        }
    }
    for s in 0..l.slots {
        for f in [SlotField::Pid, SlotField::Counted] {
            assert!(used.insert(l.slot_word(s, f)));
        }
    }
    assert!(used.iter().all(|&w| w >= 3 && w < l.words()));
    assert_eq!(
        l.slot_word(1, SlotField::Pid) - l.slot_word(0, SlotField::Pid),
        16
    );
    assert_eq!(l.slot_word(0, SlotField::Pid) % 8, 0);
}

fn region(l: &Layout) -> Vec<AtomicU64> {
    (0..l.words()).map(|_| AtomicU64::new(0)).collect()
}

#[test]
fn snapshot_sums_slots_and_frees_dead_ones() {
    let l = Layout::new(2, &[("app".into(), 1)]);
    let w = region(&l);
    let set = |slot, f, v| w[l.slot_word(slot, f)].store(v, Relaxed);
    set(0, SlotField::Pid, 100);
    set(0, SlotField::Group, 1);
    set(0, SlotField::Threads, 4);
    set(0, SlotField::Busy, 3);
    set(0, SlotField::Rss, 1000);
    set(1, SlotField::Pid, 101);
    set(1, SlotField::Group, 1);
    set(1, SlotField::Threads, 4);
    set(1, SlotField::Busy, 1);
    set(2, SlotField::Pid, 999);
    set(2, SlotField::Group, 0);
    w[l.code_word(1, layout::code_index(200))].store(5, Relaxed);
    w[l.duration_word(1)].store(2, Relaxed);
    w[l.duration_word(1) + 13].store(1, Relaxed);
    w[l.duration_word(1) + 14].store(61_000_000, Relaxed);
    let groups = snapshot::read(&l, &w, |pid| pid != 999);
    assert_eq!(w[l.slot_word(2, SlotField::Pid)].load(Relaxed), 0);
    let app = &groups[1];
    assert_eq!((app.threads, app.busy, app.processes.len()), (8, 4, 2));
    assert_eq!(app.requests[layout::code_index(200)], 5);
    assert_eq!(app.duration.count(), 3);
    assert_eq!(groups[0].processes.len(), 0);
}

fn sample_groups() -> Vec<snapshot::Group> {
    let l = Layout::new(1, &[("a\"b".into(), 1)]);
    let w = region(&l);
    w[l.slot_word(0, SlotField::Pid)].store(7, Relaxed);
    w[l.slot_word(0, SlotField::Group)].store(1, Relaxed);
    w[l.slot_word(0, SlotField::Threads)].store(2, Relaxed);
    w[l.slot_word(0, SlotField::Busy)].store(1, Relaxed);
    w[l.code_word(0, layout::code_index(500))].store(2, Relaxed);
    w[l.code_word(1, layout::code_index(418))].store(1, Relaxed);
    w[l.duration_word(0) + 1].store(2, Relaxed);
    w[l.duration_word(0) + 14].store(15_000, Relaxed);
    w[l.restart_word(1, layout::reason_index("maximum_requests"))].store(1, Relaxed);
    snapshot::read(&l, &w, |_| true)
}

#[test]
fn text_format() {
    let text = format(&sample_groups(), false);
    for line in [
        "# TYPE mod_wsgi_requests_total counter",
        "mod_wsgi_requests_total{group=\"%{GLOBAL}\",code=\"500\"} 2",
        "mod_wsgi_requests_total{group=\"a\\\"b\",code=\"other\"} 1",
        "# TYPE mod_wsgi_request_duration_seconds histogram",
        "mod_wsgi_request_duration_seconds_bucket{group=\"%{GLOBAL}\",le=\"0.005\"} 0",
        "mod_wsgi_request_duration_seconds_bucket{group=\"%{GLOBAL}\",le=\"0.01\"} 2",
        "mod_wsgi_request_duration_seconds_bucket{group=\"%{GLOBAL}\",le=\"+Inf\"} 2",
        "mod_wsgi_request_duration_seconds_sum{group=\"%{GLOBAL}\"} 0.015",
        "mod_wsgi_request_duration_seconds_count{group=\"%{GLOBAL}\"} 2",
        "mod_wsgi_queue_duration_seconds_count{group=\"a\\\"b\"} 0",
        "mod_wsgi_threads{group=\"a\\\"b\",state=\"busy\"} 1",
        "mod_wsgi_threads{group=\"a\\\"b\",state=\"idle\"} 1",
        "mod_wsgi_processes{group=\"a\\\"b\"} 1",
        "mod_wsgi_process_restarts_total{group=\"a\\\"b\",reason=\"maximum-requests\"} 1",
        "mod_wsgi_process_resident_memory_bytes{group=\"a\\\"b\",pid=\"7\"} 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    assert!(!text.contains("queue_duration_seconds_count{group=\"%{GLOBAL}\"}"));
    assert!(!text.contains("# EOF"));
    assert!(!text.contains("code=\"200\""), "zero series are left out");
}

#[test]
fn openmetrics_format() {
    let text = format(&sample_groups(), true);
    assert!(text.ends_with("# EOF\n"));
    assert!(text.contains("# TYPE mod_wsgi_requests counter\n"));
    assert!(text.contains("# TYPE mod_wsgi_process_restarts counter\n"));
    assert!(text.contains("\nmod_wsgi_requests_total{"));
    assert_eq!(text.matches("# EOF").count(), 1);
}

#[test]
fn accept_negotiation() {
    assert!(wants_openmetrics(
        b"application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"
    ));
    assert!(wants_openmetrics(
        b"text/plain;q=0.5, Application/OpenMetrics-Text; q=0.9"
    ));
    assert!(!wants_openmetrics(b"text/plain;version=0.0.4"));
    assert!(!wants_openmetrics(b"application/openmetrics-text;q=0"));
    assert!(!wants_openmetrics(b""));
    assert_eq!(exposition::escape("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}
