//! Start-up: `post_config` (announce the module, start the daemon process
//! groups) and `child_init` (start Python in an Apache child, preload).

use crate::config;
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::server::{self, Server};
use crate::python;
use std::os::raw::c_int;

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

pub fn post_config(pconf: &crate::httpd::pool::Pool, s: &Server) -> c_int {
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
    let mut groups: Vec<(config::DaemonProcess, Vec<(String, String)>)> = Vec::new();
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
    match crate::daemon::supervisor::start(pconf, main, groups) {
        Ok(()) => ffi::OK,
        Err(e) => {
            log::server_at(s, Level::Crit, &e);
            ffi::HTTP_INTERNAL_SERVER_ERROR
        }
    }
}

/// Starts Python in a freshly forked Apache child (unless embedded mode is
/// off) and preloads the scripts that ask for it.
pub fn child_init(pool: &crate::httpd::pool::Pool, s: &Server) {
    // Daemon sockets are for connecting to, not accepting on, in here.
    for group in crate::daemon::registry::groups() {
        crate::os::fd::close(group.listen_fd);
    }
    let Some(cfg) = s.config() else {
        return;
    };
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
    // requests ended): the time for process_stopping.
    pool.on_cleanup(Box::new(|| {
        crate::wsgi::api::process_stopping("", std::time::Duration::from_secs(2))
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
