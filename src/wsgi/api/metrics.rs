//! `mod_wsgi.start_recording_metrics()`, `process_metrics()`,
//! `request_metrics()` and `server_metrics()`.
//!
//! Per-process counters are plain atomics, added to only once recording
//! has been asked for (both dict functions return None before, as in
//! 6.1). `request_metrics()` reports the interval since its previous call
//! (or since recording began). `server_metrics()` reads Apache's scoreboard
//! and returns None unless WSGIServerMetrics (embedded) or server-metrics=
//! (daemon) is On; its `groups` key (a mod_wsgi_rs addition) has the
//! figures of the wsgi-metrics handler, per process group.

use super::current;
use super::request::now_secs;
use crate::httpd::scoreboard;
use crate::metrics::{layout, snapshot};
use crate::os::rusage;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

static RECORDING: AtomicBool = AtomicBool::new(false);
static SERVER_METRICS: AtomicBool = AtomicBool::new(false);
/// Threads a process serves with (the request_threads_maximum figure).
static THREADS: AtomicUsize = AtomicUsize::new(1);
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
static PROCESS_START: Mutex<f64> = Mutex::new(0.0);

/// Running totals since recording began.
struct Totals {
    requests: AtomicU64,
    status: [AtomicU64; 5],
    input_bytes: AtomicU64,
    input_reads: AtomicU64,
    output_bytes: AtomicU64,
    output_writes: AtomicU64,
    /// Microsecond sums.
    server_us: AtomicU64,
    queue_us: AtomicU64,
    daemon_us: AtomicU64,
    application_us: AtomicU64,
}

static TOTALS: Totals = Totals {
    requests: AtomicU64::new(0),
    status: [const { AtomicU64::new(0) }; 5],
    input_bytes: AtomicU64::new(0),
    input_reads: AtomicU64::new(0),
    output_bytes: AtomicU64::new(0),
    output_writes: AtomicU64::new(0),
    server_us: AtomicU64::new(0),
    queue_us: AtomicU64::new(0),
    daemon_us: AtomicU64::new(0),
    application_us: AtomicU64::new(0),
};

/// Requests per thread number (index = thread number - 1).
static PER_THREAD: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// What `request_metrics()` last reported (the start of the next interval).
#[derive(Clone, Copy, Default)]
struct Baseline {
    time: f64,
    cpu: rusage::CpuTimes,
    requests: u64,
    status: [u64; 5],
    input_bytes: u64,
    input_reads: u64,
    output_bytes: u64,
    output_writes: u64,
    server_us: u64,
    queue_us: u64,
    daemon_us: u64,
    application_us: u64,
}

static BASELINE: Mutex<Option<Baseline>> = Mutex::new(None);

/// One finished request.
pub(crate) struct Sample {
    pub(crate) status: u16,
    pub(crate) request_start: f64,
    pub(crate) queue_start: f64,
    pub(crate) daemon_start: f64,
    pub(crate) application_start: f64,
    pub(crate) application_time: f64,
    pub(crate) input_length: u64,
    pub(crate) input_reads: u64,
    pub(crate) output_length: u64,
    pub(crate) output_writes: u64,
}

/// Sets what the dicts report about this process.
pub(crate) fn configure(threads: usize, server_metrics: bool) {
    THREADS.store(threads.max(1), Relaxed);
    SERVER_METRICS.store(server_metrics, Relaxed);
    *PROCESS_START.lock().unwrap_or_else(|e| e.into_inner()) = now_secs();
}

pub(crate) fn request_began() {
    ACTIVE.fetch_add(1, Relaxed);
}

fn us(seconds: f64) -> u64 {
    (seconds.max(0.0) * 1e6) as u64
}

pub(crate) fn request_ended() {
    ACTIVE.fetch_sub(1, Relaxed);
}

/// Whether start_recording_metrics() was called.
pub(crate) fn recording() -> bool {
    RECORDING.load(Relaxed)
}

/// Counts a finished request (called only while recording).
pub(crate) fn record(s: &Sample) {
    let t = &TOTALS;
    t.requests.fetch_add(1, Relaxed);
    if let Some(bucket) = (s.status / 100)
        .checked_sub(1)
        .and_then(|i| t.status.get(usize::from(i)))
    {
        bucket.fetch_add(1, Relaxed);
    }
    t.input_bytes.fetch_add(s.input_length, Relaxed);
    t.input_reads.fetch_add(s.input_reads, Relaxed);
    t.output_bytes.fetch_add(s.output_length, Relaxed);
    t.output_writes.fetch_add(s.output_writes, Relaxed);
    if s.request_start > 0.0 {
        t.server_us
            .fetch_add(us(s.application_start - s.request_start), Relaxed);
    }
    if s.daemon_start > 0.0 {
        t.queue_us
            .fetch_add(us(s.daemon_start - s.queue_start), Relaxed);
        t.daemon_us
            .fetch_add(us(s.application_start - s.daemon_start), Relaxed);
    }
    t.application_us.fetch_add(us(s.application_time), Relaxed);
    let n = current::thread_number() as usize;
    let mut per = PER_THREAD.lock().unwrap_or_else(|e| e.into_inner());
    if per.len() < n {
        per.resize(n, 0);
    }
    if let Some(c) = per.get_mut(n.wrapping_sub(1)) {
        *c += 1;
    }
}

fn snapshot(time: f64) -> Baseline {
    let t = &TOTALS;
    Baseline {
        time,
        cpu: rusage::process().unwrap_or_default(),
        requests: t.requests.load(Relaxed),
        status: std::array::from_fn(|i| t.status[i].load(Relaxed)),
        input_bytes: t.input_bytes.load(Relaxed),
        input_reads: t.input_reads.load(Relaxed),
        output_bytes: t.output_bytes.load(Relaxed),
        output_writes: t.output_writes.load(Relaxed),
        server_us: t.server_us.load(Relaxed),
        queue_us: t.queue_us.load(Relaxed),
        daemon_us: t.daemon_us.load(Relaxed),
        application_us: t.application_us.load(Relaxed),
    }
}

/// `mod_wsgi.start_recording_metrics()`: turns on the counters behind
/// `process_metrics()` and `request_metrics()`.
#[pyfunction]
fn start_recording_metrics() {
    if !RECORDING.swap(true, Relaxed) {
        *BASELINE.lock().unwrap_or_else(|e| e.into_inner()) = Some(snapshot(now_secs()));
    }
}

/// `mod_wsgi.process_metrics()`: this process since it started.
#[pyfunction]
fn process_metrics(py: Python<'_>) -> PyResult<Option<Bound<'_, PyDict>>> {
    if !RECORDING.load(Relaxed) {
        return Ok(None);
    }
    let d = PyDict::new(py);
    let now = now_secs();
    let start = *PROCESS_START.lock().unwrap_or_else(|e| e.into_inner());
    let cpu = rusage::process().unwrap_or_default();
    d.set_item("pid", std::process::id())?;
    d.set_item(
        "request_busy_time",
        TOTALS.application_us.load(Relaxed) as f64 / 1e6,
    )?;
    d.set_item("request_count", TOTALS.requests.load(Relaxed))?;
    d.set_item("memory_max_rss", rusage::max_rss_bytes())?;
    d.set_item("memory_rss", crate::os::memory::rss_bytes())?;
    d.set_item("cpu_user_time", cpu.user)?;
    d.set_item("cpu_system_time", cpu.system)?;
    d.set_item("cpu_time", cpu.user + cpu.system)?;
    d.set_item("restart_time", start)?;
    d.set_item("current_time", now)?;
    d.set_item("running_time", (now - start).max(0.0) as i64)?;
    d.set_item("request_threads", current::threads_started())?;
    d.set_item("active_requests", ACTIVE.load(Relaxed))?;
    let threads = PyList::empty(py);
    let per = PER_THREAD.lock().unwrap_or_else(|e| e.into_inner()).clone();
    for (i, count) in per.iter().enumerate() {
        let t = PyDict::new(py);
        t.set_item("thread_id", i + 1)?;
        t.set_item("request_count", count)?;
        threads.append(t)?;
    }
    d.set_item("threads", threads)?;
    Ok(Some(d))
}

/// `mod_wsgi.request_metrics()`: the interval since the previous call.
#[pyfunction]
fn request_metrics(py: Python<'_>) -> PyResult<Option<Bound<'_, PyDict>>> {
    if !RECORDING.load(Relaxed) {
        return Ok(None);
    }
    let now = snapshot(now_secs());
    let before = {
        let mut b = BASELINE.lock().unwrap_or_else(|e| e.into_inner());
        let before = b.unwrap_or(now);
        *b = Some(now);
        before
    };
    let period = (now.time - before.time).max(1e-9);
    let requests = now.requests - before.requests;
    let avg = |after: u64, prior: u64, n: u64| {
        if n == 0 {
            0.0
        } else {
            (after - prior) as f64 / 1e6 / n as f64
        }
    };
    let application_busy = (now.application_us - before.application_us) as f64 / 1e6;
    let threads = THREADS.load(Relaxed);
    let cpu_user = (now.cpu.user - before.cpu.user).max(0.0);
    let cpu_system = (now.cpu.system - before.cpu.system).max(0.0);
    let d = PyDict::new(py);
    d.set_item("pid", std::process::id())?;
    d.set_item("start_time", before.time)?;
    d.set_item("stop_time", now.time)?;
    d.set_item("sample_period", period)?;
    d.set_item("cpu_user_time", cpu_user)?;
    d.set_item("cpu_system_time", cpu_system)?;
    d.set_item("cpu_time", cpu_user + cpu_system)?;
    d.set_item("cpu_user_utilization", cpu_user / period)?;
    d.set_item("cpu_system_utilization", cpu_system / period)?;
    d.set_item("cpu_utilization", (cpu_user + cpu_system) / period)?;
    d.set_item("memory_max_rss", rusage::max_rss_bytes())?;
    d.set_item("memory_rss", crate::os::memory::rss_bytes())?;
    d.set_item("request_threads_maximum", threads)?;
    d.set_item("request_threads_started", current::threads_started())?;
    d.set_item("request_threads_active", ACTIVE.load(Relaxed))?;
    d.set_item(
        "capacity_utilization",
        application_busy / period / threads as f64,
    )?;
    d.set_item("request_count", requests)?;
    d.set_item("request_throughput", requests as f64 / period)?;
    for (i, name) in [
        "status_1xx",
        "status_2xx",
        "status_3xx",
        "status_4xx",
        "status_5xx",
    ]
    .iter()
    .enumerate()
    {
        d.set_item(*name, now.status[i] - before.status[i])?;
    }
    d.set_item("input_bytes", now.input_bytes - before.input_bytes)?;
    d.set_item("input_reads", now.input_reads - before.input_reads)?;
    d.set_item("output_bytes", now.output_bytes - before.output_bytes)?;
    d.set_item("output_writes", now.output_writes - before.output_writes)?;
    d.set_item(
        "server_time",
        avg(now.server_us, before.server_us, requests),
    )?;
    d.set_item("queue_time", avg(now.queue_us, before.queue_us, requests))?;
    d.set_item(
        "daemon_time",
        avg(now.daemon_us, before.daemon_us, requests),
    )?;
    d.set_item(
        "application_time",
        avg(now.application_us, before.application_us, requests),
    )?;
    Ok(Some(d))
}

fn latin1<'py>(py: Python<'py>, b: &[u8]) -> Bound<'py, PyAny> {
    crate::python::strings::latin1(py, b).into_any()
}

/// `mod_wsgi.server_metrics()`: Apache's scoreboard, or None when off.
#[pyfunction]
fn server_metrics(py: Python<'_>) -> PyResult<Option<Bound<'_, PyDict>>> {
    if !SERVER_METRICS.load(Relaxed) {
        return Ok(None);
    }
    let Some((g, processes)) = scoreboard::read() else {
        return Ok(None);
    };
    let now = now_secs();
    let d = PyDict::new(py);
    d.set_item("server_limit", g.server_limit)?;
    d.set_item("thread_limit", g.thread_limit)?;
    d.set_item("running_generation", g.running_generation)?;
    d.set_item("restart_time", g.restart_time as f64 / 1e6)?;
    d.set_item("current_time", now)?;
    d.set_item(
        "running_time",
        (now - g.restart_time as f64 / 1e6).max(0.0) as i64,
    )?;
    let list = PyList::empty(py);
    for (i, p) in processes.iter().enumerate() {
        let pd = PyDict::new(py);
        pd.set_item("process_num", i)?;
        pd.set_item("pid", p.pid)?;
        pd.set_item("generation", p.generation)?;
        pd.set_item("quiescing", p.quiescing)?;
        let workers = PyList::empty(py);
        for w in &p.workers {
            let wd = PyDict::new(py);
            wd.set_item("thread_num", w.thread_num)?;
            wd.set_item("generation", w.generation)?;
            wd.set_item("status", w.status)?;
            wd.set_item("access_count", w.access_count)?;
            wd.set_item("bytes_served", w.bytes_served)?;
            wd.set_item("start_time", w.start_time as f64 / 1e6)?;
            wd.set_item("stop_time", w.stop_time as f64 / 1e6)?;
            wd.set_item("last_used", w.last_used as f64 / 1e6)?;
            wd.set_item("client", latin1(py, &w.client))?;
            wd.set_item("request", latin1(py, &w.request))?;
            wd.set_item("vhost", latin1(py, &w.vhost))?;
            workers.append(wd)?;
        }
        pd.set_item("workers", workers)?;
        list.append(pd)?;
    }
    d.set_item("processes", list)?;
    if let Some(groups) = crate::metrics::read() {
        d.set_item("groups", groups_dict(py, &groups)?)?;
    }
    Ok(Some(d))
}

/// A histogram as a dict: cumulative buckets (le, count), sum in seconds,
/// count.
fn histogram<'py>(py: Python<'py>, h: &snapshot::Histogram) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let buckets = PyList::empty(py);
    for (le, n) in h.cumulative() {
        buckets.append((le, n))?;
    }
    d.set_item("buckets", buckets)?;
    d.set_item("sum", h.sum_us as f64 / 1e6)?;
    d.set_item("count", h.count())?;
    Ok(d)
}

/// The `groups` key (a mod_wsgi_rs addition to 6.1's dict): the figures
/// the wsgi-metrics handler exposes, summed over every process of this
/// Apache, per process group (`%{GLOBAL}`: the Apache children).
fn groups_dict<'py>(py: Python<'py>, groups: &[snapshot::Group]) -> PyResult<Bound<'py, PyDict>> {
    let out = PyDict::new(py);
    for g in groups {
        let d = PyDict::new(py);
        let codes = PyDict::new(py);
        for (i, &n) in g.requests.iter().enumerate().filter(|(_, &n)| n > 0) {
            codes.set_item(layout::code_label(i), n)?;
        }
        d.set_item("requests", codes)?;
        d.set_item("request_duration", histogram(py, &g.duration)?)?;
        if g.is_daemon() {
            d.set_item("queue_duration", histogram(py, &g.queue)?)?;
        }
        d.set_item("threads_busy", g.busy)?;
        d.set_item("threads_idle", g.threads - g.busy)?;
        d.set_item("processes", g.processes.len())?;
        let restarts = PyDict::new(py);
        for (i, &n) in g.restarts.iter().enumerate().filter(|(_, &n)| n > 0) {
            restarts.set_item(layout::REASONS[i], n)?;
        }
        d.set_item("restarts", restarts)?;
        d.set_item("request_body_buffers", g.bodies)?;
        d.set_item("request_body_buffered_bytes", g.body_bytes)?;
        d.set_item("response_spools", g.spools)?;
        d.set_item("response_spooled_bytes", g.spool_bytes)?;
        let memory = PyDict::new(py);
        for p in &g.processes {
            memory.set_item(p.pid, p.rss)?;
        }
        d.set_item("resident_memory", memory)?;
        out.set_item(&g.name, d)?;
    }
    Ok(out)
}

/// Adds the metrics functions to the module.
pub(crate) fn install(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(pyo3::wrap_pyfunction!(start_recording_metrics, m)?)?;
    m.add_function(pyo3::wrap_pyfunction!(process_metrics, m)?)?;
    m.add_function(pyo3::wrap_pyfunction!(request_metrics, m)?)?;
    m.add_function(pyo3::wrap_pyfunction!(server_metrics, m)?)?;
    Ok(())
}
