//! How long the current request's thread waited for the GIL (the
//! `gil_wait_time`/`gil_wait_count` figures of `request_finished`):
//! thread-local sums, started when a request first takes the GIL and added
//! to each time its I/O takes it back.

use std::cell::Cell;
use std::time::{Duration, Instant};

thread_local! {
    static WAIT: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A request's first take of the GIL: starts the sums with its wait.
pub(crate) fn begin(waited: Duration) {
    WAIT.with(|w| w.set((waited.as_micros() as u64, 1)));
}

/// One more take of the GIL, asked for at `asked`.
pub(crate) fn retaken(asked: Instant) {
    let us = asked.elapsed().as_micros() as u64;
    WAIT.with(|w| {
        let (t, n) = w.get();
        w.set((t + us, n + 1));
    });
}

/// (microseconds waited, times taken) since `begin`.
pub(crate) fn current() -> (u64, u64) {
    WAIT.with(|w| w.get())
}
