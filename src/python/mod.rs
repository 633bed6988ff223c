//! Embedded CPython: start-up (after fork only), per-thread states, the
//! log streams behind sys.stdout/sys.stderr/wsgi.errors, script loading,
//! atexit handlers at exit.

pub(crate) mod api;
pub(crate) mod atexit;
pub(crate) mod environ_dict;
pub(crate) mod fresh_bytes;
pub(crate) mod interp;
pub(crate) mod logstream;
pub(crate) mod md5;
pub(crate) mod pinned;
pub(crate) mod script;
pub(crate) mod stdio;
pub(crate) mod strings;
pub(crate) mod thread;

use pyo3::prelude::*;

/// Formats a Python exception with its traceback, as Python prints it.
pub(crate) fn format_exception(py: Python<'_>, err: &PyErr) -> String {
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
