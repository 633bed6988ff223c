//! `os.close` / `os.closerange` as the application sees them: closing one of
//! the standard descriptors 0-2 re-points it instead of freeing the number
//! (see `os::stdio` for why a freed 0-2 leaks the application's stderr into
//! another connection). bootstrap.py wraps the two functions and calls
//! [`keep_standard_fd`] for 0-2.

use crate::httpd::log::{self, Level};
use crate::os::stdio;
use pyo3::pyfunction;
use std::sync::atomic::AtomicU8;

/// Re-points standard descriptor `fd` where the application called `call`
/// (e.g. "os.close(2)") to close it; logs the first time per descriptor.
/// False when the descriptor could not be kept (the wrapper then closes it
/// as asked).
#[pyfunction]
pub(crate) fn keep_standard_fd(fd: i32, call: &str) -> bool {
    if !stdio::keep_open(fd) {
        return false;
    }
    static LOGGED: AtomicU8 = AtomicU8::new(0);
    if stdio::first_time(&LOGGED, fd) {
        log::server(
            Level::Warn,
            &format!(
                "the application called {call}: file descriptor {fd} ({}) was kept open on {} \
                 instead, since a freed number 0-2 would be taken by the next connection this \
                 process accepts and what is written to it would reach that peer (logged once \
                 per process)",
                stdio::name(fd),
                stdio::target(fd)
            ),
        );
    }
    true
}
