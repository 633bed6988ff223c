//! What the `mod_wsgi` module knows about the request a thread is running:
//! its application group (`mod_wsgi.application_group`), its
//! `request_data()` dict, its id (the key in `active_requests`), the
//! channel `LogHandler` logs through, and mod_wsgi's small thread number.
//!
//! One interpreter serves every application group of a process here (6.1
//! has one per group), so `application_group` cannot be a plain module
//! attribute: it is the group of the script whose code is running on the
//! calling thread (set while the script loads and while its application
//! runs), and "" on a thread outside any request.

use crate::wsgi::backend::Channel;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU32, Ordering};

/// The request a thread is running.
pub(crate) struct Current {
    pub(crate) id: Py<PyString>,
    pub(crate) data: Py<PyDict>,
    pub(crate) channel: Channel,
}

thread_local! {
    static CURRENT: RefCell<Option<Current>> = const { RefCell::new(None) };
    static GROUP: RefCell<Option<Py<PyString>>> = const { RefCell::new(None) };
    static THREAD_NUMBER: Cell<u32> = const { Cell::new(0) };
}

static THREADS_STARTED: AtomicU32 = AtomicU32::new(0);

/// mod_wsgi's number for the calling thread: 1, 2, ... in the order threads
/// first ran a request.
pub(crate) fn thread_number() -> u32 {
    THREAD_NUMBER.with(|n| {
        if n.get() == 0 {
            n.set(THREADS_STARTED.fetch_add(1, Ordering::Relaxed) + 1);
        }
        n.get()
    })
}

/// How many threads have run a request in this process.
pub(crate) fn threads_started() -> u32 {
    THREADS_STARTED.load(Ordering::Relaxed)
}

/// Sets the calling thread's application group (None: outside any script).
pub(crate) fn set_group(group: Option<Py<PyString>>) {
    GROUP.with(|g| *g.borrow_mut() = group);
}

/// The calling thread's application group ("" outside any script).
pub(crate) fn group(py: Python<'_>) -> Bound<'_, PyString> {
    GROUP.with(|g| match g.borrow().as_ref() {
        Some(s) => s.bind(py).clone(),
        None => PyString::new(py, ""),
    })
}

/// Sets (or clears) the calling thread's request.
pub(crate) fn set(current: Option<Current>) -> Option<Current> {
    CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), current))
}

/// Runs `f` with the calling thread's request, if it runs one.
pub(crate) fn with<R>(f: impl FnOnce(Option<&Current>) -> R) -> R {
    CURRENT.with(|c| f(c.borrow().as_ref()))
}

/// `mod_wsgi.request_data()`: the dict private to the calling thread's
/// request (the same one events carry as `request_data`).
#[pyfunction]
pub(crate) fn request_data(py: Python<'_>) -> PyResult<Py<PyDict>> {
    with(|c| c.map(|c| c.data.clone_ref(py)))
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("no active request for thread"))
}
