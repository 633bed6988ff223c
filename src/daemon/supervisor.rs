//! The Apache parent's side of daemon mode: after the configuration is
//! read (post_config), create each group's listening socket, fork its
//! processes, and supervise them through Apache's "other child" mechanism:
//! a process that dies is forked again (with a back-off when it keeps dying
//! at start), and every process is stopped when Apache stops or restarts.
//!
//! The group table and the per-start secret live in statics that Apache's
//! children inherit when they are forked after post_config.

use crate::config::{DaemonProcess, ServerConfig};
use crate::httpd::log::{self, Level};
use crate::httpd::pool::Pool;
use crate::httpd::process::{self, Forked, Proc, Reason};
use crate::os;
use crate::python::interp::Settings;
use std::os::fd::IntoRawFd;
use std::os::raw::{c_int, c_void};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A daemon process group as every process of this Apache generation
/// sees it.
pub struct Group {
    pub cfg: DaemonProcess,
    pub socket_path: String,
    pub listen_fd: i32,
    pub python: Settings,
    /// Scripts to execute at process start: (file, application group).
    pub preloads: Vec<(String, String)>,
}

static GROUPS: Mutex<Vec<Arc<Group>>> = Mutex::new(Vec::new());
static SECRET: Mutex<[u8; super::wire::SECRET_LEN]> = Mutex::new([0; super::wire::SECRET_LEN]);

/// The group named `name` in this generation.
pub fn group(name: &str) -> Option<Arc<Group>> {
    GROUPS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .find(|g| g.cfg.name == name)
        .cloned()
}

pub fn groups() -> Vec<Arc<Group>> {
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

pub fn secret() -> [u8; super::wire::SECRET_LEN] {
    *SECRET.lock().unwrap_or_else(|e| e.into_inner())
}

/// One supervised process slot; kept in the config pool so its address is
/// stable for APR's registration.
struct Slot {
    group: Arc<Group>,
    index: usize,
    proc: Proc,
    pool: *mut crate::httpd::ffi::apr_pool_t,
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
        process_group: String::new(),
        threads: 0,
        processes: 0,
    }
}

/// `PREFIX.<parent pid>.<group>.sock`, the group name kept readable when
/// it is simple, else hashed.
fn socket_path(prefix: &str, pid: u32, group: &str) -> String {
    let simple = group.len() <= 32
        && group
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if simple {
        format!("{prefix}.{pid}.{group}.sock")
    } else {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        group.hash(&mut h);
        format!("{prefix}.{pid}.g{:016x}.sock", h.finish())
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
    let _ = std::fs::remove_file(path);
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.is_dir() {
            return Err(format!(
                "the directory {} for daemon sockets does not exist: create it (owned by root, \
                 mode 0755) or point WSGISocketPrefix somewhere that exists",
                dir.display()
            ));
        }
    }
    let old = os::umask(0o077);
    let bound = std::os::unix::net::UnixListener::bind(path);
    os::umask(old);
    let listener = bound.map_err(|e| {
        format!(
            "cannot create the daemon socket {path}: {e}; check that the Apache parent may \
             write to that directory, or set WSGISocketPrefix"
        )
    })?;
    std::os::unix::fs::chown(path, Some(owner), None)
        .map_err(|e| format!("cannot give the daemon socket {path} to uid {owner}: {e}"))?;
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("cannot restrict the daemon socket {path}: {e}"))?;
    let fd = listener.into_raw_fd();
    // Listen again to apply listen-backlog.
    os::listen(fd, backlog as i32).map_err(|e| format!("listen on {path} failed: {e}"))?;
    os::set_receive_timeout(fd, 250).map_err(|e| format!("cannot set up {path}: {e}"))?;
    Ok(fd)
}

/// Called from post_config in the running parent: sets up every daemon
/// process group and starts its processes. Err stops Apache's start-up.
pub fn start(
    pconf: &Pool,
    main: &ServerConfig,
    all: Vec<(DaemonProcess, Vec<(String, String)>)>,
) -> Result<(), String> {
    // One secret for the life of this Apache parent: Apache children of an
    // older generation, still finishing requests after a graceful restart,
    // must be able to talk to the new daemons.
    let mut failed = None;
    let secret = process::process_lifetime_bytes::<{ super::wire::SECRET_LEN }>(
        c"mod_wsgi_rs.secret",
        |buf| {
            if let Err(e) = os::random_bytes(buf) {
                failed = Some(e);
            }
        },
    );
    if let Some(e) = failed {
        return Err(format!("cannot read /dev/urandom: {e}"));
    }
    *SECRET.lock().unwrap_or_else(|e| e.into_inner()) = secret;
    GROUPS.lock().unwrap_or_else(|e| e.into_inner()).clear();
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
        let path = socket_path(&prefix, std::process::id(), &cfg.name);
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
        let cleanup_path = path.clone();
        pconf.on_cleanup(Box::new(move || {
            os::close(fd);
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
    *GROUPS.lock().unwrap_or_else(|e| e.into_inner()) = created.clone();
    for group in created {
        for index in 0..group.cfg.processes as usize {
            let slot = pconf.keep(Slot {
                group: group.clone(),
                index,
                proc: Proc::new(),
                pool: pconf.as_ptr(),
                started: Instant::now(),
                quick_deaths: 0,
                stopping: false,
            });
            spawn(slot);
        }
    }
    Ok(())
}

fn spawn(slot: *mut Slot) {
    // SAFETY: the slot lives in the config pool, which outlives every
    // callback APR makes for it (the registration ends with that pool).
    let s = unsafe { &mut *slot };
    // SAFETY: the pool pointer was the live config pool when stored.
    let pool = unsafe { Pool::from_raw(s.pool) };
    s.started = Instant::now();
    match process::fork(&mut s.proc, pool) {
        Ok(Forked::Child) => super::process::run(s.group.clone(), s.index),
        Ok(Forked::Parent) => {
            log::server(
                Level::Info,
                &format!(
                    "Starting process '{}' (instance {}) with pid {}.",
                    s.group.cfg.name,
                    s.index + 1,
                    s.proc.pid()
                ),
            );
            // SAFETY: proc and data point into the pool-kept slot.
            unsafe {
                process::register_other_child(&mut s.proc, maintenance, slot as *mut c_void, pool)
            };
        }
        Err(e) => log::server(
            Level::Crit,
            &format!(
                "cannot fork a process for daemon group '{}' (APR error {e}); it will be \
                 retried when Apache restarts",
                s.group.cfg.name
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
    if pid <= 0 || !os::kill(pid, 0) {
        return;
    }
    os::kill(pid, libc::SIGTERM);
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if os::try_reap(pid) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    log::server(
        Level::Warn,
        &format!("daemon process {pid} did not stop within shutdown-timeout; killing it"),
    );
    os::kill(pid, libc::SIGKILL);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && !os::try_reap(pid) {
        std::thread::sleep(Duration::from_millis(10));
    }
}

unsafe extern "C" fn maintenance(reason: c_int, data: *mut c_void, status: c_int) {
    crate::httpd::guard::ffi_guard((), || {
        // SAFETY: `data` is the pool-kept Slot registered in `spawn`.
        let s = unsafe { &mut *(data as *mut Slot) };
        let pid = s.proc.pid();
        match process::reason(reason) {
            Reason::Death => {
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
                spawn(data as *mut Slot);
            }
            Reason::Restart => {
                s.stopping = true;
                if pid > 0 {
                    os::kill(pid, libc::SIGTERM);
                }
            }
            Reason::Unregister => {
                if s.stopping || process::mpm_stopping() {
                    let timeout =
                        Duration::from_secs(u64::from(s.group.cfg.shutdown_timeout.max(1)));
                    stop_and_wait(pid, timeout);
                } else if pid > 0 && os::kill(pid, 0) {
                    // A restart: the process drains its requests and exits
                    // by itself (within its shutdown-timeout).
                    os::kill(pid, libc::SIGTERM);
                }
            }
            Reason::Other => {}
        }
    })
}
