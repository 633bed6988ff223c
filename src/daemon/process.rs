//! A daemon process, from fork to exit: reset Apache's signal handling,
//! close Apache's listeners, take the group's identity (every step checked),
//! start Python, preload scripts, then serve with `threads` worker threads
//! while the main thread watches the limits that end the process
//! (maximum-requests, restart-interval, inactivity-timeout, memory-limit,
//! request-timeout, deadlock-timeout, a changed script, a stop signal).
//! Ending is graceful: no new connections are accepted, requests in flight
//! may finish, then the process exits and the supervisor starts a new one.

use super::server;
use super::supervisor::{self, Group};
use crate::httpd::log::{self, Level};
use crate::httpd::process as hproc;
use crate::os::{self, identity, signals};
use crate::python;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the workers and the monitor share.
pub struct State {
    pub group: Arc<Group>,
    pub stopping: AtomicBool,
    pub active: AtomicUsize,
    pub served: AtomicU64,
    /// Microseconds since `epoch` of the last request's end (activity).
    pub last_activity: AtomicU64,
    pub epoch: Instant,
    /// Per worker: when its current request started, and its thread id.
    pub busy: Mutex<Vec<Option<(Instant, u64)>>>,
    pub heartbeat: AtomicU64,
}

impl State {
    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

fn say(group: &Group, level: Level, msg: &str) {
    log::server(
        level,
        &format!(
            "daemon process '{}' (pid {}): {msg}",
            group.cfg.name,
            std::process::id()
        ),
    );
}

fn fail(group: &Group, msg: &str) -> ! {
    say(
        group,
        Level::Crit,
        &format!("{msg}; this process will not serve requests"),
    );
    os::exit_now(1)
}

fn identity_for(group: &Group) -> Result<identity::Identity, String> {
    let apache = hproc::apache_user();
    let cfg = &group.cfg;
    let (uid, user_gid, name) = match &cfg.user {
        Some(u) => identity::lookup_user(u)?,
        None => (
            apache.uid,
            apache.gid,
            Some(apache.name.clone()).filter(|n| !n.is_empty()),
        ),
    };
    let gid = match &cfg.group {
        Some(g) => identity::lookup_group(g)?,
        None if cfg.user.is_some() => user_gid,
        None => apache.gid,
    };
    let groups = if cfg.supplementary_groups.is_empty() {
        None
    } else {
        let mut v = Vec::new();
        for g in &cfg.supplementary_groups {
            v.push(identity::lookup_group(g)?);
        }
        Some(v)
    };
    Ok(identity::Identity {
        uid,
        gid,
        user_name: name,
        groups,
    })
}

/// Runs a freshly forked daemon process; never returns.
pub fn run(group: Arc<Group>, index: usize) -> ! {
    signals::reset_all();
    hproc::close_listeners();
    for other in supervisor::groups() {
        if other.cfg.name != group.cfg.name {
            os::close(other.listen_fd);
        }
    }
    let title = group
        .cfg
        .display_name()
        .unwrap_or_else(|| format!("(wsgi:{})", group.cfg.name));
    os::set_process_name(&title);
    let (argc, argv) = hproc::process_argv();
    // SAFETY: argv is this process's own argument vector from Apache's
    // process_rec, laid out by the kernel.
    unsafe { os::set_process_title(argc, argv, &title) };

    let id = identity_for(&group).unwrap_or_else(|e| fail(&group, &format!("user/group: {e}")));
    if let Some(root) = &group.cfg.chroot {
        identity::chroot(root).unwrap_or_else(|e| fail(&group, &e));
    }
    identity::become_user(&id)
        .unwrap_or_else(|e| fail(&group, &format!("cannot drop privileges: {e}")));
    if let Some(mask) = group.cfg.umask {
        os::umask(mask);
    }
    let home = group.cfg.home.clone().unwrap_or_else(|| "/".to_string());
    if let Err(e) = std::env::set_current_dir(&home) {
        fail(
            &group,
            &format!("cannot change to home directory '{home}': {e}"),
        );
    }
    if let Some(lang) = &group.cfg.lang {
        std::env::set_var("LANG", lang);
    }
    if let Some(locale) = &group.cfg.locale {
        std::env::set_var("LC_ALL", locale);
    }
    if let Err(e) = python::interp::start(&group.python) {
        fail(&group, &format!("Python could not start: {e}"));
    }
    for (file, app_group) in &group.preloads {
        crate::wsgi::runner::preload(std::path::Path::new(file), app_group);
    }
    signals::catch_stop();
    say(
        &group,
        Level::Info,
        &format!(
            "instance {} ready, uid {}, gid {}, {} threads",
            index + 1,
            identity::current_uid(),
            identity::current_gid(),
            group.cfg.threads
        ),
    );

    let threads = group.cfg.threads.max(1) as usize;
    let state = Arc::new(State {
        group: group.clone(),
        stopping: AtomicBool::new(false),
        active: AtomicUsize::new(0),
        served: AtomicU64::new(0),
        last_activity: AtomicU64::new(0),
        epoch: Instant::now(),
        busy: Mutex::new(vec![None; threads]),
        heartbeat: AtomicU64::new(0),
    });
    for worker in 0..threads {
        let st = state.clone();
        let mut builder = std::thread::Builder::new().name(format!("wsgi-{worker}"));
        if let Some(size) = group.cfg.stack_size {
            builder = builder.stack_size(size as usize);
        }
        if let Err(e) = builder.spawn(move || serve_loop(st, worker)) {
            fail(&group, &format!("cannot start worker thread: {e}"));
        }
    }
    let st = state.clone();
    let _ = std::thread::Builder::new()
        .name("wsgi-heartbeat".into())
        .spawn(move || heartbeat(st));
    monitor(state)
}

fn serve_loop(state: Arc<State>, worker: usize) {
    python::thread::ensure();
    let fd = state.group.listen_fd;
    loop {
        if state.stopping.load(Ordering::SeqCst) {
            return;
        }
        if !os::wait_readable(fd, 250) {
            continue;
        }
        if state.stopping.load(Ordering::SeqCst) {
            return;
        }
        let stream = match os::accept(fd) {
            Ok(s) => s,
            Err(_) => continue,
        };
        state.active.fetch_add(1, Ordering::SeqCst);
        set_busy(&state, worker, Some((Instant::now(), thread_ident())));
        server::serve(stream, &state);
        set_busy(&state, worker, None);
        state.served.fetch_add(1, Ordering::SeqCst);
        state.last_activity.store(state.now_us(), Ordering::SeqCst);
        state.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn thread_ident() -> u64 {
    // SAFETY: pthread_self has no preconditions; Python's threading ident
    // on Linux is this same value.
    unsafe { libc::pthread_self() as u64 }
}

fn set_busy(state: &State, worker: usize, v: Option<(Instant, u64)>) {
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
    let parent = os::parent_pid();
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        if let Some((why, wait)) = should_stop(&state, parent, started) {
            drain(&state, why, wait);
        }
    }
}

/// Checks every reason to end this process, in order of urgency; returns
/// the reason and how long requests in flight may take to finish.
fn should_stop(state: &State, parent: i32, started: Instant) -> Option<(&'static str, Duration)> {
    let group = &state.group;
    let cfg = &group.cfg;
    let graceful = Duration::from_secs(u64::from(cfg.graceful_timeout.unwrap_or(15)));
    let shutdown = Duration::from_secs(u64::from(cfg.shutdown_timeout.max(1)));
    if signals::stop_requested() {
        return Some(("a stop signal arrived", shutdown));
    }
    if os::parent_pid() != parent {
        return Some(("the Apache parent process went away", shutdown));
    }
    if let Some(limit) = cfg.deadlock_timeout {
        let beat = state.heartbeat.load(Ordering::SeqCst);
        let age = state.now_us().saturating_sub(beat);
        if beat > 0 && age >= u64::from(limit) * 1_000_000 {
            say(
                group,
                Level::Err,
                &format!(
                    "the Python GIL has been held for {} s (deadlock-timeout {limit} s); \
                     exiting so a new process replaces this one",
                    age / 1_000_000
                ),
            );
            os::exit_now(2);
        }
    }
    if let Some(limit) = cfg.request_timeout {
        let stuck: Vec<(u64, u64)> = state
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .flatten()
            .filter(|(t, _)| t.elapsed() >= Duration::from_secs(u64::from(limit)))
            .map(|(t, id)| (t.elapsed().as_secs(), *id))
            .collect();
        if !stuck.is_empty() {
            for (secs, ident) in &stuck {
                say(
                    group,
                    Level::Err,
                    &format!(
                        "a request has run for {secs} s, over request-timeout ({limit} s); \
                         the client was answered 504. Python stack of the stuck thread:\n{}",
                        stack_of(*ident)
                    ),
                );
            }
            return Some(("request-timeout exceeded", graceful));
        }
    }
    if cfg
        .maximum_requests
        .is_some_and(|m| state.served.load(Ordering::SeqCst) >= m)
    {
        return Some(("maximum-requests reached", graceful));
    }
    if cfg
        .restart_interval
        .is_some_and(|s| started.elapsed() >= Duration::from_secs(u64::from(s)))
    {
        return Some(("restart-interval reached", graceful));
    }
    if crate::python::script::reloaded() {
        return Some(("a WSGI script changed (script reloading)", graceful));
    }
    if cfg.memory_limit.is_some_and(|m| os::rss_bytes() > m) {
        return Some(("memory-limit exceeded", graceful));
    }
    if cfg.inactivity_timeout.is_some_and(|t| {
        state.active.load(Ordering::SeqCst) == 0
            && state
                .now_us()
                .saturating_sub(state.last_activity.load(Ordering::SeqCst))
                >= u64::from(t) * 1_000_000
    }) {
        return Some(("inactivity-timeout reached", graceful));
    }
    None
}

fn drain(state: &State, why: &str, wait: Duration) -> ! {
    let group = &state.group;
    say(
        group,
        Level::Info,
        &format!(
            "stopping: {why}; finishing {} request(s) in flight (up to {} s)",
            state.active.load(Ordering::SeqCst),
            wait.as_secs()
        ),
    );
    state.stopping.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + wait;
    while state.active.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = state.active.load(Ordering::SeqCst);
    if left > 0 {
        say(
            group,
            Level::Warn,
            &format!("exiting with {left} request(s) still running"),
        );
    }
    os::exit_now(0)
}
