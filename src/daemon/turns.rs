//! Which of a daemon process's request threads waits for the next request.
//!
//! One thread at a time has the turn: it waits in the process's epoll set
//! (`os::epoll::Parking`); the others wait here. The thread the set hands
//! a request gives the turn up without waking anyone, and when it has
//! answered it takes the turn again, usually to find the next request
//! already waiting: requests that arrive back to back run on one thread
//! without a thread wake-up each (with the GIL, a second thread could not
//! run Python meanwhile anyway): about one context switch less per small
//! request (`bench/changes.md`, 19).
//!
//! So that a request never waits long behind a slow one, one waiting
//! thread, the watcher, looks every `LOOK` while the turn is free. When
//! the same thread has kept it free for a whole look and is asleep in the
//! kernel (a database call, `time.sleep`, a full socket, the GIL), or has
//! kept it free for `LONG` whatever it does (a long computation, which the
//! GIL still shares every switch interval), the watcher takes the turn and
//! wakes another thread to watch. A free turn is not watched while another
//! thread waits in the epoll set: then the watcher sleeps until the turn is
//! given up.
//!
//! That suits short requests that run until they are done. When many
//! requests (a quarter or more, averaged over the measured ones, one in
//! `MEASURE_EVERY`) block (they wait on a database, say) or use
//! `SHORT_CPU_MICROS` of CPU or more, there are no turns: every idle thread
//! waits in the epoll set, which hands each request to one of them (a
//! thread wake-up per request, which such requests do not feel), until
//! most requests are short again. With blocking requests, a request waiting
//! for a look would be late every time and the process would start no more
//! than a request per look. Long requests lose with turns on a
//! busy CPU: the thread that takes them back to back never sleeps, so the
//! scheduler lets every thread that wakes (Apache's, the watcher) preempt
//! it in the middle of its Python, and the watcher is woken for each of
//! them (a Flask page of about 0.2 ms of CPU: 4343-4756 req/s without
//! turns, 3388-4089 with them, `bench/changes.md`, 20).

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often the watcher looks at a free turn.
const LOOK: Duration = Duration::from_micros(500);
/// How long a turn may stay free, given up by a thread that keeps running,
/// before the watcher takes it anyway.
const LONG: Duration = Duration::from_millis(10);
/// `slow` (a fraction in 1/256ths) from which the turn is handed on at
/// once: a quarter of the requests.
const EAGER: u32 = 64;
/// A request that used this much CPU time or more is not short (the
/// daemon's share of a hello-world request is 15-40 µs, of a small Flask
/// page about 200 µs).
const SHORT_CPU_MICROS: u64 = 100;

/// A thread measures one request in this many (`ran_through`): the two
/// marks of a request cost four system calls (a `getrusage` and a
/// `clock_gettime(CLOCK_THREAD_CPUTIME_ID)` each, 0.3 and 0.5 µs here),
/// about 1.7 µs, a tenth of the daemon's share of a hello-world request
/// (`bench/changes.md`, 21). The average then follows one request in four,
/// and a shift from short to long requests is seen four times later.
const MEASURE_EVERY: u32 = 4;

/// Picks the requests a thread measures: its first, then one in
/// `MEASURE_EVERY`.
#[derive(Default)]
pub(crate) struct Sampler {
    /// Requests to let go before the next measured one.
    skip: u32,
}

impl Sampler {
    /// Whether to measure the request this thread was just handed.
    pub(crate) fn measure(&mut self) -> bool {
        if self.skip == 0 {
            self.skip = MEASURE_EVERY - 1;
            true
        } else {
            self.skip -= 1;
            false
        }
    }
}

/// Whether a request ran through: short, and never waited (a thread's
/// marks when it was handed the request and when it asks for the turn
/// again).
pub(crate) fn ran_through(
    handed: crate::os::rusage::ThreadMark,
    back: crate::os::rusage::ThreadMark,
) -> bool {
    back.voluntary_switches == handed.voluntary_switches
        && back.cpu_micros.saturating_sub(handed.cpu_micros) < SHORT_CPU_MICROS
}

#[derive(Default)]
struct State {
    /// Threads that have a turn (they wait in the epoll set, or are about
    /// to): at most one while requests run through; any number while they
    /// block, and until those threads give theirs up after.
    polling: u32,
    /// Turns given up so far; the kernel id of the last thread to give one
    /// up, and when.
    given_up: u64,
    giver: i32,
    freed_at: Option<Instant>,
    /// A thread watches; `watcher_asleep`: it waits for the turn to be
    /// given up (no timeout), so `give_up` must wake it.
    watching: bool,
    watcher_asleep: bool,
    /// Threads waiting for the watcher's place.
    benched: usize,
    closed: bool,
    /// The share of requests that did not run through (they blocked or
    /// were long), in 1/256ths, a moving average (each request weighs 1/8).
    slow: u32,
}

impl State {
    fn eager(&self) -> bool {
        self.slow >= EAGER
    }
}

pub(crate) struct Turns {
    state: Mutex<State>,
    /// The watcher waits here.
    watch: Condvar,
    /// The other threads wait here, for the watcher's place.
    bench: Condvar,
    /// Whether a thread is asleep in the kernel (`os::process`); a test can
    /// stand in its own.
    asleep: fn(i32) -> bool,
}

impl Turns {
    pub(crate) fn new() -> Turns {
        Turns::with(|tid| crate::os::process::thread_asleep(tid).unwrap_or(true))
    }

    fn with(asleep: fn(i32) -> bool) -> Turns {
        Turns {
            state: Mutex::new(State::default()),
            watch: Condvar::new(),
            bench: Condvar::new(),
            asleep,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits up to `timeout` for the turn: true once this thread has it,
    /// false after `timeout` or once `close` ran. `served`: whether the
    /// request this thread just served ran through (`ran_through`; none
    /// when it served none).
    pub(crate) fn take(&self, timeout: Duration, served: Option<bool>) -> bool {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        if let Some(through) = served {
            let was = st.eager();
            st.slow = st.slow - st.slow / 8 + if through { 0 } else { 256 / 8 };
            if st.eager() && !was {
                // Every waiting thread goes to wait in the epoll set.
                self.watch.notify_all();
                self.bench.notify_all();
            }
        }
        loop {
            if st.closed {
                return false;
            }
            // Requests that block or are long: every idle thread waits in
            // the epoll set, which hands each request to one of them.
            if st.eager() {
                st.polling += 1;
                return true;
            }
            // A free turn goes at once to a thread that comes back from a
            // request (or starts): that is how back-to-back requests stay
            // on one thread.
            if st.polling == 0 {
                st.polling = 1;
                self.keep_watched(&st);
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            if !st.watching {
                st.watching = true;
                let (guard, took) = self.watch_turn(st, deadline);
                st = guard;
                st.watching = false;
                self.keep_watched(&st);
                if took {
                    return true;
                }
                continue;
            }
            st.benched += 1;
            st = self
                .bench
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            st.benched -= 1;
        }
    }

    /// A thread leaving: if no one watches and a thread waits for the
    /// place, wake it (the turn must never be left unwatched while a
    /// thread could watch it).
    fn keep_watched(&self, st: &State) {
        if !st.watching && st.benched > 0 {
            self.bench.notify_one();
        }
    }

    /// The watcher's loop: true when it took the turn; false at the
    /// deadline, on `close`, or when requests block (no turns).
    fn watch_turn<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        deadline: Instant,
    ) -> (MutexGuard<'a, State>, bool) {
        // The give-up seen free at the previous look.
        let mut seen: Option<u64> = None;
        loop {
            // Ended, or no turns any more (`take` sees which).
            let now = Instant::now();
            if st.closed || st.eager() || now >= deadline {
                return (st, false);
            }
            if st.polling == 0 {
                let given_up = st.given_up;
                if seen == Some(given_up) {
                    let long = st.freed_at.is_none_or(|t| now - t >= LONG);
                    let asleep = long || {
                        // /proc is read without the lock (the giver may be
                        // coming back for it meanwhile: checked again).
                        let giver = st.giver;
                        drop(st);
                        let asleep = (self.asleep)(giver);
                        st = self.lock();
                        asleep
                    };
                    if asleep && st.polling == 0 && st.given_up == given_up && !st.closed {
                        st.polling = 1;
                        return (st, true);
                    }
                }
                seen = Some(st.given_up);
            } else {
                seen = None;
            }
            // While the turn is taken, sleep until it is given up.
            let wait = if st.polling > 0 {
                deadline - now
            } else {
                LOOK.min(deadline - now)
            };
            st.watcher_asleep = st.polling > 0;
            st = self
                .watch
                .wait_timeout(st, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            st.watcher_asleep = false;
        }
    }

    /// Gives the turn up (this thread was handed work, or its wait ended
    /// without any): the next thread to ask takes it. Wakes the watcher
    /// when it sleeps because the turn was taken.
    pub(crate) fn give_up(&self) {
        let mut st = self.lock();
        st.polling = st.polling.saturating_sub(1);
        st.given_up = st.given_up.wrapping_add(1);
        st.giver = crate::os::process::kernel_thread_id();
        st.freed_at = Some(Instant::now());
        if st.watcher_asleep && st.polling == 0 {
            st.watcher_asleep = false;
            self.watch.notify_one();
        }
    }

    /// Every waiting thread returns, now and from now on (the process stops
    /// taking work).
    pub(crate) fn close(&self) {
        self.lock().closed = true;
        self.watch.notify_all();
        self.bench.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn turns(asleep: fn(i32) -> bool) -> Arc<Turns> {
        Arc::new(Turns::with(asleep))
    }

    /// Polls until a thread watches the taken turn, asleep.
    fn until_watcher_asleep(t: &Turns) {
        let until = Instant::now() + Duration::from_secs(5);
        while !t.lock().watcher_asleep {
            assert!(Instant::now() < until, "no watcher");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_free_turn_goes_to_whoever_asks_and_a_taken_one_to_nobody() {
        let t = turns(|_| true);
        assert!(t.take(Duration::from_millis(10), None));
        let start = Instant::now();
        assert!(!t.take(Duration::from_millis(30), None), "taken twice");
        assert!(start.elapsed() >= Duration::from_millis(30));
        t.give_up();
        assert!(t.take(Duration::ZERO, None));
        t.close();
        assert!(!t.take(Duration::from_secs(5), None));
    }

    /// Runs a watcher (a second thread asking for the turn) while the
    /// first keeps it free; how long the watcher waited for it.
    fn watcher_waits(asleep: fn(i32) -> bool) -> Duration {
        let (t, watcher) = taken_and_watched(asleep);
        // This thread now serves a request (the turn free) and does not
        // come back.
        let freed = Instant::now();
        t.give_up();
        assert!(watcher.join().unwrap(), "the watcher did not take the turn");
        freed.elapsed()
    }

    /// This thread has the turn, and a second thread asking for it (the
    /// watcher, its answer from `take` in the handle) is asleep on it.
    fn taken_and_watched(asleep: fn(i32) -> bool) -> (Arc<Turns>, std::thread::JoinHandle<bool>) {
        let t = turns(asleep);
        assert!(t.take(Duration::ZERO, None));
        let t2 = t.clone();
        let watcher = std::thread::spawn(move || t2.take(Duration::from_secs(5), None));
        until_watcher_asleep(&t);
        (t, watcher)
    }

    #[test]
    fn the_watcher_takes_a_turn_left_free_by_a_blocked_thread_within_two_looks() {
        let waited = watcher_waits(|_| true);
        assert!(waited < LONG, "{waited:?}");
    }

    #[test]
    fn the_watcher_takes_a_turn_left_free_by_a_running_thread_after_long() {
        let waited = watcher_waits(|_| false);
        assert!(waited >= LONG, "{waited:?}");
        assert!(waited < LONG * 10, "{waited:?}");
    }

    #[test]
    fn a_thread_back_from_its_request_takes_the_turn_before_the_watcher() {
        // A running giver: only a turn free for LONG is taken from it.
        let (t, watcher) = taken_and_watched(|_| false);
        // Requests back to back, each 0.1 ms (a busy loop, not a sleep
        // that a loaded machine could stretch): the turn always comes back
        // to this thread.
        let until = Instant::now() + Duration::from_millis(100);
        while Instant::now() < until {
            t.give_up();
            let busy = Instant::now();
            while busy.elapsed() < Duration::from_micros(100) {
                std::hint::spin_loop();
            }
            assert!(
                t.take(Duration::ZERO, None),
                "the watcher took a turn given up for 0.1 ms"
            );
        }
        t.give_up();
        assert!(
            watcher.join().unwrap(),
            "the watcher did not take the turn left free"
        );
    }

    #[test]
    fn after_blocking_requests_every_thread_waits_for_work() {
        let (t, watcher) = taken_and_watched(|_| false);
        // Requests that block: the watcher is released, and any thread
        // asking has its way at once, the turn taken or not.
        for _ in 0..30 {
            t.give_up();
            assert!(t.take(Duration::ZERO, Some(false)));
        }
        assert!(watcher.join().unwrap());
        assert!(t.take(Duration::ZERO, None));
        assert!(t.take(Duration::ZERO, None));
        // Four turns out now (this thread's, the watcher's, two more).
        assert_eq!(t.lock().polling, 4);
        // Requests that run through again: each turn given up (the last
        // three threads' wait ended), then one turn.
        for _ in 0..3 {
            t.give_up();
        }
        for _ in 0..60 {
            t.give_up();
            assert!(t.take(Duration::ZERO, Some(true)));
        }
        assert!(!t.lock().eager());
        assert_eq!(t.lock().polling, 1);
        assert!(!t.take(Duration::from_millis(5), None), "the turn is taken");
    }

    #[test]
    fn a_request_runs_through_when_it_neither_waited_nor_computed_long() {
        use crate::os::rusage::ThreadMark;
        let mark = |voluntary_switches, cpu_micros| ThreadMark {
            voluntary_switches,
            cpu_micros,
        };
        assert!(ran_through(
            mark(7, 1000),
            mark(7, 1000 + SHORT_CPU_MICROS - 1)
        ));
        assert!(!ran_through(mark(7, 1000), mark(8, 1001)), "it waited");
        assert!(
            !ran_through(mark(7, 1000), mark(7, 1000 + SHORT_CPU_MICROS)),
            "long"
        );
    }

    #[test]
    fn a_thread_measures_its_first_request_then_one_in_four() {
        let mut sampler = Sampler::default();
        let picked: Vec<bool> = (0..9).map(|_| sampler.measure()).collect();
        assert_eq!(
            picked,
            [true, false, false, false, true, false, false, false, true]
        );
    }

    #[test]
    fn close_wakes_the_watcher_and_the_bench() {
        let t = turns(|_| true);
        assert!(t.take(Duration::ZERO, None));
        let waiting: Vec<_> = (0..3)
            .map(|_| {
                let t = t.clone();
                std::thread::spawn(move || t.take(Duration::from_secs(30), None))
            })
            .collect();
        until_watcher_asleep(&t);
        let start = Instant::now();
        t.close();
        for w in waiting {
            assert!(!w.join().unwrap());
        }
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}
