//! `mod_wsgi.LogHandler`: Python logging into Apache's error log with the
//! levels mapped as 6.1 maps them (CRITICAL→crit, ERROR→error,
//! WARNING→warn, INFO→info, anything lower→debug). Inside a request the
//! lines carry the request's context (in daemon mode they go to the Apache
//! child with it); elsewhere they go to the main server's log.

use super::current;
use crate::httpd::log::{self, Level};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use std::ffi::CString;

const SOURCE: &str = include_str!("log_handler.py");

static CLASS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Python's numeric level as Apache's.
pub(crate) fn level_for(levelno: i64) -> Level {
    match levelno {
        50.. => Level::Crit,
        40..=49 => Level::Err,
        30..=39 => Level::Warn,
        20..=29 => Level::Info,
        _ => Level::Debug,
    }
}

#[pyfunction]
fn emit_to_apache(py: Python<'_>, levelno: i64, msg: &str) {
    let level = level_for(levelno);
    let channel = current::with(|c| c.map(|c| c.channel.clone()));
    let sent = channel.and_then(|ch| {
        let m = msg.to_owned();
        ch.io(py, move |b| b.log(level, &m))
    });
    if sent.is_none() {
        log::server(level, msg);
    }
}

/// The LogHandler class (built once per process).
pub(crate) fn class(py: Python<'_>, m: &Bound<'_, PyModule>) -> PyResult<Py<PyAny>> {
    CLASS
        .get_or_try_init(py, || -> PyResult<Py<PyAny>> {
            let globals = pyo3::types::PyDict::new(py);
            let code = CString::new(SOURCE).expect("no NUL in log_handler.py");
            py.run(&code, Some(&globals), None)?;
            let make = globals
                .get_item("make")?
                .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("make"))?;
            let emit = pyo3::wrap_pyfunction!(emit_to_apache, m)?;
            Ok(make.call1((emit,))?.unbind())
        })
        .map(|c| c.clone_ref(py))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_levels_map_to_apache_levels() {
        assert_eq!(level_for(50), Level::Crit);
        assert_eq!(level_for(40), Level::Err);
        assert_eq!(level_for(35), Level::Warn);
        assert_eq!(level_for(30), Level::Warn);
        assert_eq!(level_for(20), Level::Info);
        assert_eq!(level_for(10), Level::Debug);
        assert_eq!(level_for(0), Level::Debug);
    }
}
