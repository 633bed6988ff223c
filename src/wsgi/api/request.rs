//! One request as the `mod_wsgi` module sees it, from the runner's three
//! calls: `Scope::enter` (before the script loads: application group,
//! request_data, active_requests), `Scope::started` (just before the
//! application is called: `request_started`, which may wrap the
//! application) and `Scope::exit` (after close(): `request_finished`, the
//! metrics). With no subscriber and metrics not recording, a request costs
//! a dict, a string and a few thread-local stores.

use super::current::{self, Current};
use super::{events, metrics, timeout};
use crate::os::rusage::{self, CpuTimes};
use crate::wsgi::backend::Channel;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::time::Instant;

/// What the runner knows when a request begins.
pub(crate) struct Begin<'a> {
    pub(crate) group: &'a str,
    /// When a daemon thread took the request (µs since the epoch); None in
    /// embedded mode.
    pub(crate) daemon_start_us: Option<i64>,
    pub(crate) channel: &'a Channel,
}

/// What the runner knows when the request ended.
#[derive(Default)]
pub(crate) struct End {
    pub(crate) status: u16,
    pub(crate) input_length: u64,
    pub(crate) input_reads: u64,
    pub(crate) output_length: u64,
    pub(crate) output_writes: u64,
}

/// When the request reached Apache, was queued for a daemon and taken by
/// a daemon thread: seconds since the epoch (0.0 when not known, as 6.1
/// reports queue and daemon start in embedded mode).
#[derive(Clone, Copy)]
struct Times {
    request_start: f64,
    queue_start: f64,
    daemon_start: f64,
}

/// A request in progress.
pub(crate) struct Scope {
    channel: Channel,
    id: Py<PyString>,
    data: Py<PyDict>,
    environ: Py<PyDict>,
    daemon_start_us: Option<i64>,
    /// Read from environ when first needed (an event or the metrics).
    times: Option<Times>,
    application_start: f64,
    started_at: Option<Instant>,
    cpu_start: Option<CpuTimes>,
}

pub(crate) fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// An instant from environ in seconds since the epoch: a float (seconds,
/// as mod_wsgi 6.1 puts them), or a string of integer microseconds or of
/// float seconds.
fn environ_secs(environ: &Bound<'_, PyDict>, key: &Bound<'_, PyString>) -> Option<f64> {
    let v = environ.get_item(key).ok()??;
    if let Ok(f) = v.cast::<pyo3::types::PyFloat>() {
        return Some(f.value());
    }
    let s: String = v.extract().ok()?;
    let s = s.trim();
    if s.contains('.') {
        s.parse::<f64>().ok()
    } else {
        s.parse::<i64>().ok().map(|us| us as f64 / 1e6)
    }
}

fn active_requests(py: Python<'_>) -> Option<&Bound<'_, PyDict>> {
    super::attributes::ACTIVE_REQUESTS
        .get(py)
        .map(|d| d.bind(py))
}

impl Scope {
    /// The request begins on this thread (before its script is loaded).
    pub(crate) fn enter(py: Python<'_>, begin: &Begin<'_>, environ: &Bound<'_, PyDict>) -> Scope {
        timeout::clear_stale(py);
        current::set_group(Some(PyString::new(py, begin.group).unbind()));
        let id = environ
            .get_item(intern!(py, "mod_wsgi.request_id"))
            .ok()
            .flatten()
            .and_then(|v| v.cast_into::<PyString>().ok())
            .unwrap_or_else(|| PyString::new(py, ""))
            .unbind();
        let data = PyDict::new(py).unbind();
        if let Some(active) = active_requests(py) {
            let _ = active.set_item(id.bind(py), data.bind(py));
        }
        current::set(Some(Current {
            id: id.clone_ref(py),
            data: data.clone_ref(py),
            channel: begin.channel.clone(),
        }));
        metrics::request_began();
        Scope {
            channel: begin.channel.clone(),
            id,
            data,
            environ: environ.clone().unbind(),
            daemon_start_us: begin.daemon_start_us,
            times: None,
            application_start: 0.0,
            started_at: None,
            cpu_start: None,
        }
    }

    fn times(&mut self, py: Python<'_>) -> Times {
        if let Some(t) = self.times {
            return t;
        }
        let environ = self.environ.bind(py);
        let request_start =
            environ_secs(environ, intern!(py, "mod_wsgi.request_start")).unwrap_or(0.0);
        let (queue_start, daemon_start) = match self.daemon_start_us {
            Some(us) => (
                environ_secs(environ, intern!(py, "mod_wsgi.queue_start")).unwrap_or(request_start),
                us as f64 / 1e6,
            ),
            None => (0.0, 0.0),
        };
        let t = Times {
            request_start,
            queue_start,
            daemon_start,
        };
        self.times = Some(t);
        t
    }

    /// The request's channel to its backend.
    pub(crate) fn channel(&self) -> Channel {
        self.channel.clone()
    }

    /// The application is about to be called: publishes `request_started`
    /// and returns the application to call (a subscriber may wrap it by
    /// returning `{"application_object": wrapper}`).
    pub(crate) fn started<'py>(
        &mut self,
        py: Python<'py>,
        callable: &str,
        environ: &Bound<'py, PyDict>,
        app: Bound<'py, PyAny>,
    ) -> Bound<'py, PyAny> {
        self.application_start = now_secs();
        self.started_at = Some(Instant::now());
        if !events::subscribed(py) {
            return app;
        }
        self.cpu_start = rusage::thread();
        let t = self.times(py);
        let event = PyDict::new(py);
        let built = (|| -> PyResult<()> {
            event.set_item("request_id", self.id.bind(py))?;
            event.set_item("thread_id", current::thread_number())?;
            event.set_item("daemon_connects", 1)?;
            event.set_item("daemon_restarts", 0)?;
            event.set_item("server_pid", std::process::id())?;
            event.set_item("request_start", t.request_start)?;
            event.set_item("queue_start", t.queue_start)?;
            event.set_item("daemon_start", t.daemon_start)?;
            event.set_item("application_object", &app)?;
            event.set_item("callable_object", callable)?;
            event.set_item("request_environ", environ)?;
            event.set_item("application_start", self.application_start)?;
            event.set_item("request_data", self.data.bind(py))?;
            Ok(())
        })();
        if built.is_err() {
            return app;
        }
        events::publish(py, "request_started", &event);
        match event.get_item("application_object") {
            Ok(Some(wrapped)) => wrapped,
            _ => app,
        }
    }

    /// The request is over (close() called): publishes `request_finished`,
    /// records the metrics and forgets the request.
    pub(crate) fn exit(mut self, py: Python<'_>, end: &End) {
        let finish = now_secs();
        let application_time = self.started_at.map_or(0.0, |t| t.elapsed().as_secs_f64());
        if events::subscribed(py) {
            let t = self.times(py);
            let _ = self.publish_finished(py, t, end, finish, application_time);
        }
        metrics::request_ended();
        if metrics::recording() {
            let t = self.times(py);
            metrics::record(&metrics::Sample {
                status: end.status,
                request_start: t.request_start,
                queue_start: t.queue_start,
                daemon_start: t.daemon_start,
                application_start: self.application_start,
                application_time,
                input_length: end.input_length,
                input_reads: end.input_reads,
                output_length: end.output_length,
                output_writes: end.output_writes,
            });
        }
        if let Some(active) = active_requests(py) {
            let _ = active.del_item(self.id.bind(py));
        }
        current::set(None);
        current::set_group(None);
    }

    fn publish_finished(
        &self,
        py: Python<'_>,
        t: Times,
        end: &End,
        finish: f64,
        application_time: f64,
    ) -> PyResult<()> {
        let event = PyDict::new(py);
        event.set_item("request_id", self.id.bind(py))?;
        event.set_item("thread_id", current::thread_number())?;
        event.set_item("server_pid", std::process::id())?;
        event.set_item("request_start", t.request_start)?;
        event.set_item("queue_start", t.queue_start)?;
        event.set_item("daemon_start", t.daemon_start)?;
        event.set_item("input_reads", end.input_reads)?;
        event.set_item("input_length", end.input_length)?;
        // Reads are not timed separately (they happen inside the
        // application's time).
        event.set_item("input_time", 0.0)?;
        event.set_item("output_length", end.output_length)?;
        event.set_item("output_writes", end.output_writes)?;
        event.set_item("output_time", 0.0)?;
        if let (Some(a), Some(b)) = (self.cpu_start, rusage::thread()) {
            // As 6.1: CPU time never exceeds the wall time it was spent in.
            let mut user = (b.user - a.user).max(0.0);
            let mut system = (b.system - a.system).max(0.0);
            let total = user + system;
            if total > application_time && total > 0.0 {
                user = user / total * application_time;
                system = application_time - user;
            }
            event.set_item("cpu_user_time", user)?;
            event.set_item("cpu_system_time", system)?;
            event.set_item("cpu_time", user + system)?;
        }
        event.set_item("application_finish", finish)?;
        event.set_item("application_time", application_time)?;
        event.set_item("status", end.status)?;
        let (gil_us, gil_count) = crate::python::api::gil_wait::current();
        event.set_item("gil_wait_time", gil_us as f64 / 1e6)?;
        event.set_item("gil_wait_count", gil_count)?;
        event.set_item("request_data", self.data.bind(py))?;
        events::publish(py, "request_finished", &event);
        Ok(())
    }
}
