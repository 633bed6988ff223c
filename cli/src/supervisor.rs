//! `start-server`: run Apache in the foreground and look after it. Apache
//! runs in its own process group (so Ctrl-C reaches only this process,
//! which then stops Apache in order), dies with this process, and anything
//! it leaves behind is found and stopped before we exit.

use std::fs;
use std::io::ErrorKind;
use std::net::{TcpListener, ToSocketAddrs};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::{CliError, Result};
use crate::settings::Settings;
use crate::sys;

/// How long Apache may take to stop after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the supervisor looks at Apache, signals and the reload trigger.
const TICK: Duration = Duration::from_millis(50);

/// Fails with a clear message when `host:port` cannot be listened on.
pub fn check_port(host: &str, port: u16) -> Result<()> {
    let h = match host {
        "*" | "" => "0.0.0.0",
        h => h.trim_matches(['[', ']']),
    };
    let addrs: Vec<_> = (h, port)
        .to_socket_addrs()
        .map_err(|e| CliError::fail(format!("cannot resolve --host {host}: {e}")))?
        .collect();
    for addr in addrs {
        if let Err(e) = TcpListener::bind(addr) {
            let msg = match e.kind() {
                ErrorKind::AddrInUse => format!(
                    "port {port} on {h} is already in use (is another server running?): choose \
                     another with --port"
                ),
                ErrorKind::PermissionDenied => format!(
                    "not allowed to listen on port {port} (ports below 1024 need root): choose \
                     another with --port"
                ),
                ErrorKind::AddrNotAvailable => format!(
                    "cannot listen on {h}: it is not an address of this machine (fix --host)"
                ),
                _ => format!("cannot listen on {addr}: {e}"),
            };
            return Err(CliError::fail(msg));
        }
    }
    Ok(())
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn cmdline(pid: i32) -> Option<String> {
    let raw = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    Some(
        String::from_utf8_lossy(&raw)
            .replace('\0', " ")
            .trim_end()
            .to_string(),
    )
}

/// (state, ppid) from /proc/PID/stat.
fn stat(pid: i32) -> Option<(char, i32)> {
    let s = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 1..];
    let mut f = rest.split_whitespace();
    let state = f.next()?.chars().next()?;
    let ppid = f.next()?.parse().ok()?;
    Some((state, ppid))
}

fn alive(pid: i32) -> bool {
    matches!(stat(pid), Some((s, _)) if s != 'Z' && s != 'X')
}

/// Processes that belong to the Apache of this server root: the httpd
/// executable running our configuration, a daemon process that renamed
/// itself to the display name, or an orphan re-parented to us.
pub fn server_processes(s: &Settings) -> Vec<i32> {
    let me = std::process::id() as i32;
    let conf = s.conf_path().display().to_string();
    let display = s.display_name();
    let httpd = fs::canonicalize(&s.httpd).unwrap_or_else(|_| s.httpd.clone());
    let mut found = Vec::new();
    let Ok(dir) = fs::read_dir("/proc") else {
        return found;
    };
    for e in dir.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Some((state, ppid)) = stat(pid) else {
            continue;
        };
        if state == 'Z' || state == 'X' {
            continue;
        }
        let exe = fs::read_link(format!("/proc/{pid}/exe")).ok();
        let is_httpd = exe.as_deref().is_some_and(|x| x == httpd);
        let cmd = cmdline(pid).unwrap_or_default();
        if ppid == me || (is_httpd && (cmd.contains(&conf) || cmd.starts_with(&display))) {
            found.push(pid);
        }
    }
    found
}

/// Fails when an Apache from this server root is still running.
pub fn check_not_running(s: &Settings) -> Result<()> {
    if let Some(pid) = read_pid(&s.pid_file()) {
        if alive(pid)
            && cmdline(pid).is_some_and(|c| c.contains(&s.conf_path().display().to_string()))
        {
            return Err(CliError::fail(format!(
                "an Apache from {} is already running (pid {pid}): stop it first with {} stop",
                s.server_root.display(),
                s.apachectl().display()
            )));
        }
    }
    Ok(())
}

fn reap_all() -> Vec<(i32, sys::Exit)> {
    let mut out = Vec::new();
    while let Some(r) = sys::reap_any() {
        out.push(r);
    }
    out
}

/// Stops whatever is left of the server: SIGTERM, a grace period, SIGKILL.
pub fn clean_up_leftovers(s: &Settings) -> Vec<i32> {
    let first = server_processes(s);
    if first.is_empty() {
        reap_all();
        return first;
    }
    for &p in &first {
        sys::send(p, sys::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        reap_all();
        if server_processes(s).is_empty() {
            return first;
        }
        std::thread::sleep(TICK);
    }
    for p in server_processes(s) {
        sys::send(p, sys::SIGKILL);
    }
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline && !server_processes(s).is_empty() {
        reap_all();
        std::thread::sleep(TICK);
    }
    reap_all();
    first
}

fn error_log_tail(s: &Settings, lines: usize) -> Option<String> {
    if s.log_to_terminal {
        return None;
    }
    let text = fs::read_to_string(s.error_log()).ok()?;
    let all: Vec<&str> = text.lines().collect();
    let from = all.len().saturating_sub(lines);
    (!all.is_empty()).then(|| all[from..].join("\n"))
}

fn apache_command(s: &Settings) -> Result<Command> {
    let mut cmd = Command::new(&s.httpd);
    cmd.arg("-f").arg(s.conf_path()).arg("-DFOREGROUND");
    if let Some(log) = s.startup_log() {
        cmd.arg("-E").arg(log);
    }
    if let Some(name) = &s.process_name {
        cmd.arg0(name);
    }
    if std::env::var_os("LANG").is_none() && std::env::var_os("LC_ALL").is_none() {
        cmd.env("LANG", "C.UTF-8");
    }
    if let Some(script) = &s.envvars_script {
        cmd.envs(envvars(script)?);
    }
    if let Some(lang) = &s.env.lang {
        cmd.env("LANG", lang);
    }
    if let Some(locale) = &s.env.locale {
        cmd.env("LC_ALL", locale);
    }
    cmd.stdin(Stdio::null());
    Ok(cmd)
}

/// The environment after sourcing `script` in a shell (--envvars-script),
/// as apachectl does.
fn envvars(script: &Path) -> Result<Vec<(String, String)>> {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg("set -a && . \"$1\" >&2 && exec env -0")
        .arg("sh")
        .arg(script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| CliError::fail(format!("cannot run /bin/sh for --envvars-script: {e}")))?;
    if !out.status.success() {
        return Err(CliError::fail(format!(
            "--envvars-script {} failed ({}): fix the script",
            script.display(),
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .split('\0')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// Runs Apache in the foreground until it exits or we are asked to stop.
/// Returns the exit status for this process.
pub fn supervise(s: &Settings) -> Result<i32> {
    sys::install_handlers();
    sys::become_subreaper();
    let me = std::process::id() as i32;
    let mut cmd = apache_command(s)?;
    cmd.process_group(0);
    sys::die_with_parent(&mut cmd, me);
    let child = cmd
        .spawn()
        .map_err(|e| CliError::fail(format!("cannot run {}: {e}", s.httpd.display())))?;
    let pid = child.id() as i32;
    drop(child); // reaped below with waitpid(-1), together with any orphan

    let started = Instant::now();
    let mut stop_deadline: Option<Instant> = None;
    let mut stops_seen = 0;
    let mut last_reload = Instant::now() - Duration::from_secs(60);
    let trigger: Option<PathBuf> = s.reload.then(|| s.reload_trigger());
    let exit = loop {
        if let Some((_, how)) = reap_all().into_iter().find(|(p, _)| *p == pid) {
            break how;
        }
        let stops = sys::STOP_REQUESTS.load(Ordering::SeqCst);
        if stops > stops_seen {
            stops_seen = stops;
            if stop_deadline.is_none() {
                eprintln!("mod-wsgi-rs: stopping Apache (pid {pid})");
                sys::send(pid, sys::SIGTERM);
                stop_deadline = Some(Instant::now() + STOP_TIMEOUT);
            } else {
                eprintln!("mod-wsgi-rs: killing Apache (pid {pid})");
                sys::send(pid, sys::SIGKILL);
            }
        }
        if stop_deadline.is_some_and(|d| Instant::now() > d) {
            eprintln!(
                "mod-wsgi-rs: Apache did not stop within {}s: killing it",
                STOP_TIMEOUT.as_secs()
            );
            sys::send(pid, sys::SIGKILL);
            stop_deadline = Some(Instant::now() + STOP_TIMEOUT);
        }
        if stop_deadline.is_none() && sys::GRACEFUL_REQUESTED.swap(false, Ordering::SeqCst) {
            eprintln!("mod-wsgi-rs: graceful restart of Apache (pid {pid})");
            sys::send(pid, sys::SIGUSR1);
        }
        if let Some(t) = &trigger {
            if let Ok(what) = fs::read_to_string(t) {
                let _ = fs::remove_file(t);
                // Every process of the application sees the same change:
                // one restart is enough.
                if stop_deadline.is_none() && last_reload.elapsed() > Duration::from_secs(2) {
                    eprintln!(
                        "mod-wsgi-rs: {} changed: restarting Apache gracefully",
                        what.trim()
                    );
                    sys::send(pid, sys::SIGUSR1);
                    last_reload = Instant::now();
                }
            }
        }
        std::thread::sleep(TICK);
    };

    let leftovers = clean_up_leftovers(s);
    if !leftovers.is_empty() {
        eprintln!(
            "mod-wsgi-rs: stopped {} process(es) Apache left behind: {:?}",
            leftovers.len(),
            leftovers
        );
    }
    if let Some(t) = &trigger {
        let _ = fs::remove_file(t);
    }
    if read_pid(&s.pid_file()).is_some_and(|p| !alive(p)) {
        let _ = fs::remove_file(s.pid_file());
    }

    if stop_deadline.is_some() {
        eprintln!("mod-wsgi-rs: Apache stopped");
        return Ok(0);
    }
    let how = match exit {
        sys::Exit::Code(c) => format!("with status {c}"),
        sys::Exit::Signal(n) => format!("killed by signal {n}"),
    };
    let when = if started.elapsed() < Duration::from_secs(5) {
        "while starting"
    } else {
        "unexpectedly"
    };
    if matches!(exit, sys::Exit::Code(0)) {
        eprintln!("mod-wsgi-rs: Apache exited");
        return Ok(0);
    }
    let mut msg = format!("Apache exited {when} {how}");
    match error_log_tail(s, 15) {
        Some(tail) => {
            msg.push_str(&format!(
                "; the end of {}:\n{tail}",
                s.error_log().display()
            ));
        }
        None if !s.log_to_terminal => {
            msg.push_str(&format!(
                "; check the configuration with {} configtest",
                s.apachectl().display()
            ));
        }
        None => {}
    }
    Err(CliError::fail(msg))
}
