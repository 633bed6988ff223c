//! `WSGIDispatchScript`: per request, before the application runs (in the
//! Apache child, in the script's application group, `%{GLOBAL}` by
//! default), the script's `process_group(environ)`,
//! `application_group(environ)` and `callable_object(environ)` — those it
//! defines — may each return a name that replaces the configured one; None
//! keeps it. The environ holds the request's variables as the application
//! would see them with the configured values.

use super::child_script::{self, latin1_bytes, HookScript};
use crate::config::dir::DispatchScript;
use crate::config::groups::{self, parse_application_group, parse_process_group, AppGroup};
use crate::httpd::request::Request;
use crate::wsgi::variables::Target;
use pyo3::prelude::*;
use std::borrow::Cow;

/// What the dispatch script chose (None: keep the configured value).
#[derive(Debug, Default)]
pub(crate) struct Choice {
    /// The daemon process group; `Some(None)` chooses embedded mode.
    pub(crate) process_group: Option<Option<String>>,
    pub(crate) application_group: Option<String>,
    pub(crate) callable_object: Option<String>,
}

/// Runs the dispatch script for the request about to run `target`. Err
/// when the script failed (logged): the request gets a 500.
pub(crate) fn choose(r: &Request, d: &DispatchScript, target: &Target<'_>) -> Result<Choice, ()> {
    let group = match d.application_group.as_deref().map(parse_application_group) {
        None => AppGroup::Global,
        Some(Ok(g)) => g,
        Some(Err(_)) => AppGroup::Literal(d.application_group.clone().unwrap_or_default()),
    };
    let hook = HookScript {
        file: &d.file,
        group,
        directive: "WSGIDispatchScript",
    };
    let env = |name: &str| child_script::request_env(r, name);
    child_script::call_with(r, &hook, target, |_py, module, environ| {
        let mut choice = Choice::default();
        for (name, slot) in [
            ("process_group", 0),
            ("application_group", 1),
            ("callable_object", 2),
        ] {
            let Ok(f) = module.getattr(name) else {
                continue;
            };
            let result = f.call1((environ,))?;
            if result.is_none() {
                continue;
            }
            let Some(value) = latin1_bytes(&result) else {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "{name}() of the WSGIDispatchScript must return a latin-1 string or None"
                )));
            };
            let value = String::from_utf8_lossy(&value).into_owned();
            let bad = |e: String| {
                pyo3::exceptions::PyValueError::new_err(format!(
                    "{name}() of the WSGIDispatchScript returned '{value}': {e}"
                ))
            };
            match slot {
                0 => {
                    let g = parse_process_group(&value).map_err(bad)?;
                    choice.process_group =
                        Some(groups::resolve_process_group(&g, &env).map(Cow::into_owned));
                }
                1 => {
                    let g = parse_application_group(&value).map_err(bad)?;
                    choice.application_group =
                        Some(child_script::expand_group(r, &g, target.script_name));
                }
                _ => {
                    choice.callable_object =
                        Some(groups::expand_callable_object(&value, &env).into_owned());
                }
            }
        }
        Ok(choice)
    })
    .ok_or(())
}
