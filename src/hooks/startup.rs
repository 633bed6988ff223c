//! Start-up: `post_config` (announce the module, set up the shared
//! metrics, start the daemon process groups — at the first start from
//! `pre_mpm`, once Apache has created its scoreboard, so the daemons
//! inherit it and `mod_wsgi.server_metrics()` works in them from the
//! start, as in mod_wsgi 6.1) and `child_init` (start Python in an Apache
//! child, preload).

use crate::config;
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::server::{self, Server};
use crate::python;
use std::os::raw::c_int;
use std::sync::Mutex;

/// Daemon groups (with their preloads) of each virtual host.
type Groups = Vec<(config::DaemonProcess, Vec<(String, String)>)>;

/// The groups post_config left for pre_mpm to start (first start only).
static DEFERRED: Mutex<Option<Groups>> = Mutex::new(None);

/// The application group a preloaded script runs in: its
/// application-group= expanded for the virtual host (no request exists yet).
fn preload_group(vhost: &Server, options: &config::ScriptAliasOptions) -> String {
    let (hostname, port) = vhost.hostname_and_port();
    options
        .application_group
        .as_ref()
        .map(|g| {
            config::groups::expand_application_group(
                g,
                &config::groups::GroupContext {
                    server_hostname: &hostname,
                    port,
                    host_header: None,
                    script_name: "",
                    env: &|_| None,
                },
            )
        })
        .unwrap_or_default()
}

pub(crate) fn post_config(pconf: &crate::httpd::pool::Pool, s: &Server) -> c_int {
    let component = format!(
        "mod_wsgi_rs/{} Python/{}",
        env!("CARGO_PKG_VERSION"),
        python::interp::built_version()
    );
    server::add_version_component(pconf, &component);
    crate::httpd::directives::log_no_effect(s);
    if server::is_config_check_pass() {
        return ffi::OK;
    }
    let Some(main) = s.config() else {
        return ffi::OK;
    };
    // Every daemon group of every virtual host, with the scripts to
    // preload in it.
    let mut groups: Groups = Vec::new();
    for vhost in s.iter() {
        if let Some(vcfg) = vhost.config() {
            for d in &vcfg.daemons {
                match groups.iter().position(|(g, _)| g.name == d.name) {
                    Some(_)
                        if !std::ptr::eq(vhost, s)
                            && main.daemons.iter().any(|m| m.name == d.name) => {}
                    Some(_) => {
                        log::server_at(
                            vhost,
                            Level::Crit,
                            &format!(
                                "WSGIDaemonProcess '{}' is defined more than once; daemon \
                                 process group names must be unique across virtual hosts",
                                d.name
                            ),
                        );
                        return ffi::HTTP_INTERNAL_SERVER_ERROR;
                    }
                    None => groups.push((d.clone(), Vec::new())),
                }
            }
            for (file, options) in vcfg.preloads() {
                let Some(config::groups::ProcessGroup::Named(name)) = &options.process_group else {
                    continue;
                };
                let app_group = preload_group(vhost, &options);
                if let Some((_, list)) = groups.iter_mut().find(|(g, _)| &g.name == name) {
                    if !list.contains(&(file.clone(), app_group.clone())) {
                        list.push((file, app_group));
                    }
                }
            }
        }
    }
    let layout = crate::metrics::layout::Layout::new(
        server::mpm_hard_limit_processes() as usize,
        &groups
            .iter()
            .map(|(g, _)| (g.name.clone(), g.processes as usize))
            .collect::<Vec<_>>(),
    );
    if let Err(e) = crate::metrics::install(layout) {
        log::server_at(
            s,
            Level::Warn,
            &format!("{e}; the wsgi-metrics handler reports nothing"),
        );
    }
    // At the first start Apache creates its scoreboard after post_config
    // (in pre_mpm): daemons forked now would not share it. At a restart it
    // exists already, and pre_mpm does not run again at a graceful one.
    if !crate::httpd::scoreboard::exists() {
        *DEFERRED.lock().unwrap_or_else(|e| e.into_inner()) = Some(groups);
        return ffi::OK;
    }
    *DEFERRED.lock().unwrap_or_else(|e| e.into_inner()) = None;
    start_daemons(pconf, s, main, groups)
}

fn start_daemons(
    pconf: &crate::httpd::pool::Pool,
    s: &Server,
    main: &config::ServerConfig,
    groups: Groups,
) -> c_int {
    match crate::daemon::supervisor::start(pconf, main, groups) {
        Ok(()) => ffi::OK,
        Err(e) => {
            log::server_at(s, Level::Crit, &e);
            ffi::HTTP_INTERNAL_SERVER_ERROR
        }
    }
}

/// `pre_mpm` (after core.c's, which creates the scoreboard): starts the
/// daemon groups post_config deferred.
pub(crate) fn pre_mpm(pconf: &crate::httpd::pool::Pool, s: &Server) -> c_int {
    let Some(groups) = DEFERRED.lock().unwrap_or_else(|e| e.into_inner()).take() else {
        return ffi::OK;
    };
    match s.config() {
        Some(main) => start_daemons(pconf, s, main, groups),
        None => ffi::OK,
    }
}

/// Starts Python in a freshly forked Apache child (unless embedded mode is
/// off) and preloads the scripts that ask for it.
pub(crate) fn child_init(pool: &crate::httpd::pool::Pool, s: &Server) {
    // Daemon sockets are for connecting to, not accepting on, in here.
    for group in crate::daemon::registry::groups() {
        crate::os::fd::close(group.listen_fd);
    }
    let Some(cfg) = s.config() else {
        return;
    };
    // This child's slot in the metrics: its threads count for %{GLOBAL}
    // when embedded mode may run here.
    let threads = if cfg.restrict_embedded() {
        0
    } else {
        server::mpm_max_threads() as usize
    };
    crate::metrics::claim(crate::metrics::layout::EMBEDDED, threads);
    pool.on_cleanup(Box::new(crate::metrics::release));
    if cfg.restrict_embedded() {
        return;
    }
    let settings = python::interp::Settings {
        home: cfg.python_home.clone(),
        python_path: cfg.python_path.clone(),
        optimize: cfg.python_optimize(),
        hash_seed: cfg.python_hash_seed.flatten(),
        warnings: cfg.python_warnings.clone(),
        dont_write_bytecode: cfg.dont_write_bytecode(),
        restrict_stdin: cfg.restrict_stdin(),
        restrict_stdout: cfg.restrict_stdout(),
        restrict_signal: cfg.restrict_signal(),
        python_eggs: cfg.python_eggs.clone(),
        switch_interval: cfg.switch_interval,
        process_group: String::new(),
        threads: 0,
        processes: 0,
    };
    if let Err(e) = python::interp::start(&settings) {
        log::server_at(
            s,
            Level::Crit,
            &format!("Python could not start in this Apache child: {e}"),
        );
        return;
    }
    crate::wsgi::api::install(&crate::wsgi::api::Settings {
        process_group: "",
        daemon: None,
        server_metrics: cfg.server_metrics(),
    });
    // Apache destroys the child pool as the child exits (after its
    // requests ended): the time for process_stopping, then the atexit
    // handlers.
    pool.on_cleanup(Box::new(|| {
        crate::wsgi::api::process_stopping("", std::time::Duration::from_secs(2));
        child_exit_handlers();
    }));
    let mut seen = std::collections::HashSet::new();
    for vhost in s.iter() {
        if let Some(vcfg) = vhost.config() {
            for (file, options) in vcfg.preloads() {
                let embedded = options
                    .process_group
                    .as_ref()
                    .is_none_or(|g| matches!(g, config::groups::ProcessGroup::Global));
                let group = preload_group(vhost, &options);
                if embedded && seen.insert((group.clone(), file.clone())) {
                    crate::wsgi::runner::preload(std::path::Path::new(&file), &group);
                }
            }
        }
    }
}

/// How long an Apache child gives its atexit handlers. Apache kills a child
/// that has not exited 9 s after a stop; process_stopping takes up to 2 s.
const CHILD_ATEXIT_BOUND: std::time::Duration = std::time::Duration::from_secs(3);

/// Runs the atexit handlers of an Apache child that ends (stop, graceful
/// restart, MaxConnectionsPerChild…), bounded, with one line saying so.
fn child_exit_handlers() {
    let pid = std::process::id();
    if python::atexit::run_handlers(CHILD_ATEXIT_BOUND) {
        log::server(
            Level::Info,
            &format!("Apache child process (pid {pid}) exiting; Python atexit handlers ran."),
        );
    } else {
        log::server(
            Level::Warn,
            &format!(
                "Apache child process (pid {pid}) exiting; Python atexit handlers did not \
                 finish within {} s and were abandoned.",
                CHILD_ATEXIT_BOUND.as_secs()
            ),
        );
    }
}
