//! Processes the Apache parent forks besides its MPM children, supervised
//! through APR's "other child" registry: Apache's main loop reports their
//! death, its reclaim loop (stop, hard restart) asks them to end, and the
//! end of the registration's pool (every restart and the stop) unregisters
//! them. A process still running when its generation ends can be adopted
//! by the next generation, so that Apache knows it when it reaps it.

use super::ffi;
use super::pool::Pool;
use super::process::{fork, Forked, Proc};
use std::cell::{Cell, RefCell, RefMut, UnsafeCell};
use std::os::raw::{c_int, c_void};

/// What APR reports about a watched process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// The process ended (its wait status), or was lost (-1). It is no
    /// longer watched.
    Death(c_int),
    /// Apache is stopping or restarting hard: its reclaim loop asks.
    Restart,
    /// The registration's pool is being cleared or destroyed (a restart or
    /// the stop); the process is no longer watched.
    Unregister,
    /// Anything else (APR_OC_REASON_RUNNING and the like).
    Other,
}

/// A process slot kept in a pool, whose process is watched by APR and
/// whose events go to `on_event` with the slot's state.
pub(crate) struct OtherChild<T: 'static> {
    /// APR writes the pid here when forking and reads it when reaping.
    proc: UnsafeCell<Proc>,
    pool: *mut ffi::apr_pool_t,
    state: RefCell<T>,
    on_event: fn(&OtherChild<T>, Event),
    /// A registration with APR is live.
    watched: Cell<bool>,
    /// Set while this code ends a registration itself: APR's callback for
    /// it is not an event.
    unwatching: Cell<bool>,
}

impl<T: 'static> OtherChild<T> {
    /// A new slot with no process, kept in `pool` until it is cleared;
    /// registrations made for it end with that pool too.
    pub(crate) fn keep(
        pool: &Pool,
        state: T,
        on_event: fn(&OtherChild<T>, Event),
    ) -> &OtherChild<T> {
        let ptr = pool.keep(OtherChild {
            proc: UnsafeCell::new(Proc::new()),
            pool: pool.as_ptr(),
            state: RefCell::new(state),
            on_event,
            watched: Cell::new(false),
            unwatching: Cell::new(false),
        });
        // SAFETY: Pool::keep returns a pointer valid until the pool is
        // cleared, and a &Pool is only held while the pool is live.
        unsafe { &*ptr }
    }

    /// The slot's state (not while an event handler holds it: that panics).
    pub(crate) fn state(&self) -> RefMut<'_, T> {
        self.state.borrow_mut()
    }

    /// The current (or last) process's pid; 0 before the first fork.
    pub(crate) fn pid(&self) -> i32 {
        // SAFETY: the Apache parent runs this code on one thread, and APR
        // only touches `proc` inside the calls made below, never while this
        // read runs.
        unsafe { (*self.proc.get()).pid() }
    }

    /// Forks a new process for the slot; in the parent it is watched from
    /// then on.
    pub(crate) fn fork(&self) -> Result<Forked, i32> {
        // SAFETY: the pool was live when stored, and this slot (kept in it)
        // exists only while it is.
        let pool = unsafe { Pool::from_raw(self.pool) };
        // SAFETY: one thread; no other reference to `proc` is alive while
        // apr_proc_fork fills it in.
        let forked = fork(unsafe { &mut *self.proc.get() }, pool);
        if let Ok(Forked::Parent) = forked {
            self.watch();
        }
        forked
    }

    fn data(&self) -> *mut c_void {
        self as *const OtherChild<T> as *mut c_void
    }

    fn watch(&self) {
        self.unwatch();
        // SAFETY: `proc` and `self` live in the pool the registration is
        // made in, so they outlive it (the pool's cleanup ends it).
        unsafe {
            ffi::apr_proc_other_child_register(
                &mut (*self.proc.get()).0,
                Some(callback::<T>),
                self.data(),
                std::ptr::null_mut(),
                self.pool,
            )
        };
        self.watched.set(true);
    }

    /// Ends the registration, if any, without an event.
    fn unwatch(&self) {
        if !self.watched.replace(false) {
            return;
        }
        self.unwatching.set(true);
        // SAFETY: `self` is registered (watched was set), and APR finds the
        // registration by this same pointer.
        unsafe { ffi::apr_proc_other_child_unregister(self.data()) };
        self.unwatching.set(false);
    }

    /// A slot for a process an earlier generation forked (running, or
    /// exited and not yet reaped): it is watched from now on, so that
    /// Apache's main loop knows it when it reaps it.
    pub(crate) fn adopt(
        pool: &Pool,
        pid: i32,
        state: T,
        on_event: fn(&OtherChild<T>, Event),
    ) -> &OtherChild<T> {
        let child = Self::keep(pool, state, on_event);
        // SAFETY: one thread, and the slot is not registered yet: nothing
        // else reads or writes `proc`.
        unsafe { (*child.proc.get()).0.pid = pid };
        child.watch();
        child
    }
}

/// APR's callback for every registration of an `OtherChild<T>`.
unsafe extern "C" fn callback<T: 'static>(reason: c_int, data: *mut c_void, status: c_int) {
    crate::httpd::guard::ffi_guard((), || {
        // SAFETY: `data` is the pool-kept OtherChild<T> registered in
        // `watch`; APR calls back only while its registration lives, which
        // ends with that pool at the latest.
        let child = unsafe { &*(data as *const OtherChild<T>) };
        let event = match reason {
            ffi::APR_OC_REASON_DEATH | ffi::APR_OC_REASON_LOST => {
                // APR forgets the pid of a dead process but keeps the
                // registration: end it, as a later lookup would trip on it.
                child.unwatch();
                Event::Death(status)
            }
            ffi::APR_OC_REASON_RESTART => Event::Restart,
            ffi::APR_OC_REASON_UNREGISTER => {
                if child.unwatching.get() {
                    return;
                }
                child.watched.set(false);
                Event::Unregister
            }
            _ => Event::Other,
        };
        (child.on_event)(child, event);
    })
}
