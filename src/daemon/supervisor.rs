//! The Apache parent's side of daemon mode: after the configuration is
//! read (post_config), create each group's listening socket, fork its slot
//! managers, and supervise them through Apache's "other child" mechanism:
//! a manager that dies is forked again (with a back-off when it keeps
//! dying at start), every manager is stopped when Apache stops or restarts
//! hard, and at a graceful restart the old generation's managers drain and
//! exit by themselves, watched by the next generation (retired managers).
//!
//! The groups and their secrets go into the registry, which Apache's
//! children and the daemon processes inherit when they are forked after
//! post_config.

use super::manager;
use super::registry::{self, Group, SECRET_LEN};
use crate::config::{DaemonProcess, ServerConfig};
use crate::httpd::log::{self, Level};
use crate::httpd::other_child::{Event, OtherChild};
use crate::httpd::pool::Pool;
use crate::httpd::process::{self, Forked};
use crate::os;
use crate::python::interp::Settings;
use std::os::fd::IntoRawFd;
use std::os::raw::c_int;
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroize;

/// One supervised daemon slot (its manager process); kept in the config
/// pool with its registration.
struct Slot {
    group: Arc<Group>,
    index: usize,
    started: Instant,
    quick_deaths: u32,
    stopping: bool,
}

fn base_settings(main: &ServerConfig) -> Settings {
    Settings {
        home: main.python_home.clone(),
        python_path: main.python_path.clone(),
        optimize: main.python_optimize(),
        hash_seed: main.python_hash_seed.flatten(),
        warnings: main.python_warnings.clone(),
        dont_write_bytecode: main.dont_write_bytecode(),
        restrict_stdin: main.restrict_stdin(),
        restrict_stdout: main.restrict_stdout(),
        restrict_signal: main.restrict_signal(),
        // A daemon group has its own (python-eggs=, switch-interval=);
        // the WSGIPython* directives are for embedded mode, as in mod_wsgi.
        python_eggs: None,
        switch_interval: None,
        process_group: String::new(),
        threads: 0,
        processes: 0,
    }
}

/// The longest path a UNIX socket address holds (sun_path, with its NUL).
const SUN_PATH_MAX: usize = 107;

fn create_socket(path: &str, backlog: u32, owner: u32) -> Result<i32, String> {
    if path.len() > SUN_PATH_MAX {
        return Err(format!(
            "the daemon socket path {path} is {} bytes, longer than a UNIX socket allows \
             ({SUN_PATH_MAX}): set WSGISocketPrefix to a shorter path",
            path.len()
        ));
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.is_dir() {
            return Err(format!(
                "the directory {} for daemon sockets does not exist: create it (owned by root, \
                 mode 0755) or point WSGISocketPrefix somewhere that exists",
                dir.display()
            ));
        }
    }
    // Bound under a temporary name, given to its owner, then renamed onto
    // `path` in one step: an Apache child connecting meanwhile (an older
    // generation's, at a graceful restart) finds the path missing, which it
    // retries, never a socket still owned by root, which it may not use.
    let temp = format!("{path}~");
    let bind_path = if temp.len() <= SUN_PATH_MAX {
        temp.as_str()
    } else {
        path
    };
    let _ = std::fs::remove_file(bind_path);
    let old = os::process::umask(0o077);
    let bound = std::os::unix::net::UnixListener::bind(bind_path);
    os::process::umask(old);
    let listener = bound.map_err(|e| {
        format!(
            "cannot create the daemon socket {path}: {e}; check that the Apache parent may \
             write to that directory, or set WSGISocketPrefix"
        )
    })?;
    let published = publish_socket(bind_path, path, owner);
    if published.is_err() {
        let _ = std::fs::remove_file(bind_path);
    }
    published?;
    let fd = listener.into_raw_fd();
    // Listen again to apply listen-backlog.
    os::socket::listen(fd, backlog as i32).map_err(|e| format!("listen on {path} failed: {e}"))?;
    os::socket::set_receive_timeout(fd, 250).map_err(|e| format!("cannot set up {path}: {e}"))?;
    Ok(fd)
}

/// Gives the socket bound at `bound` to `owner`, mode 0600, and moves it
/// to `path` (replacing what is there) when the two differ.
fn publish_socket(bound: &str, path: &str, owner: u32) -> Result<(), String> {
    std::os::unix::fs::chown(bound, Some(owner), None)
        .map_err(|e| format!("cannot give the daemon socket {path} to uid {owner}: {e}"))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(bound, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict the daemon socket {path}: {e}"))?;
    if bound != path {
        std::fs::rename(bound, path)
            .map_err(|e| format!("cannot move the daemon socket into place at {path}: {e}"))?;
    }
    Ok(())
}

/// Called from post_config in the running parent: sets up every daemon
/// process group and starts its processes. Err stops Apache's start-up.
pub(crate) fn start(
    pconf: &Pool,
    main: &ServerConfig,
    all: Vec<(DaemonProcess, Vec<(String, String)>)>,
) -> Result<(), String> {
    install_secrets(all.iter().map(|(cfg, _)| cfg.name.as_str()))?;
    registry::set_groups(Vec::new());
    adopt_retired(pconf);
    if all.is_empty() {
        return Ok(());
    }
    let prefix = process::server_root_relative(pconf, main.socket_prefix());
    let apache = process::apache_user();
    let mut created = Vec::new();
    for (cfg, preloads) in all {
        // The same path in every generation: after a graceful restart the
        // new daemons take it over, so the old generation's Apache children
        // reach them too.
        let path = registry::socket_path(&prefix, std::process::id(), &cfg.name);
        let owner = match &cfg.socket_user {
            Some(u) => {
                os::identity::lookup_user(u)
                    .map_err(|e| format!("WSGIDaemonProcess {}: socket-user: {e}", cfg.name))?
                    .0
            }
            None => apache.uid,
        };
        let fd = create_socket(&path, cfg.listen_backlog, owner)
            .map_err(|e| format!("WSGIDaemonProcess {}: {e}", cfg.name))?;
        // send-buffer-size= / receive-buffer-size= on the listener, as
        // mod_wsgi sets them (the daemon sets its connections too).
        if let Err(e) =
            os::socket::set_buffer_sizes(fd, cfg.send_buffer_size, cfg.receive_buffer_size)
        {
            log::server(
                Level::Warn,
                &format!(
                    "WSGIDaemonProcess {}: cannot set the socket buffer sizes ({e}); the system defaults are used",
                    cfg.name
                ),
            );
        }
        let cleanup_path = path.clone();
        pconf.on_cleanup(Box::new(move || {
            os::fd::close(fd);
            let _ = std::fs::remove_file(&cleanup_path);
        }));
        let mut python = base_settings(main);
        if cfg.python_home.is_some() {
            python.home = cfg.python_home.clone();
        }
        python.python_path = cfg
            .python_path
            .iter()
            .chain(&main.python_path)
            .cloned()
            .collect();
        python.python_eggs = cfg.python_eggs.clone();
        python.switch_interval = cfg.switch_interval;
        python.process_group = cfg.name.clone();
        python.threads = cfg.threads as usize;
        python.processes = cfg.processes as usize;
        created.push(Arc::new(Group {
            cfg,
            socket_path: path,
            listen_fd: fd,
            python,
            preloads,
        }));
    }
    registry::set_groups(created.clone());
    for group in created {
        for index in 0..group.cfg.processes as usize {
            let slot = OtherChild::keep(
                pconf,
                Slot {
                    group: group.clone(),
                    index,
                    started: Instant::now(),
                    quick_deaths: 0,
                    stopping: false,
                },
                on_event,
            );
            spawn(slot);
        }
    }
    Ok(())
}

/// Gives each group its secret, derived from the master secret of this
/// Apache parent: drawn once and kept in Apache's process pool, so a group
/// has the same secret in every generation and Apache children of an older
/// generation, still finishing requests after a graceful restart, reach the
/// new daemons. A function of its own (never inlined) so that no copy of
/// the master stays in a live stack frame of the caller, which forks the
/// daemons.
#[inline(never)]
fn install_secrets<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), String> {
    let mut failed = None;
    let mut master = process::process_lifetime_bytes::<SECRET_LEN>(registry::MASTER_KEY, |buf| {
        if let Err(e) = os::random::fill(buf) {
            failed = Some(e);
        }
    });
    if let Some(e) = failed {
        master.zeroize();
        return Err(format!("cannot draw the daemon processes' secret: {e}"));
    }
    registry::set_secrets(&master, names);
    master.zeroize();
    Ok(())
}

/// Forks the slot's manager process (which never returns in the child).
fn spawn(slot: &OtherChild<Slot>) {
    let (group, index) = {
        let mut s = slot.state();
        s.started = Instant::now();
        (s.group.clone(), s.index)
    };
    match slot.fork() {
        Ok(Forked::Child) => manager::run(group, index),
        Ok(Forked::Parent) => log::server(
            Level::Info,
            &format!(
                "Starting process '{}' (instance {}) with pid {}.",
                group.cfg.name,
                index + 1,
                slot.pid()
            ),
        ),
        Err(e) => log::server(
            Level::Crit,
            &format!(
                "cannot fork a process for daemon group '{}' (APR error {e}); it will be \
                 retried when Apache restarts",
                group.cfg.name
            ),
        ),
    }
}

fn describe_exit(status: c_int) -> String {
    let signal = match status {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        15 => " (SIGTERM)",
        _ => "",
    };
    if status == 0 {
        "exited".to_string()
    } else if !signal.is_empty() {
        format!("was killed by signal {status}{signal} or exited with status {status}")
    } else {
        format!("exited with status {status}")
    }
}

fn stop_and_wait(pid: i32, timeout: Duration) {
    if pid <= 0 || !os::process::kill(pid, 0) {
        return;
    }
    os::process::kill(pid, libc::SIGTERM);
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if os::process::try_reap(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    log::server(
        Level::Warn,
        &format!("daemon process {pid} did not stop within shutdown-timeout; killing it"),
    );
    os::process::kill(pid, libc::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && !os::process::try_reap(pid) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What Apache reports about a slot's manager process.
fn on_event(slot: &OtherChild<Slot>, event: Event) {
    let pid = slot.pid();
    match event {
        Event::Death(status) => {
            let mut s = slot.state();
            let stopping = s.stopping || process::mpm_stopping();
            log::server(
                if status == 0 || stopping {
                    Level::Info
                } else {
                    Level::Err
                },
                &format!(
                    "daemon process '{}' (pid {pid}) {}{}",
                    s.group.cfg.name,
                    describe_exit(status),
                    if stopping {
                        "."
                    } else {
                        "; starting a new one."
                    }
                ),
            );
            if stopping {
                return;
            }
            if status != 0 {
                crate::metrics::manager_died(&s.group.cfg.name);
            }
            let quick = s.started.elapsed() < Duration::from_secs(10) && status != 0;
            s.quick_deaths = if quick { s.quick_deaths + 1 } else { 0 };
            if s.quick_deaths > 1 {
                let delay = Duration::from_millis(100 << s.quick_deaths.min(5));
                log::server(
                    Level::Warn,
                    &format!(
                        "daemon process '{}' keeps dying at start; waiting {} ms before \
                         the next try",
                        s.group.cfg.name,
                        delay.as_millis()
                    ),
                );
                std::thread::sleep(delay);
            }
            drop(s);
            spawn(slot);
        }
        Event::Restart => {
            slot.state().stopping = true;
            if pid > 0 {
                os::process::kill(pid, libc::SIGTERM);
            }
        }
        Event::Unregister => {
            let s = slot.state();
            // The generation ends: take the socket's path away before its
            // processes stop accepting, so no Apache child connects to a
            // listener nobody will accept from (it finds the path missing
            // and retries until the next generation's socket is there).
            let _ = std::fs::remove_file(&s.group.socket_path);
            if s.stopping || process::mpm_stopping() {
                let timeout = Duration::from_secs(u64::from(s.group.cfg.shutdown_timeout.max(1)));
                stop_and_wait(pid, timeout);
            } else if pid > 0 && os::process::kill(pid, 0) {
                // A graceful restart: the process drains its requests and
                // exits by itself (within its shutdown-timeout), watched by
                // the next generation.
                os::process::kill(pid, libc::SIGTERM);
                retire(pid, s.group.cfg.shutdown_timeout);
            }
        }
        Event::Other => {}
    }
}

/// A manager of an earlier generation, still draining after a graceful
/// restart.
struct Retired {
    shutdown_timeout: u32,
    stopping: bool,
}

/// How many retired managers can wait for the next generation at once;
/// beyond that, Apache reaps them as unknown children (AH00488 warnings).
const RETIRED_MAX: usize = 512;
/// Per retired manager: its pid and shutdown-timeout (two native-endian
/// 32-bit integers; pid 0 marks a free entry).
const RETIRED_ENTRY: usize = 8;
const RETIRED_KEY: &std::ffi::CStr = c"mod_wsgi_rs.retired_managers";

/// Notes a manager whose generation ends (a graceful restart) for the next
/// generation to watch: Apache's main loop reaps it when it exits, and
/// would log AH00488 "long lost child came home!" for a process no one
/// watches. The list lives in Apache's process pool, which outlives the
/// generation (and this module, which Apache unloads at a restart).
fn retire(pid: i32, shutdown_timeout: u32) {
    process::with_process_lifetime_bytes::<{ RETIRED_MAX * RETIRED_ENTRY }, _>(
        RETIRED_KEY,
        |list| {
            if let Some(entry) = list
                .chunks_exact_mut(RETIRED_ENTRY)
                .find(|e| e[..4] == [0; 4])
            {
                entry[..4].copy_from_slice(&pid.to_ne_bytes());
                entry[4..].copy_from_slice(&shutdown_timeout.to_ne_bytes());
            }
        },
    );
}

/// Watches, in this generation, the managers retired by the last one.
fn adopt_retired(pconf: &Pool) {
    let retired = process::with_process_lifetime_bytes::<{ RETIRED_MAX * RETIRED_ENTRY }, _>(
        RETIRED_KEY,
        |list| {
            let taken: Vec<(i32, u32)> = list
                .chunks_exact(RETIRED_ENTRY)
                .map(|e| {
                    (
                        i32::from_ne_bytes([e[0], e[1], e[2], e[3]]),
                        u32::from_ne_bytes([e[4], e[5], e[6], e[7]]),
                    )
                })
                .filter(|&(pid, _)| pid > 0)
                .collect();
            list.fill(0);
            taken
        },
    );
    for (pid, shutdown_timeout) in retired {
        // Exited and reaped already (by a stop's wait): nothing to watch.
        if !os::process::kill(pid, 0) {
            continue;
        }
        OtherChild::adopt(
            pconf,
            pid,
            Retired {
                shutdown_timeout,
                stopping: false,
            },
            on_retired_event,
        );
    }
}

/// What Apache reports about a retired manager.
fn on_retired_event(slot: &OtherChild<Retired>, event: Event) {
    let pid = slot.pid();
    match event {
        Event::Death(status) => log::server(
            Level::Info,
            &format!(
                "daemon process (pid {pid}) of an earlier generation {}.",
                describe_exit(status)
            ),
        ),
        Event::Restart => {
            slot.state().stopping = true;
            os::process::kill(pid, libc::SIGTERM);
        }
        Event::Unregister => {
            let s = slot.state();
            if s.stopping || process::mpm_stopping() {
                stop_and_wait(
                    pid,
                    Duration::from_secs(u64::from(s.shutdown_timeout.max(1))),
                );
            } else if os::process::kill(pid, 0) {
                retire(pid, s.shutdown_timeout);
            }
        }
        Event::Other => {}
    }
}
