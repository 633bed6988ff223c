//! What Apache's hooks do: map URLs to scripts (translate_name), start
//! Python in each child (child_init), announce the module (post_config)
//! and dispatch requests to embedded mode (handler).

use crate::config::{self, DirConfig, ServerConfig};
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::regex;
use crate::httpd::request::{FileKind, Request};
use crate::httpd::server::{self, Server};
use crate::python;
use std::os::raw::c_int;

/// What translate_name found for a request, kept in its request_config.
pub struct Mounted {
    /// Index of the matching alias in the vhost's ServerConfig.aliases.
    pub alias: usize,
    /// URI bytes the mount point consumed.
    pub consumed: usize,
    /// The script file (after `$n` substitution).
    pub script: String,
}

pub fn server_config(s: &Server) -> Option<&ServerConfig> {
    // SAFETY: the slot holds the ServerConfig made by create/merge, which
    // lives in the config pool as long as the server_rec does.
    unsafe { (s.module_config() as *const ServerConfig).as_ref() }
}

fn dir_config(r: &Request) -> Option<&DirConfig> {
    // SAFETY: the per-dir slot holds a DirConfig from create/merge.
    unsafe { (r.dir_config() as *const DirConfig).as_ref() }
}

fn mounted(r: &Request) -> Option<&Mounted> {
    // SAFETY: set by translate_name to a pool-kept Mounted, or NULL.
    unsafe { (r.request_config() as *const Mounted).as_ref() }
}

pub fn translate_name(r: &Request) -> c_int {
    let Some(cfg) = server_config(r.server()) else {
        return ffi::DECLINED;
    };
    if cfg.aliases.is_empty() {
        return ffi::DECLINED;
    }
    let uri = r.uri();
    for (i, alias) in cfg.aliases.iter().enumerate() {
        let found = if alias.is_regex {
            let Some(re) = regex::cached(&alias.url) else {
                continue;
            };
            let Some(groups) = re.captures(uri) else {
                continue;
            };
            let text = String::from_utf8_lossy(uri);
            alias.match_regex(&text, &groups).map(|m| {
                let file = config::alias::substitute_groups(&alias.file, &text, &groups);
                (m.consumed, file, m.filename.into_bytes())
            })
        } else {
            config::alias::alias_match_bytes(alias.url.as_bytes(), uri)
                .filter(|&n| n > 0)
                .map(|n| {
                    let rest = if alias.url == "/" { uri } else { &uri[n..] };
                    let mut filename = alias.file.clone().into_bytes();
                    filename.extend_from_slice(rest);
                    (n, alias.file.clone(), filename)
                })
        };
        if let Some((consumed, script, filename)) = found {
            r.set_filename(&filename);
            r.set_handler(c"wsgi-script");
            r.notes().set(c"alias-forced-type", c"wsgi-script");
            let m = r.pool().keep(Mounted {
                alias: i,
                consumed,
                script,
            });
            r.set_request_config(m as *mut _);
            return ffi::OK;
        }
    }
    ffi::DECLINED
}

pub fn handler(r: &Request) -> c_int {
    let h = r.handler();
    if h != b"wsgi-script" && h != b"application/x-httpd-wsgi" {
        return ffi::DECLINED;
    }
    let Some(scfg) = server_config(r.server()) else {
        return ffi::DECLINED;
    };
    let default_dir = DirConfig::default();
    let dcfg = dir_config(r).unwrap_or(&default_dir);
    let mount = mounted(r);
    let filename = String::from_utf8_lossy(r.filename()).into_owned();

    if mount.is_none() && r.allow_options() & ffi::OPT_EXECCGI == 0 {
        log::request(
            r,
            Level::Err,
            &format!(
                "Options ExecCGI is off in this directory: {filename}; add 'Options +ExecCGI' to \
                 its <Directory> to run .wsgi scripts through AddHandler"
            ),
        );
        return ffi::HTTP_FORBIDDEN;
    }
    match r.file_kind() {
        FileKind::File => {}
        FileKind::Directory => {
            log::request(
                r,
                Level::Err,
                &format!("Attempt to invoke directory as WSGI application: {filename}"),
            );
            return ffi::HTTP_FORBIDDEN;
        }
        _ => {
            log::request(
                r,
                Level::Err,
                &format!("Target WSGI script not found or unable to stat: {filename}"),
            );
            return ffi::HTTP_NOT_FOUND;
        }
    }

    let alias_options = mount
        .and_then(|m| scfg.aliases.get(m.alias))
        .map(|a| &a.options);
    let rc = config::effective(dcfg, alias_options);
    let env = |name: &str| -> Option<String> {
        let key = std::ffi::CString::new(name).ok()?;
        r.notes()
            .get(&key)
            .or_else(|| r.subprocess_env().get(&key))
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .or_else(|| std::env::var(name).ok())
    };
    let process_group = config::groups::resolve_process_group(&rc.process_group, &env);
    if !rc.process_group_permitted(process_group.as_deref()) {
        log::request(
            r,
            Level::Err,
            &format!(
                "process group '{}' is not allowed here by WSGIRestrictProcess",
                process_group.as_deref().unwrap_or("%{GLOBAL}")
            ),
        );
        return ffi::HTTP_FORBIDDEN;
    }
    if process_group.is_none() {
        if scfg_main().is_some_and(|m| m.restrict_embedded()) {
            log::request(
            r,
            Level::Err,
            "Embedded mode of mod_wsgi disabled by runtime configuration (WSGIRestrictEmbedded \
             On): select a daemon process group with WSGIProcessGroup",
        );
            return ffi::HTTP_INTERNAL_SERVER_ERROR;
        }
        if !python::interp::started() {
            log::request(
                r,
                Level::Err,
                "Python is not running in this Apache child (it failed to start; the reason is \
             logged at child start-up)",
            );
            return ffi::HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    let status = r.setup_client_block(rc.chunked_request);
    if status != ffi::OK {
        return status;
    }

    let uri = r.uri();
    let (script_name, path_info, script_file): (&[u8], &[u8], &str) = match mount {
        Some(m) => {
            let (s, p) = crate::wsgi::environ::split_mount(uri, m.consumed);
            (s, p, m.script.as_str())
        }
        None => {
            let p = r.path_info();
            (
                crate::wsgi::environ::script_name_without_path_info(uri, p),
                p,
                filename.as_str(),
            )
        }
    };
    let host = r
        .hostname()
        .map(|h| String::from_utf8_lossy(h).into_owned());
    let (server_hostname, _) = r.server().hostname_and_port();
    let script_name_str = String::from_utf8_lossy(script_name).into_owned();
    let application_group = config::groups::expand_application_group(
        &rc.application_group,
        &config::groups::GroupContext {
            server_hostname: &server_hostname,
            // The port the connection arrived on, not the Host header's:
            // a client must not be able to create application groups.
            port: r.local_ip_port().1,
            host_header: host.as_deref(),
            script_name: &script_name_str,
            env: &env,
        },
    );
    let callable = config::groups::expand_callable_object(&rc.callable_object, &env);
    let target = crate::wsgi::embedded::Target {
        script: std::path::Path::new(script_file),
        script_name,
        path_info,
        callable: &callable,
        application_group: &application_group,
        process_group: process_group.as_deref().unwrap_or(""),
        config: &rc,
    };
    match &process_group {
        Some(name) => crate::daemon::client::relay(r, name, &target),
        None => crate::wsgi::embedded::run(r, &target),
    }
}

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

/// The main server's configuration (Python settings live there).
fn scfg_main() -> Option<&'static ServerConfig> {
    server::main_server().and_then(server_config)
}

pub fn post_config(pconf: &crate::httpd::pool::Pool, s: &Server) -> c_int {
    let component = format!(
        "mod_wsgi_rs/{} Python/{}",
        env!("CARGO_PKG_VERSION"),
        python::interp::built_version()
    );
    server::add_version_component(pconf, &component);
    if server::is_config_check_pass() {
        return ffi::OK;
    }
    let Some(main) = server_config(s) else {
        return ffi::OK;
    };
    // Every daemon group of every virtual host, with the scripts to
    // preload in it.
    let mut groups: Vec<(config::DaemonProcess, Vec<(String, String)>)> = Vec::new();
    for vhost in s.iter() {
        if let Some(vcfg) = server_config(vhost) {
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
pub fn child_init(s: &Server) {
    // Daemon sockets are for connecting to, not accepting on, in here.
    for group in crate::daemon::registry::groups() {
        crate::os::fd::close(group.listen_fd);
    }
    let Some(cfg) = server_config(s) else {
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
    let mut seen = std::collections::HashSet::new();
    for vhost in s.iter() {
        if let Some(vcfg) = server_config(vhost) {
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
