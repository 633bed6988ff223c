//! The `mod_wsgi` module's attributes: `version` (the mod_wsgi API level
//! implemented, as 6.1 reports it), `implementation_version` (mod_wsgi_rs's
//! own version; `server_implementation` names it), `process_group`,
//! `application_group` (per thread, see `current`), `maximum_processes`
//! and `threads_per_process` (the daemon group's, or the MPM's in embedded
//! mode), `FileWrapper`, `active_requests` (request id → request_data for
//! the requests in progress), `request_data()`, `LogHandler` (built on
//! first use).

use super::{current, log_handler};
use crate::httpd::server;
use crate::wsgi::file_wrapper::FileWrapper;
use pyo3::exceptions::PyAttributeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;

/// The mod_wsgi version whose Python API this module implements.
pub(crate) const API_VERSION: (i32, i32, i32) = (6, 1, 1);

pub(crate) static ACTIVE_REQUESTS: PyOnceLock<Py<PyDict>> = PyOnceLock::new();

/// The module's process-wide values.
pub(crate) struct Values<'a> {
    pub(crate) process_group: &'a str,
    /// None in embedded mode (the MPM's values are reported).
    pub(crate) daemon: Option<(usize, usize)>,
}

pub(crate) fn install(py: Python<'_>, m: &Bound<'_, PyModule>, v: &Values<'_>) -> PyResult<()> {
    m.add("version", API_VERSION)?;
    m.add("implementation_version", crate::version_tuple())?;
    m.add("process_group", v.process_group)?;
    let (processes, threads) = match v.daemon {
        Some((p, t)) => (p as i64, t as i64),
        None => (
            i64::from(server::mpm_max_processes()),
            i64::from(server::mpm_max_threads()),
        ),
    };
    m.add("maximum_processes", processes)?;
    m.add("threads_per_process", threads)?;
    m.add("FileWrapper", py.get_type::<FileWrapper>())?;
    let active = ACTIVE_REQUESTS.get_or_init(py, || PyDict::new(py).unbind());
    m.add("active_requests", active.bind(py))?;
    m.add_function(pyo3::wrap_pyfunction!(current::request_data, m)?)?;
    m.add_function(pyo3::wrap_pyfunction!(module_getattr, m)?)?;
    Ok(())
}

/// The module's `__getattr__` (PEP 562): `application_group` is the
/// calling thread's; `LogHandler` is built on first use, then kept.
#[pyfunction(name = "__getattr__")]
fn module_getattr(py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
    match name {
        "application_group" => Ok(current::group(py).into_any().unbind()),
        "LogHandler" => {
            let m = py.import("mod_wsgi")?;
            let class = log_handler::class(py, &m)?;
            m.setattr("LogHandler", class.bind(py))?;
            Ok(class)
        }
        _ => Err(PyAttributeError::new_err(format!(
            "module 'mod_wsgi' has no attribute '{name}'"
        ))),
    }
}
