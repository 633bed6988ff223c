//! `mod_wsgi.RequestTimeout`: what a daemon with `interrupt-timeout=`
//! raises in a thread whose request ran over `request-timeout=`. It derives
//! from BaseException (so `except Exception:` does not swallow it); when it
//! reaches the runner before the response started, the client gets 504 and
//! the thread goes on serving.

use crate::python::api::async_exc;
use pyo3::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

pyo3::create_exception!(
    mod_wsgi,
    RequestTimeout,
    pyo3::exceptions::PyBaseException,
    "Raised by mod_wsgi when a daemon request exceeds request-timeout and \
     interrupt-timeout is set. Derives from BaseException so that \
     'except Exception:' does not catch it; may be caught for clean-up but \
     should be re-raised so that the client is answered 504."
);

/// Set once an injection was made: from then on a request first drops any
/// injection aimed at its thread's previous request.
static INJECTED: AtomicBool = AtomicBool::new(false);

pub(crate) fn install(py: Python<'_>, m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("RequestTimeout", py.get_type::<RequestTimeout>())
}

/// Raises RequestTimeout in the thread `ident` (its pthread id); returns
/// whether the thread was found.
pub(crate) fn inject(py: Python<'_>, ident: u64) -> bool {
    INJECTED.store(true, Ordering::SeqCst);
    async_exc::raise_in_thread(py.get_type::<RequestTimeout>().as_any(), ident)
}

/// Drops an injection that arrived after its request ended.
pub(crate) fn clear_stale(py: Python<'_>) {
    if INJECTED.load(Ordering::Relaxed) {
        async_exc::clear_for_thread(py, crate::os::process::thread_id());
    }
}

/// Whether `err` is the injected RequestTimeout.
pub(crate) fn matches(py: Python<'_>, err: &PyErr) -> bool {
    err.is_instance_of::<RequestTimeout>(py)
}
