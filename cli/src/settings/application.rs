//! The application: the WSGI script or `package.module[:callable]`, its
//! callable and the working directory.

use std::path::{Path, PathBuf};

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::{CliError, Result};
use crate::quote::check_conf_text;
use crate::values::is_identifier;
use crate::PROGRAM;

use super::{AppType, Entry};

/// The one application of the command line (positional or --entry-point).
fn target(command: &str, a: &ServerArgs) -> Result<String> {
    match (&a.entry_point, &a.script) {
        (Some(_), Some(extra)) => Err(CliError::usage(
            command,
            format!("unexpected argument '{extra}' (one application only)"),
        )),
        (Some(t), None) | (None, Some(t)) => Ok(t.clone()),
        (None, None) => Err(CliError::usage(
            command,
            format!(
                "no application given: {PROGRAM} {command} app.wsgi (or package.module:callable \
                 --application-type module)"
            ),
        )),
    }
}

/// An existing directory given to `--option`, absolute.
pub fn existing_dir(option: &str, value: &str) -> Result<PathBuf> {
    let p = discover::absolute(Path::new(value));
    if !p.is_dir() {
        return Err(CliError::fail(format!(
            "--{option} {} is not a directory",
            p.display()
        )));
    }
    check_conf_text(&format!("--{option}"), &p.display().to_string())?;
    Ok(p)
}

/// `--working-directory`, else the current directory.
pub fn working_directory(a: &ServerArgs) -> Result<PathBuf> {
    match &a.working_directory {
        Some(w) => existing_dir("working-directory", w),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| CliError::fail(format!("cannot read the current directory: {e}")))?;
            check_conf_text("the current directory", &cwd.display().to_string())?;
            Ok(cwd)
        }
    }
}

/// What serves the requests.
pub fn entry(command: &str, a: &ServerArgs) -> Result<Entry> {
    if a.application_type == AppType::Static {
        // The directory to serve; the current one when none is given.
        let dir = match (&a.entry_point, &a.script) {
            (None, None) => ".".to_string(),
            _ => target(command, a)?,
        };
        return Ok(Entry::Static(existing_dir(
            "application-type static",
            &dir,
        )?));
    }
    let target = target(command, a)?;
    match a.application_type {
        AppType::Script => script(&target),
        AppType::Module => module(command, &target, &a.callable_object),
        AppType::Paste => paste(&target),
        AppType::Static => unreachable!("handled above"),
    }
}

fn paste(target: &str) -> Result<Entry> {
    let path = discover::absolute(Path::new(target));
    if !path.is_file() {
        return Err(CliError::fail(format!(
            "Paste configuration {} does not exist (--application-type paste takes a .ini file)",
            path.display()
        )));
    }
    check_conf_text("the Paste configuration path", &path.display().to_string())?;
    Ok(Entry::Paste(path))
}

fn script(target: &str) -> Result<Entry> {
    let path = discover::absolute(Path::new(target));
    if !path.exists() {
        return Err(CliError::fail(format!(
            "WSGI script {} does not exist",
            path.display()
        )));
    }
    if !path.is_file() {
        return Err(CliError::fail(format!(
            "WSGI script {} is not a file",
            path.display()
        )));
    }
    check_conf_text("the WSGI script path", &path.display().to_string())?;
    Ok(Entry::Script(path))
}

fn module(command: &str, target: &str, callable_object: &str) -> Result<Entry> {
    let (module, callable) = match target.split_once(':') {
        Some((m, c)) => (m.to_string(), c.to_string()),
        None => (target.to_string(), callable_object.to_string()),
    };
    if module.is_empty() || !module.split('.').all(is_identifier) {
        return Err(CliError::usage(
            command,
            format!(
                "'{target}' is not a module name: --application-type module takes \
                 package.module[:callable]"
            ),
        ));
    }
    if callable.is_empty() || !callable.split('.').all(is_identifier) {
        return Err(CliError::usage(
            command,
            format!("'{callable}' is not a Python name (in '{target}')"),
        ));
    }
    Ok(Entry::Module { module, callable })
}
