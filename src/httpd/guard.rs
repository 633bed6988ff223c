//! The panic guard every `extern "C"` entry point goes through: a Rust
//! panic must never unwind into Apache's C code.

use super::log::{self, Level};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`, turning a Rust panic into `on_panic` and a log line instead
/// of unwinding into Apache's C code.
pub(crate) fn ffi_guard<T>(on_panic: T, f: impl FnOnce() -> T) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(cause) => {
            log::server(
                Level::Crit,
                &format!(
                    "mod_wsgi_rs internal error (please report): {}",
                    panic_text(cause.as_ref())
                ),
            );
            on_panic
        }
    }
}

/// What a caught panic said.
pub(crate) fn panic_text(cause: &(dyn std::any::Any + Send)) -> String {
    cause
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| cause.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}
