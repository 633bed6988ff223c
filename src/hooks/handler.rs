//! The content handler: the checks Apache leaves to a script handler
//! (ExecCGI, missing scripts, WSGIRestrictProcess, embedded mode allowed),
//! the resolution of groups and callable, then embedded mode or the relay
//! to a daemon process group.

use super::scfg_main;
use crate::config::{self, DirConfig};
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::request::{FileKind, Request};
use crate::python;
use std::os::raw::c_int;

pub fn handler(r: &Request) -> c_int {
    let h = r.handler();
    if h != b"wsgi-script" && h != b"application/x-httpd-wsgi" {
        return ffi::DECLINED;
    }
    let Some(scfg) = r.server().config() else {
        return ffi::DECLINED;
    };
    let default_dir = DirConfig::default();
    let dcfg = r.dir_config().unwrap_or(&default_dir);
    let mount = r.mounted();
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
    let target = crate::wsgi::variables::Target {
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
