//! Embedded CPython: start-up (after fork only), per-thread states, the
//! log streams behind sys.stdout/sys.stderr/wsgi.errors, script loading,
//! atexit handlers at exit.

pub mod api;
pub mod atexit;
pub mod fresh_bytes;
pub mod interp;
pub mod logstream;
pub mod md5;
pub mod pinned;
pub mod script;
pub mod stdio;
pub mod strings;
pub mod thread;

use pyo3::prelude::*;

/// Formats a Python exception with its traceback, as Python prints it.
pub fn format_exception(py: Python<'_>, err: &PyErr) -> String {
    let formatted = (|| -> PyResult<String> {
        let tb = py.import("traceback")?;
        let lines = tb.call_method1(
            "format_exception",
            (err.get_type(py), err.value(py), err.traceback(py)),
        )?;
        let joined: String = pyo3::types::PyString::new(py, "")
            .call_method1("join", (lines,))?
            .extract()?;
        Ok(joined)
    })();
    formatted.unwrap_or_else(|_| format!("{err}"))
}
