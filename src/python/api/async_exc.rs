//! Raising an exception in another thread (PyThreadState_SetAsyncExc), for
//! `mod_wsgi.RequestTimeout` under `interrupt-timeout=`.

use pyo3::prelude::*;

/// Schedules `exc` (an exception class) to be raised in the thread whose
/// Python ident is `ident` (pthread_self) the next time it runs bytecode.
/// Returns whether such a thread was found.
pub(crate) fn raise_in_thread(exc: &Bound<'_, PyAny>, ident: u64) -> bool {
    // SAFETY: the GIL is held (a Bound proves it); `exc` is a live object
    // (SetAsyncExc takes its own reference); an unknown ident changes nothing.
    unsafe { pyo3::ffi::PyThreadState_SetAsyncExc(ident as _, exc.as_ptr()) == 1 }
}

/// Drops an exception scheduled for the thread `ident` and not raised yet
/// (one aimed at a request that ended before it arrived).
pub(crate) fn clear_for_thread(_py: Python<'_>, ident: u64) {
    // SAFETY: the GIL is held (the Python token proves it); NULL clears.
    unsafe {
        pyo3::ffi::PyThreadState_SetAsyncExc(ident as _, std::ptr::null_mut());
    }
}
