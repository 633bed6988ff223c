//! The `mod_wsgi` and `apache` Python modules, as mod_wsgi 6.1 offers them
//! to applications, in both modes: attributes (`attributes`), the calling
//! thread's request (`current`), the event bus (`events`), the runner's
//! request bracket (`request`), metrics (`metrics`), `RequestTimeout`
//! (`timeout`), `LogHandler` (`log_handler`) and the `apache` module
//! (`apache`). The raw C-API parts live in `python::api`.

pub(crate) mod apache;
pub(crate) mod attributes;
pub(crate) mod current;
pub(crate) mod events;
pub(crate) mod log_handler;
pub(crate) mod metrics;
pub(crate) mod request;
pub(crate) mod timeout;

pub(crate) use request::{Begin, End, Scope};

use crate::httpd::log::{self, Level};
use pyo3::prelude::*;

/// What a process tells the modules about itself.
pub(crate) struct Settings<'a> {
    pub(crate) process_group: &'a str,
    /// (processes, threads) of a daemon group; None in an Apache child.
    pub(crate) daemon: Option<(usize, usize)>,
    /// WSGIServerMetrics / server-metrics=.
    pub(crate) server_metrics: bool,
}

/// Fills the `mod_wsgi` module (created by `python::interp::start`) and
/// creates `apache`. Called once per process, right after Python started.
pub(crate) fn install(settings: &Settings<'_>) {
    let threads = match settings.daemon {
        Some((_, t)) => t,
        None => crate::httpd::server::mpm_max_threads().max(1) as usize,
    };
    metrics::configure(threads, settings.server_metrics);
    crate::python::thread::ensure();
    let done = Python::attach(|py| -> PyResult<()> {
        let m = py.import("mod_wsgi")?;
        let values = attributes::Values {
            process_group: settings.process_group,
            daemon: settings.daemon,
        };
        attributes::install(py, &m, &values)?;
        events::install(py, &m)?;
        metrics::install(&m)?;
        timeout::install(py, &m)?;
        apache::install(py)
    });
    if let Err(e) = done {
        log::server(
            Level::Err,
            &format!("cannot set up the mod_wsgi/apache Python modules: {e}"),
        );
    }
}

/// Publishes `process_stopping` (and runs the shutdown callbacks), as 6.1
/// does before a process waits for its requests in flight. The callbacks
/// run on a thread of their own and are given at most `wait`: one that
/// hangs, or a request thread that keeps the GIL, does not keep the
/// process from ending.
pub(crate) fn process_stopping(reason: &'static str, wait: std::time::Duration) {
    let (done, finished) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("wsgi-stopping".into())
        .spawn(move || {
            crate::python::thread::ensure();
            Python::attach(|py| events::process_stopping(py, reason));
            let _ = done.send(());
        });
    if spawned.is_ok() {
        let _ = finished.recv_timeout(wait);
    }
}
