//! The slot manager: the first process of a daemon slot, forked by the
//! Apache parent, running no Python. It resets Apache's signal handling,
//! closes Apache's listeners, takes the group's identity (every step
//! checked), then forks the Python worker and keeps one running: a worker
//! that dies is replaced (with a back-off when it keeps dying at start, and
//! a log line saying whether it was a signal or an exit status), and a
//! worker that begins a graceful exit is replaced at once so the group
//! keeps accepting. SIGUSR1 is passed on to the worker (a graceful
//! restart of it). On a stop signal, or when the Apache parent is gone, it
//! stops its workers and exits.

use super::registry::{self, Group};
use super::server;
use super::worker;
use crate::httpd::log::{self, Level};
use crate::httpd::process as hproc;
use crate::os::{self, identity, signals};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroize;

/// The group's own identity could not be taken: refuse requests as an
/// unprivileged user (Apache's User, else nobody), never as root; exit if
/// even that is impossible.
fn refuse_unprivileged(group: &Group, msg: &str) -> ! {
    let apache = hproc::apache_user();
    let (uid, gid) = if apache.uid != 0 {
        (apache.uid, apache.gid)
    } else {
        (65534, 65534)
    };
    let fallback = identity::Identity {
        uid,
        gid,
        user_name: None,
        groups: Some(Vec::new()),
    };
    if let Err(e) = identity::become_user(&fallback) {
        group.say(
            Level::Crit,
            &format!(
                "{msg}; cannot drop privileges to refuse requests safely either ({e}): exiting"
            ),
        );
        os::process::exit_now(1);
    }
    server::refuse_forever(group, msg)
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

/// Runs a freshly forked daemon slot; never returns. The slot's first
/// process is a small manager (no Python): it takes the group's identity,
/// then forks the Python worker process, replaces it when it dies, and
/// starts its replacement as soon as a worker begins a graceful exit, so a
/// recycling group keeps accepting.
pub(crate) fn run(group: Arc<Group>, index: usize) -> ! {
    forget_other_groups(&group);
    signals::reset_all();
    hproc::close_listeners();
    let title = group
        .cfg
        .display_name()
        .unwrap_or_else(|| format!("(wsgi:{})", group.cfg.name));
    set_title(&format!("{title} manager"));
    signals::catch_stop();
    // SIGUSR1 sent to the manager restarts its worker gracefully; the
    // worker inherits the handler, for SIGUSR1 sent to it directly.
    signals::catch_evict();
    let id = identity_for(&group)
        .unwrap_or_else(|e| refuse_unprivileged(&group, &format!("user/group: {e}")));
    if let Some(root) = &group.cfg.chroot {
        identity::chroot(root).unwrap_or_else(|e| refuse_unprivileged(&group, &e));
    }
    identity::become_user(&id)
        .unwrap_or_else(|e| refuse_unprivileged(&group, &format!("cannot drop privileges: {e}")));
    if let Some(mask) = group.cfg.umask {
        os::process::umask(mask);
    }
    let home = group.cfg.home.clone().unwrap_or_else(|| "/".to_string());
    if let Err(e) = std::env::set_current_dir(&home) {
        server::refuse_forever(
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
    if group.cfg.cpu_priority != 0 {
        if let Err(e) = os::process::set_priority(group.cfg.cpu_priority) {
            group.say(Level::Warn, &format!("cpu-priority not applied: {e}"));
        }
    }
    manage(group, index, title)
}

/// A daemon process must not be able to reach another group: close the
/// other groups' sockets, zero their secrets, and zero the master secret
/// in the copy of Apache's process pool this process inherited (every
/// secret derives from it).
fn forget_other_groups(group: &Group) {
    for other in registry::groups() {
        if other.cfg.name != group.cfg.name {
            os::fd::close(other.listen_fd);
        }
    }
    hproc::with_process_lifetime_bytes::<{ registry::SECRET_LEN }, _>(
        registry::MASTER_KEY,
        |master| master.zeroize(),
    );
    registry::keep_only_secret_of(&group.cfg.name);
}

fn set_title(title: &str) {
    os::process::set_process_name(title);
    hproc::set_process_title(title);
}

struct Child {
    pid: i32,
    /// Python started and the worker began serving.
    ready: bool,
    draining: bool,
}

fn manage(group: Arc<Group>, index: usize, title: String) -> ! {
    let parent = os::process::parent_pid();
    let (notify_rd, notify_wr) =
        os::fd::pipe().unwrap_or_else(|e| server::refuse_forever(&group, &format!("pipe: {e}")));
    let _ = os::fd::set_nonblocking(notify_rd, true);
    let mut children: Vec<Child> = Vec::new();
    let mut next_start = Some(Instant::now());
    let mut quick_deaths = 0u32;
    loop {
        if signals::stop_requested() || os::process::parent_pid() != parent {
            stop_children(&group, &mut children);
        }
        if signals::take_evict() {
            for c in children.iter().filter(|c| !c.draining) {
                os::process::kill(c.pid, libc::SIGUSR1);
            }
        }
        if next_start.is_some_and(|t| Instant::now() >= t) {
            next_start = None;
            match os::process::fork() {
                Ok(0) => {
                    os::fd::close(notify_rd);
                    set_title(&title);
                    worker::run(group.clone(), index, notify_wr);
                }
                Ok(pid) => children.push(Child {
                    pid,
                    ready: false,
                    draining: false,
                }),
                Err(e) => {
                    group.say(Level::Crit, &format!("cannot fork a worker process: {e}"));
                    next_start = Some(Instant::now() + Duration::from_secs(1));
                }
            }
        }
        if os::socket::wait_readable(notify_rd, 100) {
            let mut buf = [0u8; 64];
            let n = os::fd::read_fd(notify_rd, &mut buf);
            // A worker's pid means "draining"; its negation means "ready".
            for msg in buf[..n - n % 4].chunks(4) {
                let msg = i32::from_be_bytes([msg[0], msg[1], msg[2], msg[3]]);
                if let Some(c) = children.iter_mut().find(|c| c.pid == msg.abs()) {
                    if msg < 0 {
                        c.ready = true;
                        quick_deaths = 0;
                    } else if !c.draining {
                        c.draining = true;
                        if next_start.is_none() {
                            next_start = Some(Instant::now());
                        }
                    }
                }
            }
        }
        while let Some((pid, exit)) = os::process::reap_any() {
            let Some(pos) = children.iter().position(|c| c.pid == pid) else {
                continue;
            };
            let child = children.remove(pos);
            crate::metrics::worker_reaped(&group.cfg.name, pid, &exit, child.draining);
            if child.draining {
                // Its "stopping: …" line said why; only an unclean end of
                // the drain needs a line of its own.
                if !matches!(exit, os::process::Exit::Code(0)) {
                    group.say(
                        Level::Warn,
                        &format!("worker process {pid} {exit} while finishing its requests"),
                    );
                }
                continue;
            }
            // Only a worker that died before it was ready to serve counts
            // towards the start-up back-off.
            quick_deaths = if child.ready { 0 } else { quick_deaths + 1 };
            let delay = if quick_deaths > 1 {
                Duration::from_millis((100u64 << quick_deaths.min(7)).min(10_000))
            } else {
                Duration::ZERO
            };
            log::server(
                Level::Err,
                &format!(
                    "daemon process '{}' (pid {pid}) {exit}; starting a new one{}",
                    group.cfg.name,
                    if delay.is_zero() {
                        String::new()
                    } else {
                        format!(
                            " in {} ms (it keeps dying soon after start)",
                            delay.as_millis()
                        )
                    }
                ),
            );
            next_start = Some(Instant::now() + delay);
        }
        if next_start.is_none() && children.iter().all(|c| c.draining) {
            next_start = Some(Instant::now());
        }
    }
}

fn stop_children(group: &Group, children: &mut Vec<Child>) -> ! {
    for c in children.iter() {
        os::process::kill(c.pid, libc::SIGTERM);
    }
    let deadline =
        Instant::now() + Duration::from_secs(u64::from(group.cfg.shutdown_timeout.max(1)) + 1);
    while !children.is_empty() && Instant::now() < deadline {
        while let Some((pid, _)) = os::process::reap_any() {
            children.retain(|c| c.pid != pid);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for c in children.iter() {
        group.say(
            Level::Warn,
            &format!(
                "worker process {} did not exit within shutdown-timeout; killing it",
                c.pid
            ),
        );
        os::process::kill(c.pid, libc::SIGKILL);
    }
    os::process::exit_now(0)
}
