//! Calling a function of a hook script (WSGIAccessScript,
//! WSGIAuthUserScript, WSGIAuthGroupScript, WSGIDispatchScript) in this
//! Apache child's Python, as mod_wsgi does whatever the request's process
//! group: the script is loaded (and reloaded) like a WSGI script, in its
//! application group, and the function gets a dict of the request's CGI
//! variables. Failures are logged here, with the traceback; the caller only
//! learns that the call failed.

use crate::config::groups::{self, AppGroup, GroupContext};
use crate::config::{self, DirConfig, RequestConfig};
use crate::httpd::log::{self, Level};
use crate::httpd::request::Request;
use crate::python::{self, script};
use crate::wsgi::embedded::DictSink;
use crate::wsgi::environ::script_name_without_path_info;
use crate::wsgi::variables::{request_variables, Target};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::path::Path;

/// A hook script to call for a request.
pub(crate) struct HookScript<'a> {
    pub(crate) file: &'a str,
    /// The application group specification (`%{GLOBAL}` by default).
    pub(crate) group: AppGroup,
    /// Which directive named it, for log lines.
    pub(crate) directive: &'static str,
}

/// A request variable: request notes, then the Apache environment, then
/// the process environment (`%{ENV:name}`).
pub(crate) fn request_env(r: &Request, name: &str) -> Option<String> {
    let key = std::ffi::CString::new(name).ok()?;
    r.notes()
        .get(&key)
        .or_else(|| r.subprocess_env().get(&key))
        .map(|v| String::from_utf8_lossy(v).into_owned())
        .or_else(|| std::env::var(name).ok())
}

/// The application group name `g` gives for this request.
pub(crate) fn expand_group(r: &Request, g: &AppGroup, script_name: &[u8]) -> String {
    // The common cases need nothing from the request (every request asks).
    match g {
        AppGroup::Global => return String::new(),
        AppGroup::Literal(s) => return s.clone(),
        _ => {}
    }
    let host = r
        .hostname()
        .map(|h| String::from_utf8_lossy(h).into_owned());
    let (server_hostname, _) = r.server().hostname_and_port();
    let script_name = String::from_utf8_lossy(script_name).into_owned();
    let env = |name: &str| request_env(r, name);
    groups::expand_application_group(
        g,
        &GroupContext {
            server_hostname: &server_hostname,
            port: r.local_ip_port().1,
            host_header: host.as_deref(),
            script_name: &script_name,
            env: &env,
        },
    )
}

/// The request configuration of a hook call: the directory's, without the
/// Authorization header (mod_wsgi never shows it to auth scripts).
fn hook_config(r: &Request) -> RequestConfig {
    let default_dir = DirConfig::default();
    let mut rc = config::effective(r.dir_config().unwrap_or(&default_dir), None);
    rc.pass_authorization = false;
    rc
}

/// Runs `call` with the script's module and the request's environ dict
/// (the request's CGI variables, as mod_wsgi gives an auth script), with
/// the GIL held. None when the script could not be loaded or `call` raised
/// (both logged, with the traceback).
pub(crate) fn call<T>(
    r: &Request,
    hook: &HookScript<'_>,
    call: impl FnOnce(Python<'_>, &Bound<'_, PyModule>, &Bound<'_, PyDict>) -> PyResult<T>,
) -> Option<T> {
    let filename = String::from_utf8_lossy(r.filename()).into_owned();
    let path_info = r.path_info();
    let script_name = script_name_without_path_info(r.uri(), path_info);
    let rc = hook_config(r);
    let group = expand_group(r, &hook.group, script_name);
    let target = Target {
        script: Path::new(&filename),
        handler_script: None,
        script_mtime_us: None,
        script_name,
        path_info,
        callable: "",
        application_group: &group,
        process_group: "",
        config: &rc,
    };
    call_with(r, hook, &target, call)
}

/// As [`call`], with the environ of `target` (the dispatch script sees the
/// variables the application would see).
pub(crate) fn call_with<T>(
    r: &Request,
    hook: &HookScript<'_>,
    target: &Target<'_>,
    call: impl FnOnce(Python<'_>, &Bound<'_, PyModule>, &Bound<'_, PyDict>) -> PyResult<T>,
) -> Option<T> {
    if !python::interp::started() {
        log::request(
            r,
            Level::Err,
            &format!(
                "{} '{}' cannot run: Python is not running in this Apache child (it failed to \
                 start, or WSGIRestrictEmbedded On keeps it out; hook scripts always run in the \
                 Apache child)",
                hook.directive, hook.file
            ),
        );
        return None;
    }
    let group = expand_group(r, &hook.group, target.script_name);
    let path = Path::new(hook.file);
    python::thread::ensure();
    Python::attach(|py| {
        let module = match script::load(py, path, &group, target.config.script_reloading) {
            Ok(m) => m,
            Err(script::LoadError::Unreadable(msg)) => {
                log::request(r, Level::Err, &format!("{}: {msg}", hook.directive));
                return None;
            }
            Err(script::LoadError::Failed(e)) => {
                log_exception(r, py, hook, &e);
                return None;
            }
        };
        let mut sink = DictSink::new(py);
        request_variables(r, target, &mut sink);
        let result = match sink.0.finish() {
            Err(e) => Err(e),
            Ok(environ) => {
                let errors = py.import("sys").and_then(|s| s.getattr("stderr"));
                errors
                    .and_then(|e| environ.set_item("wsgi.errors", e))
                    .and_then(|()| call(py, module.bind(py), &environ))
            }
        };
        result.map_err(|e| log_exception(r, py, hook, &e)).ok()
    })
}

fn log_exception(r: &Request, py: Python<'_>, hook: &HookScript<'_>, err: &PyErr) {
    let tb = python::format_exception(py, err);
    log::request(
        r,
        Level::Err,
        &format!(
            "Exception occurred processing {} '{}'.\n{tb}",
            hook.directive, hook.file
        ),
    );
}

/// Logs an error about a hook script's result.
pub(crate) fn log_error(r: &Request, hook: &HookScript<'_>, msg: &str) {
    log::request(
        r,
        Level::Err,
        &format!("{} '{}': {msg}", hook.directive, hook.file),
    );
}

/// A `str` result as latin-1 bytes, or a `bytes` result as is; None for
/// anything else (or a str that is not latin-1).
pub(crate) fn latin1_bytes(v: &Bound<'_, PyAny>) -> Option<Vec<u8>> {
    if let Ok(b) = v.cast::<pyo3::types::PyBytes>() {
        return Some(b.as_bytes().to_vec());
    }
    let s: String = v.extract().ok()?;
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}
