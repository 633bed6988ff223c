//! The figures in Prometheus's text exposition format (0.0.4) or in
//! OpenMetrics 1.0 (counter families named without `_total`, `# EOF` at
//! the end), chosen from the scraper's Accept header. Written by hand: the
//! format is a few lines of text, and the crates that write it want their
//! own registry of metric objects, not figures summed from shared memory.

use super::layout::{self, REASONS};
use super::snapshot::{Group, Histogram};
use std::fmt::Write;

pub(crate) const TEXT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
pub(crate) const OPENMETRICS_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Whether the Accept header asks for OpenMetrics (a media range naming it
/// with a non-zero q, as Prometheus sends).
pub(crate) fn wants_openmetrics(accept: &[u8]) -> bool {
    let accept = String::from_utf8_lossy(accept).to_ascii_lowercase();
    accept.split(',').any(|range| {
        let mut parts = range.split(';').map(str::trim);
        parts.next() == Some("application/openmetrics-text")
            && !parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f64>().ok())
                    .is_some_and(|q| q <= 0.0)
            })
    })
}

/// A label value with `\`, `"` and newlines escaped.
pub(crate) fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

struct Writer {
    out: String,
    openmetrics: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Writer {
    /// HELP and TYPE of a family; `name` is the sample name (a counter's
    /// with `_total`).
    fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let family = if self.openmetrics && kind == Kind::Counter {
            name.strip_suffix("_total").unwrap_or(name)
        } else {
            name
        };
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        };
        let _ = writeln!(self.out, "# HELP {family} {help}");
        let _ = writeln!(self.out, "# TYPE {family} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: &str) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(self.out, " {value}");
    }

    fn histogram(&mut self, name: &str, group: &str, h: &Histogram) {
        for (le, n) in h.cumulative() {
            self.sample(
                &format!("{name}_bucket"),
                &[("group", group), ("le", &le)],
                &n.to_string(),
            );
        }
        self.sample(
            &format!("{name}_sum"),
            &[("group", group)],
            &layout::seconds(h.sum_us),
        );
        self.sample(
            &format!("{name}_count"),
            &[("group", group)],
            &h.count().to_string(),
        );
    }

    /// A gauge family with one sample per group.
    fn per_group(&mut self, name: &str, help: &str, groups: &[Group], f: impl Fn(&Group) -> u64) {
        self.family(name, Kind::Gauge, help);
        for g in groups {
            self.sample(name, &[("group", &g.name)], &f(g).to_string());
        }
    }
}

/// Formats the groups' figures. Counter series that are still zero (a
/// status code or restart reason not seen yet) are left out.
pub(crate) fn format(groups: &[Group], openmetrics: bool) -> String {
    let mut w = Writer {
        out: String::with_capacity(4096),
        openmetrics,
    };
    let name = "mod_wsgi_requests_total";
    w.family(
        name,
        Kind::Counter,
        "Requests served, by process group and HTTP status code (codes outside a fixed set \
         count as other).",
    );
    for g in groups {
        for (i, &n) in g.requests.iter().enumerate() {
            if n > 0 {
                let code = layout::code_label(i);
                w.sample(name, &[("group", &g.name), ("code", &code)], &n.to_string());
            }
        }
    }
    let name = "mod_wsgi_request_duration_seconds";
    w.family(
        name,
        Kind::Histogram,
        "Time from Apache reading the request to the WSGI handler's end.",
    );
    for g in groups {
        w.histogram(name, &g.name, &g.duration);
    }
    let name = "mod_wsgi_queue_duration_seconds";
    w.family(
        name,
        Kind::Histogram,
        "Daemon mode: time from Apache taking the request to a daemon thread starting it.",
    );
    for g in groups.iter().filter(|g| g.is_daemon()) {
        w.histogram(name, &g.name, &g.queue);
    }
    let name = "mod_wsgi_threads";
    w.family(
        name,
        Kind::Gauge,
        "Request threads of the group's live processes, busy (running a request) or idle.",
    );
    for g in groups {
        let busy = g.busy.to_string();
        let idle = (g.threads - g.busy).to_string();
        w.sample(name, &[("group", &g.name), ("state", "busy")], &busy);
        w.sample(name, &[("group", &g.name), ("state", "idle")], &idle);
    }
    w.per_group(
        "mod_wsgi_processes",
        "Live processes of the group (%{GLOBAL}: the Apache children).",
        groups,
        |g| g.processes.len() as u64,
    );
    let name = "mod_wsgi_process_restarts_total";
    w.family(
        name,
        Kind::Counter,
        "Daemon processes replaced, by reason (a limit reached, or how a crashed one ended).",
    );
    for g in groups.iter().filter(|g| g.is_daemon()) {
        for (i, &n) in g.restarts.iter().enumerate() {
            if n > 0 {
                w.sample(
                    name,
                    &[("group", &g.name), ("reason", REASONS[i])],
                    &n.to_string(),
                );
            }
        }
    }
    w.per_group(
        "mod_wsgi_request_body_buffers",
        "Request bodies being buffered by Apache children before a daemon thread takes them.",
        groups,
        |g| g.bodies,
    );
    w.per_group(
        "mod_wsgi_request_body_buffered_bytes",
        "Bytes of those request bodies (memory and temporary files).",
        groups,
        |g| g.body_bytes,
    );
    w.per_group(
        "mod_wsgi_response_spools",
        "Responses a daemon process is writing from its spool to a slow Apache child.",
        groups,
        |g| g.spools,
    );
    w.per_group(
        "mod_wsgi_response_spooled_bytes",
        "Bytes waiting in those spools (memory and temporary files).",
        groups,
        |g| g.spool_bytes,
    );
    let name = "mod_wsgi_process_resident_memory_bytes";
    w.family(
        name,
        Kind::Gauge,
        "Resident memory of each process (updated about once a second).",
    );
    for g in groups {
        for p in &g.processes {
            let pid = p.pid.to_string();
            w.sample(
                name,
                &[("group", &g.name), ("pid", &pid)],
                &p.rss.to_string(),
            );
        }
    }
    if openmetrics {
        w.out.push_str("# EOF\n");
    }
    w.out
}
