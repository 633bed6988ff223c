//! Python's `atexit` handlers, run once when a process ends normally (an
//! Apache child, a daemon worker), after its last request, with the GIL.
//!
//! Python is not finalized (`Py_Finalize`): it joins every non-daemon
//! thread and tears modules down while a stuck request thread or a spool
//! writer may still use them, and nothing bounds how long it takes; a
//! daemon must be gone within shutdown-timeout and an Apache child before
//! Apache kills it. The process leaves with `_exit` (daemon) or Apache's
//! `exit` right after, so what applications rely on at exit (`atexit`,
//! and mod_wsgi's shutdown callbacks, published before) is what runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pyo3::prelude::*;

use crate::httpd::log::{self, Level};

static RAN: AtomicBool = AtomicBool::new(false);

/// Runs `atexit._run_exitfuncs()` on a thread of its own and waits for it
/// at most `bound`: a handler that hangs (or a thread that keeps the GIL)
/// cannot hold the exit up. Returns false when the handlers were still
/// running at the deadline. Only the first call in a process runs them.
pub(crate) fn run_handlers(bound: Duration) -> bool {
    if RAN.swap(true, Ordering::SeqCst) {
        return true;
    }
    let (done, finished) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("wsgi-atexit".into())
        .spawn(move || {
            super::thread::ensure();
            Python::attach(|py| {
                // _run_exitfuncs logs a failing handler's traceback itself
                // (sys.stderr, hence the error log) and goes on.
                let ran = py
                    .import("atexit")
                    .and_then(|m| m.call_method0("_run_exitfuncs"));
                if let Err(e) = ran {
                    let text = super::format_exception(py, &e);
                    py.detach(|| {
                        log::server(
                            Level::Err,
                            &format!("Python atexit handlers failed: {text}"),
                        )
                    });
                }
            });
            let _ = done.send(());
        });
    spawned.is_ok() && finished.recv_timeout(bound).is_ok()
}
