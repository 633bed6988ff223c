//! The Python worker process of a daemon slot, forked by the slot
//! manager: it starts Python, preloads scripts and serves with `threads`
//! threads while its main thread watches the limits that end it
//! (maximum-requests, restart-interval, inactivity-timeout, memory-limit,
//! request-timeout, deadlock-timeout, a changed script, a stop signal).
//! Ending is graceful: no new connections are accepted, requests in flight
//! may finish, Python's atexit handlers run (bounded by shutdown-timeout),
//! then the worker exits (the manager has started its replacement by then).
//! SIGUSR1 (`kill -USR1 <pid>`) restarts the one process that way
//! (eviction-timeout), and startup-timeout= restarts a process whose
//! application never loaded. With threads=0 the process only runs its
//! WSGIImportScript scripts and answers requests with a 503.

use super::registry::Group;
use super::server;
use super::spool;
use super::turns;
use crate::httpd::log::Level;
use crate::os::{self, identity, signals};
use crate::python;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the workers and the monitor share.
pub(crate) struct State {
    pub(crate) group: Arc<Group>,
    pub(crate) stopping: AtomicBool,
    pub(crate) active: AtomicUsize,
    pub(crate) served: AtomicU64,
    /// Microseconds since `epoch` of the last request's end (activity).
    pub(crate) last_activity: AtomicU64,
    pub(crate) epoch: Instant,
    /// Per worker: its current request.
    pub(crate) busy: Mutex<Vec<Option<Busy>>>,
    pub(crate) heartbeat: AtomicU64,
    /// Request threads still taking work (accepting, or idle connections).
    pub(crate) running: AtomicUsize,
    /// Pipe to the manager: this worker's pid when it starts draining.
    pub(crate) notify: i32,
    /// This process's id (sent to the Apache child with every request).
    pub(crate) pid: u32,
    /// The listening socket and the idle connections Apache children keep.
    pub(crate) parking: os::epoll::Parking,
    /// Request threads waiting for work.
    pub(crate) idle_threads: AtomicUsize,
    /// Which of them waits in `parking` (one at a time).
    pub(crate) turns: turns::Turns,
}

/// A request thread's current request.
#[derive(Clone, Copy)]
pub(crate) struct Busy {
    pub(crate) since: Instant,
    /// The thread's id (pthread_self, Python's thread ident).
    pub(crate) thread: u64,
    /// When RequestTimeout was raised in it (interrupt-timeout).
    pub(crate) interrupted: Option<Instant>,
}

/// The longest a request thread waits for work before looking at
/// `stopping` again; setting it also wakes the waiting threads
/// (`Parking::wake_all`), so this is only a safety net.
const IDLE_WAIT_MS: i32 = 5000;
const IDLE_WAIT: Duration = Duration::from_millis(IDLE_WAIT_MS as u64);

/// Idle connections one daemon process keeps open at most; beyond that a
/// connection is closed after its request (the Apache child reconnects).
const MAX_IDLE_CONNECTIONS: usize = 512;

impl State {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

/// The Python worker process: starts Python, preloads, serves with
/// `threads` threads while the main thread watches the limits. `notify`
/// is the pipe to the manager.
pub(crate) fn run(group: Arc<Group>, index: usize, notify: i32) -> ! {
    // SIGUSR1 restarts this process gracefully (the handler comes from
    // the manager); one meant for the manager before the fork is not ours.
    signals::catch_evict();
    let _ = signals::take_evict();
    // Request threads otherwise get a malloc arena each, and every arena
    // keeps freed memory: an idle daemon would hold a little per thread.
    os::memory::set_malloc_arenas(2);
    if let Some(secs) = group.cfg.cpu_time_limit {
        let _ = os::process::set_limit(os::process::Limit::CpuSeconds, u64::from(secs));
    }
    if let Some(bytes) = group.cfg.virtual_memory_limit {
        let _ = os::process::set_limit(os::process::Limit::AddressSpace, bytes);
    }
    crate::metrics::claim(&group.cfg.name, group.cfg.threads.max(1) as usize);
    if let Err(e) = python::interp::start(&group.python) {
        server::refuse_forever(&group, &format!("Python could not start: {e}"));
    }
    crate::wsgi::api::install(&crate::wsgi::api::Settings {
        process_group: &group.python.process_group,
        daemon: Some((group.python.processes, group.python.threads)),
        server_metrics: group.cfg.server_metrics,
    });
    for (file, app_group) in &group.preloads {
        let file = std::path::Path::new(file);
        match super::script_owner::check(&group.cfg, file) {
            Ok(()) => crate::wsgi::runner::preload(file, app_group),
            Err(e) => group.say(Level::Err, &e),
        }
    }
    group.say(
        Level::Info,
        &format!(
            "instance {} ready, uid {}, gid {}, {} threads",
            index + 1,
            identity::current_uid(),
            identity::current_gid(),
            group.cfg.threads
        ),
    );

    let threads = group.cfg.threads as usize;
    let parking = match os::epoll::Parking::new(group.listen_fd, MAX_IDLE_CONNECTIONS) {
        Ok(p) => p,
        Err(e) => {
            group.say(
                Level::Crit,
                &format!("cannot watch the group's socket: {e}"),
            );
            os::process::exit_now(1);
        }
    };
    let state = Arc::new(State {
        group: group.clone(),
        stopping: AtomicBool::new(false),
        active: AtomicUsize::new(0),
        served: AtomicU64::new(0),
        last_activity: AtomicU64::new(0),
        epoch: Instant::now(),
        busy: Mutex::new(vec![None; threads]),
        heartbeat: AtomicU64::new(0),
        running: AtomicUsize::new(threads),
        notify,
        pid: std::process::id(),
        parking,
        idle_threads: AtomicUsize::new(threads),
        turns: turns::Turns::new(),
    });
    for worker in 0..threads {
        let st = state.clone();
        let mut builder = std::thread::Builder::new().name(format!("wsgi-{worker}"));
        if let Some(size) = group.cfg.stack_size {
            builder = builder.stack_size(size as usize);
        }
        if let Err(e) = builder.spawn(move || serve_loop(st, worker)) {
            group.say(Level::Crit, &format!("cannot start worker thread: {e}"));
            os::process::exit_now(1);
        }
    }
    if threads == 0 {
        let st = state.clone();
        if let Err(e) = std::thread::Builder::new()
            .name("wsgi-refuse".into())
            .spawn(move || refuse_loop(&st))
        {
            group.say(Level::Crit, &format!("cannot start a thread: {e}"));
            os::process::exit_now(1);
        }
    }
    let st = state.clone();
    let _ = std::thread::Builder::new()
        .name("wsgi-heartbeat".into())
        .spawn(move || heartbeat(st));
    os::fd::write_fd(notify, &(-(std::process::id() as i32)).to_be_bytes());
    monitor(state)
}

fn serve_loop(state: Arc<State>, worker: usize) {
    python::thread::ensure();
    let max = state.group.cfg.maximum_requests;
    // One thread per process among several: a kept connection would tie
    // its Apache thread to this process even while another one is free.
    let cfg = &state.group.cfg;
    let reuse = cfg.threads > 1 || cfg.processes == 1;
    // This thread's voluntary context switches and CPU time when it was
    // handed its last measured request: whether that request ran through
    // quickly (`Turns::take` averages that). Only some requests are
    // measured (`turns::Sampler`).
    let mut handed: Option<os::rusage::ThreadMark> = None;
    let mut sampler = turns::Sampler::default();
    loop {
        if state.stopping.load(Ordering::SeqCst) {
            // A connection taken before this point is served first.
            state.running.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        // One thread at a time waits for work (`daemon::turns`): woken by
        // work, or by `stop_taking_work` (the timeout is only a safety net:
        // idle threads do not wake up to poll). It gives its turn up as
        // soon as it has work, waking nobody. While many requests block or
        // are long, every idle thread waits there instead (`Turns::take`).
        let served = handed
            .take()
            .map(|then| turns::ran_through(then, os::rusage::thread_mark()));
        if !state.turns.take(IDLE_WAIT, served) {
            continue;
        }
        let next = state.parking.next(IDLE_WAIT_MS);
        state.turns.give_up();
        if !matches!(next, os::epoll::Next::Nothing) && sampler.measure() {
            handed = Some(os::rusage::thread_mark());
        }
        let (stream, fresh) = match next {
            os::epoll::Next::Nothing => continue,
            os::epoll::Next::Conn(s) => (s, false),
            // Another thread or process may have taken it first.
            os::epoll::Next::Listener => match state.parking.accept() {
                Ok(s) => {
                    // send-buffer-size= / receive-buffer-size= (a UNIX
                    // socket does not inherit the listener's).
                    let _ = os::socket::set_buffer_sizes(
                        std::os::fd::AsRawFd::as_raw_fd(&s),
                        cfg.send_buffer_size,
                        cfg.receive_buffer_size,
                    );
                    (s, true)
                }
                Err(_) => continue,
            },
        };
        // Every thread busy: a request arriving on an idle connection would
        // wait here while another process of the group may be free. Give
        // them up, so their next requests go through the group's socket to
        // whichever process accepts first.
        if state.idle_threads.fetch_sub(1, Ordering::SeqCst) == 1 && cfg.processes > 1 {
            retire_idle(&state);
        }
        state.active.fetch_add(1, Ordering::SeqCst);
        set_busy(
            &state,
            worker,
            Some(Busy {
                since: Instant::now(),
                thread: os::process::thread_id(),
                interrupted: None,
            }),
        );
        // The connection is kept for another request unless this one is the
        // last before maximum-requests.
        let keep = reuse && max.is_none_or(|m| state.served.load(Ordering::SeqCst) + 1 < m);
        // A bug must not cost the process a thread: log it and go on.
        let served = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            server::serve(stream, &state.group, state.pid, keep, fresh)
        })) {
            Ok(s) => s,
            Err(cause) => {
                state.group.say(
                    Level::Crit,
                    &format!(
                        "mod_wsgi_rs internal error while serving a request (please report): \
                         {}",
                        crate::httpd::guard::panic_text(cause.as_ref())
                    ),
                );
                server::Served {
                    request: true,
                    keep: None,
                    ignore_activity: false,
                }
            }
        };
        set_busy(&state, worker, None);
        // Descriptors 0-2 the application closed behind os.close's back are
        // reopened before this thread takes another connection (one poll()).
        if let Some(msg) = os::stdio::check_after_request() {
            state.group.say(Level::Warn, &msg);
        }
        state.active.fetch_sub(1, Ordering::SeqCst);
        state.idle_threads.fetch_add(1, Ordering::SeqCst);
        if let Some(conn) = served.keep {
            let open = || !state.stopping.load(Ordering::SeqCst);
            if let Some(conn) = state.parking.park(conn, !fresh, open) {
                server::retire(&conn);
            }
        }
        if !served.request {
            continue;
        }
        let count = state.served.fetch_add(1, Ordering::SeqCst) + 1;
        if !served.ignore_activity {
            state.last_activity.store(state.now_us(), Ordering::SeqCst);
        }
        // Stop accepting at once when maximum-requests is reached (the
        // monitor then drains the process and the manager replaces it).
        if max.is_some_and(|m| count >= m) && !state.stopping.swap(true, Ordering::SeqCst) {
            stop_taking_work(&state);
            retire_idle(&state);
            os::fd::write_fd(state.notify, &(std::process::id() as i32).to_be_bytes());
        }
    }
}

/// threads=0 (a process for WSGIImportScript service scripts only, as
/// mod_wsgi-express's --service-script starts): no request thread; a
/// request routed here anyway gets a 503 saying why, and a log line.
fn refuse_loop(state: &State) {
    let group = &state.group;
    let reason = format!(
        "daemon process group '{}' has threads=0: it only runs its WSGIImportScript scripts \
         and serves no requests (route requests to a group with threads=1 or more)",
        group.cfg.name
    );
    while !state.stopping.load(Ordering::SeqCst) {
        if !os::socket::wait_readable(group.listen_fd, 200) {
            continue;
        }
        if let Ok(stream) = os::socket::accept(group.listen_fd) {
            group.say(Level::Err, &format!("request refused with 503: {reason}"));
            server::refuse_request(&stream, 503, &reason);
        }
    }
}

/// Wakes every thread waiting for work, now and from now on (after
/// `stopping` is set: they see it and leave).
fn stop_taking_work(state: &State) {
    state.parking.wake_all();
    state.turns.close();
}

/// Gives up every idle connection (RETRY, then close).
fn retire_idle(state: &State) {
    for conn in state.parking.take_all() {
        server::retire(&conn);
    }
}

fn set_busy(state: &State, worker: usize, v: Option<Busy>) {
    if let Some(slot) = state
        .busy
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get_mut(worker)
    {
        *slot = v;
    }
}

/// Takes the GIL once a second, so the monitor can tell a process whose
/// GIL stays held (deadlock-timeout).
fn heartbeat(state: Arc<State>) {
    python::thread::ensure();
    loop {
        pyo3::Python::attach(|_| {
            state.heartbeat.store(state.now_us(), Ordering::SeqCst);
        });
        crate::metrics::update_memory();
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn stack_of(ident: u64) -> String {
    pyo3::Python::attach(|py| {
        let code = c"import sys, traceback\nf = sys._current_frames().get(ident)\nresult = ''.join(traceback.format_stack(f)) if f is not None else '(no Python frame)'\n";
        let globals = pyo3::types::PyDict::new(py);
        let r = (|| -> pyo3::PyResult<String> {
            use pyo3::prelude::*;
            globals.set_item("ident", ident)?;
            py.run(code, Some(&globals), None)?;
            globals
                .get_item("result")?
                .map(|v| v.extract::<String>())
                .transpose()?
                .ok_or_else(|| pyo3::exceptions::PyKeyError::new_err("result"))
        })();
        r.unwrap_or_else(|e| format!("(stack unavailable: {e})"))
    })
}

fn monitor(state: Arc<State>) -> ! {
    let parent = os::process::parent_pid();
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if let Some(stop) = should_stop(&state, parent, started) {
            drain(&state, stop);
        }
    }
}

/// Why a worker ends: 6.1's name for the reason (the `shutdown_reason` of
/// `process_stopping`), the log's, and how long requests in flight may
/// take to finish.
pub(crate) struct Stop {
    pub(crate) reason: &'static str,
    pub(crate) why: String,
    pub(crate) wait: Duration,
}

fn stop(reason: &'static str, why: impl Into<String>, wait: Duration) -> Option<Stop> {
    Some(Stop {
        reason,
        why: why.into(),
        wait,
    })
}

/// Checks every reason to end this process, in order of urgency.
fn should_stop(state: &State, parent: i32, started: Instant) -> Option<Stop> {
    let group = &state.group;
    let cfg = &group.cfg;
    let graceful = Duration::from_secs(u64::from(cfg.graceful_timeout.unwrap_or(15)));
    let shutdown = Duration::from_secs(u64::from(cfg.shutdown_timeout.max(1)));
    if signals::stop_requested() {
        return stop("shutdown_signal", "a stop signal arrived", shutdown);
    }
    if os::process::parent_pid() != parent {
        return stop(
            "shutdown_signal",
            "the Apache parent process went away",
            shutdown,
        );
    }
    if signals::take_evict() {
        // mod_wsgi: eviction-timeout, else graceful-timeout.
        let reason = if cfg.eviction_timeout.is_some() {
            "eviction_signal"
        } else {
            "graceful_signal"
        };
        return stop(
            reason,
            "SIGUSR1 asked for a graceful restart of this process",
            cfg.eviction_timeout()
                .map_or(graceful, |s| Duration::from_secs(u64::from(s))),
        );
    }
    if let Some(limit) = cfg.deadlock_timeout {
        let beat = state.heartbeat.load(Ordering::SeqCst);
        let age = state.now_us().saturating_sub(beat);
        if beat > 0 && age >= u64::from(limit) * 1_000_000 {
            group.say(
                Level::Err,
                &format!(
                    "the Python GIL has been held for {} s (deadlock-timeout {limit} s); \
                     exiting so a new process replaces this one",
                    age / 1_000_000
                ),
            );
            crate::metrics::worker_ending("deadlock");
            os::process::exit_now(2);
        }
    }
    if let Some(limit) = cfg.startup_timeout {
        if crate::wsgi::runner::startup::pending_for()
            .is_some_and(|t| t >= Duration::from_secs(u64::from(limit)))
        {
            return stop(
                "startup_timeout",
                format!(
                    "startup-timeout ({limit} s) expired: no request loaded the WSGI script \
                     since the first one tried"
                ),
                shutdown,
            );
        }
    }
    if let Some(limit) = cfg.request_timeout {
        if over_request_timeout(state, limit) {
            return stop("request_timeout", "request-timeout exceeded", graceful);
        }
    }
    if cfg
        .maximum_requests
        .is_some_and(|m| state.served.load(Ordering::SeqCst) >= m)
    {
        return stop("maximum_requests", "maximum-requests reached", graceful);
    }
    if cfg
        .restart_interval
        .is_some_and(|s| started.elapsed() >= Duration::from_secs(u64::from(s)))
    {
        return stop("restart_interval", "restart-interval reached", graceful);
    }
    if python::script::reloaded() {
        return stop(
            "script_reload",
            "a WSGI script changed (script reloading)",
            graceful,
        );
    }
    if cfg
        .memory_limit
        .is_some_and(|m| os::memory::rss_bytes() > m)
    {
        return stop("memory_limit", "memory-limit exceeded", graceful);
    }
    if cfg.inactivity_timeout.is_some_and(|t| {
        state.active.load(Ordering::SeqCst) == 0
            && state
                .now_us()
                .saturating_sub(state.last_activity.load(Ordering::SeqCst))
                >= u64::from(t) * 1_000_000
    }) {
        return stop("inactivity_timeout", "inactivity-timeout reached", graceful);
    }
    None
}

/// request-timeout: with interrupt-timeout=, a thread over the limit first
/// gets mod_wsgi.RequestTimeout raised in it (its client is answered 504
/// and the thread goes on serving); only one still stuck interrupt-timeout
/// seconds later ends the process. Without it, any thread over the limit
/// does. Returns whether the process must end.
fn over_request_timeout(state: &State, limit: u32) -> bool {
    let group = &state.group;
    let limit_d = Duration::from_secs(u64::from(limit));
    let interrupt = group
        .cfg
        .interrupt_timeout
        .map(|s| Duration::from_secs(u64::from(s)));
    let over: Vec<(usize, Busy)> = state
        .busy
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .enumerate()
        .filter_map(|(i, b)| b.map(|b| (i, b)))
        .filter(|(_, b)| b.since.elapsed() >= limit_d)
        .collect();
    let mut stuck = Vec::new();
    for (slot, b) in over {
        match (interrupt, b.interrupted) {
            (Some(_), None) => interrupt_thread(state, slot, b),
            (Some(grace), Some(at)) if at.elapsed() < grace => {}
            _ => stuck.push(b),
        }
    }
    for b in &stuck {
        group.say(
            Level::Err,
            &format!(
                "a request has run for {} s, over request-timeout ({limit} s){}; the client \
                 was answered 504. Python stack of the stuck thread:\n{}",
                b.since.elapsed().as_secs(),
                if interrupt.is_some() {
                    " and did not end after RequestTimeout was raised in it (interrupt-timeout)"
                } else {
                    ""
                },
                stack_of(b.thread)
            ),
        );
    }
    !stuck.is_empty()
}

/// Raises RequestTimeout in the thread of `slot`, if it still runs the
/// same request once the GIL is held (a request ending meanwhile leaves
/// at most a stale injection, which the thread's next request drops).
fn interrupt_thread(state: &State, slot: usize, b: Busy) {
    let stack = stack_of(b.thread);
    pyo3::Python::attach(|py| {
        let mut busy = state.busy.lock().unwrap_or_else(|e| e.into_inner());
        let Some(Some(now)) = busy.get_mut(slot) else {
            return;
        };
        if now.since != b.since || now.thread != b.thread {
            return;
        }
        now.interrupted = Some(Instant::now());
        drop(busy);
        crate::wsgi::api::timeout::inject(py, b.thread);
    });
    state.group.say(
        Level::Info,
        &format!(
            "a request has run for {} s, over request-timeout; raised mod_wsgi.RequestTimeout \
             in its thread (interrupt-timeout). Python stack of the thread:\n{stack}",
            b.since.elapsed().as_secs()
        ),
    );
}

fn drain(state: &State, stop: Stop) -> ! {
    let Stop { reason, why, wait } = stop;
    let group = &state.group;
    let shutdown = Duration::from_secs(u64::from(group.cfg.shutdown_timeout.max(1)));
    group.say(
        Level::Info,
        &format!(
            "stopping: {why}; finishing {} request(s) in flight (up to {} s)",
            state.active.load(Ordering::SeqCst),
            wait.as_secs()
        ),
    );
    state.stopping.store(true, Ordering::SeqCst);
    // Threads waiting for work see it now.
    stop_taking_work(state);
    crate::metrics::worker_ending(reason);
    // Idle connections are closed now: their Apache children send the next
    // request to the replacement (a request already sent on one is sent
    // again).
    retire_idle(state);
    // Let the manager start the replacement now, while this one drains.
    os::fd::write_fd(state.notify, &(std::process::id() as i32).to_be_bytes());
    let mut deadline = Instant::now() + wait;
    // A stop signal's shutdown-timeout covers the requests and the atexit
    // handlers together (the manager kills what is left after it).
    let mut signalled = reason == "shutdown_signal";
    crate::wsgi::api::process_stopping(reason, wait);
    // Wait for every thread to leave its accept loop (so no connection
    // accepted at the last moment is dropped) and every request to finish.
    // Responses handed to spool writers (slow clients) are finished too.
    while (state.running.load(Ordering::SeqCst) > 0
        || state.active.load(Ordering::SeqCst) > 0
        || spool::in_flight() > 0)
        && Instant::now() < deadline
    {
        if !signalled && signals::stop_requested() {
            // Apache stops while this process recycles: shutdown-timeout
            // from now, not the rest of a longer graceful wait.
            signalled = true;
            deadline = deadline.min(Instant::now() + shutdown);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = state.active.load(Ordering::SeqCst) + spool::in_flight();
    if left > 0 {
        group.say(
            Level::Warn,
            &format!("exiting with {left} request(s) still running"),
        );
    }
    let bound = if signalled {
        deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(500))
    } else {
        shutdown
    };
    if !python::atexit::run_handlers(bound) {
        group.say(
            Level::Warn,
            &format!(
                "Python atexit handlers did not finish within {} ms (shutdown-timeout); \
                 exiting without them",
                bound.as_millis()
            ),
        );
    }
    os::process::exit_now(0)
}
