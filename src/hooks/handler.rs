//! The content handler: the checks Apache leaves to a script handler
//! (ExecCGI, missing scripts, WSGIRestrictProcess, embedded mode allowed),
//! the resolution of groups and callable (and the WSGIDispatchScript's
//! say on them), then embedded mode or the relay to a daemon process group.
//!
//! Two kinds of request come here: `wsgi-script` (a WSGIScriptAlias, or
//! `AddHandler wsgi-script`), which runs the file Apache found; and a
//! handler name defined by `WSGIHandlerScript` (`SetHandler NAME`,
//! `AddHandler NAME .ext`), which runs that handler script's
//! `handle_request` for whatever file the URL maps to, as mod_wsgi does.

use super::scfg_main;
use crate::config::dir::HandlerScript;
use crate::config::{self, DirConfig, Mounted, RequestConfig};
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::request::{FileKind, Request};
use crate::python;
use std::borrow::Cow;
use std::os::raw::c_int;
use std::path::Path;

/// The callable a `WSGIHandlerScript` provides (mod_wsgi's name).
const HANDLER_CALLABLE: &str = "handle_request";

pub(crate) fn handler(r: &Request) -> c_int {
    let h = r.handler();
    if h == super::metrics::HANDLER {
        return super::metrics::serve(r);
    }
    let Some(scfg) = r.server().config() else {
        return ffi::DECLINED;
    };
    let default_dir = DirConfig::default();
    let dcfg = r.dir_config().unwrap_or(&default_dir);
    let handler_script = if h == b"wsgi-script" || h == b"application/x-httpd-wsgi" {
        None
    } else {
        match dcfg.handler_scripts.iter().find(|s| s.name.as_bytes() == h) {
            Some(s) => Some(s),
            None => return ffi::DECLINED,
        }
    };
    let mount = r.mounted().filter(|_| handler_script.is_none());
    let filename = crate::wsgi::headers::utf8_lossy(r.filename());

    if handler_script.is_none() {
        if let Err(status) = check_script_file(r, mount.is_some(), &filename) {
            return status;
        }
    }

    let alias_options = mount
        .and_then(|m| scfg.aliases.get(m.alias))
        .map(|a| &a.options);
    let mut rc = config::effective(dcfg, alias_options);
    if let Some(hs) = handler_script {
        apply_handler_options(&mut rc, hs);
    }
    let env = |name: &str| super::child_script::request_env(r, name);
    let mut process_group = config::groups::resolve_process_group(&rc.process_group, &env);

    let uri = r.uri();
    let (script_name, path_info, script_file) = paths(r, uri, mount, &filename);
    let mut application_group =
        super::child_script::expand_group(r, &rc.application_group, script_name);
    let mut callable = config::groups::expand_callable_object(&rc.callable_object, &env);
    let handler_path = handler_script.map(|s| Path::new(s.file.as_str()));
    // The directory walk's stat of r->filename, reused for script reloading
    // (as mod_wsgi does); a WSGIHandlerScript is another file.
    let script_mtime_us = handler_script
        .is_none()
        .then(|| r.file_mtime_us())
        .flatten();
    // What runs, with the groups and callable as they stand (the dispatch
    // script sees them before it may change them).
    macro_rules! target {
        () => {
            crate::wsgi::variables::Target {
                script: Path::new(script_file),
                handler_script: handler_path,
                script_mtime_us,
                script_name,
                path_info,
                callable: &callable,
                application_group: &application_group,
                process_group: process_group.as_deref().unwrap_or(""),
                config: &rc,
            }
        };
    }

    if let Some(d) = &dcfg.dispatch_script {
        let target = target!();
        let Ok(choice) = super::dispatch::choose(r, d, &target) else {
            return ffi::HTTP_INTERNAL_SERVER_ERROR;
        };
        if let Some(p) = choice.process_group {
            process_group = p.map(Cow::Owned);
        }
        if let Some(a) = choice.application_group {
            application_group = a;
        }
        if let Some(c) = choice.callable_object {
            callable = Cow::Owned(c);
        }
    }

    if let Err(status) = check_mode(r, &rc, process_group.as_deref()) {
        return status;
    }
    let status = r.setup_client_block(rc.chunked_request);
    if status != ffi::OK {
        return status;
    }

    let target = target!();
    let rc = match &process_group {
        Some(name) => crate::daemon::client::relay(r, name, &target),
        None => {
            let _busy = crate::metrics::busy();
            crate::wsgi::embedded::run(r, &target)
        }
    };
    // The status the client gets: the one sent, or the error Apache sends
    // for the handler's return code.
    let status = match rc {
        ffi::OK | ffi::DONE => r.status(),
        rc => u16::try_from(rc).unwrap_or(500),
    };
    crate::metrics::request_done(process_group.as_deref(), status, r.request_time());
    rc
}

/// The checks on the file a `wsgi-script` request runs: ExecCGI for
/// `AddHandler` scripts, and a regular file.
fn check_script_file(r: &Request, mounted: bool, filename: &str) -> Result<(), c_int> {
    if !mounted && r.allow_options() & ffi::OPT_EXECCGI == 0 {
        log::request(
            r,
            Level::Err,
            &format!(
                "Options ExecCGI is off in this directory: {filename}; add 'Options +ExecCGI' to \
                 its <Directory> to run .wsgi scripts through AddHandler"
            ),
        );
        return Err(ffi::HTTP_FORBIDDEN);
    }
    match r.file_kind() {
        FileKind::File => Ok(()),
        FileKind::Directory => {
            log::request(
                r,
                Level::Err,
                &format!("Attempt to invoke directory as WSGI application: {filename}"),
            );
            Err(ffi::HTTP_FORBIDDEN)
        }
        _ => {
            log::request(
                r,
                Level::Err,
                &format!("Target WSGI script not found or unable to stat: {filename}"),
            );
            Err(ffi::HTTP_NOT_FOUND)
        }
    }
}

/// A `WSGIHandlerScript`'s options over the location's configuration; its
/// callable is always `handle_request`.
fn apply_handler_options(rc: &mut RequestConfig, hs: &HandlerScript) {
    if let Some(p) = &hs.options.process_group {
        rc.process_group = p.clone();
    }
    if let Some(a) = &hs.options.application_group {
        rc.application_group = a.clone();
    }
    if let Some(p) = hs.options.pass_authorization {
        rc.pass_authorization = p;
    }
    rc.callable_object = HANDLER_CALLABLE.to_string();
}

/// SCRIPT_NAME, PATH_INFO and SCRIPT_FILENAME. A WSGIScriptAlias to a
/// script file mounts it at the alias (what the alias consumed is
/// SCRIPT_NAME); an alias to a directory, `AddHandler` and handler scripts
/// run the file Apache's directory walk found, and the rest of the URL is
/// PATH_INFO (`WSGIScriptAlias /dir/ /srv/apps/`: /dir/foo/rest runs
/// /srv/apps/foo with PATH_INFO /rest).
fn paths<'a>(
    r: &'a Request,
    uri: &'a [u8],
    mount: Option<&'a Mounted>,
    filename: &'a str,
) -> (&'a [u8], &'a [u8], &'a str) {
    match mount {
        Some(m) if m.script == filename => {
            let (s, p) = crate::wsgi::environ::split_mount(uri, m.consumed);
            (s, p, m.script.as_str())
        }
        _ => {
            let p = r.path_info();
            (
                crate::wsgi::environ::script_name_without_path_info(uri, p),
                p,
                filename,
            )
        }
    }
}

/// WSGIRestrictProcess, and embedded mode possible when no daemon group
/// was chosen.
fn check_mode(r: &Request, rc: &RequestConfig, process_group: Option<&str>) -> Result<(), c_int> {
    if !rc.process_group_permitted(process_group) {
        log::request(
            r,
            Level::Err,
            &format!(
                "process group '{}' is not allowed here by WSGIRestrictProcess",
                process_group.unwrap_or("%{GLOBAL}")
            ),
        );
        return Err(ffi::HTTP_FORBIDDEN);
    }
    if process_group.is_some() {
        return Ok(());
    }
    if scfg_main().is_some_and(|m| m.restrict_embedded()) {
        log::request(
            r,
            Level::Err,
            "Embedded mode of mod_wsgi disabled by runtime configuration (WSGIRestrictEmbedded \
             On): select a daemon process group with WSGIProcessGroup",
        );
        return Err(ffi::HTTP_INTERNAL_SERVER_ERROR);
    }
    if !python::interp::started() {
        log::request(
            r,
            Level::Err,
            "Python is not running in this Apache child (it failed to start; the reason is \
             logged at child start-up)",
        );
        return Err(ffi::HTTP_INTERNAL_SERVER_ERROR);
    }
    Ok(())
}
