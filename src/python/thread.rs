//! One Python thread state per Apache thread, kept for the thread's life.
//!
//! PyO3's `Python::attach` uses PyGILState_Ensure/Release, which would
//! create and destroy a thread state on every request. Taking one extra
//! PyGILState_Ensure the first time a thread runs Python (and releasing the
//! GIL straight after) keeps the count above zero, so later attaches reuse
//! the same thread state and thread-locals survive between requests.

use std::cell::Cell;

thread_local! {
    static HAS_STATE: Cell<bool> = const { Cell::new(false) };
}

/// Called on the thread that started Python (its state already exists).
pub(crate) fn mark_main_thread() {
    HAS_STATE.with(|h| h.set(true));
}

/// Makes sure this thread has its lifelong Python thread state.
pub(crate) fn ensure() {
    HAS_STATE.with(|h| {
        if !h.get() {
            // SAFETY: Python is initialised (callers check `started()`);
            // PyGILState_Ensure creates this thread's state and takes the
            // GIL, PyEval_SaveThread releases the GIL but keeps the state.
            unsafe {
                pyo3::ffi::PyGILState_Ensure();
                pyo3::ffi::PyEval_SaveThread();
            }
            h.set(true);
        }
    });
}
