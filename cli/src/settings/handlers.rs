//! Python run besides the application: the `--add-handler` scripts, by
//! file name extension, and `--service-script` services, each in a daemon
//! process of its own.

use std::path::{Path, PathBuf};

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::{CliError, Result};
use crate::quote::check_conf_text;
use crate::server_args::pairs;
use crate::values;

/// A `--service-script`: its name, script and account (root only).
#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    pub script: PathBuf,
    pub user: Option<String>,
    pub group: Option<String>,
}

/// A script given to `--option`: an existing file, absolute.
pub fn script(option: &str, value: &str) -> Result<PathBuf> {
    let p = discover::absolute(Path::new(value));
    if !p.is_file() {
        return Err(CliError::fail(format!(
            "--{option}: script {} does not exist",
            p.display()
        )));
    }
    check_conf_text(&format!("--{option}"), &p.display().to_string())?;
    Ok(p)
}

/// The `--add-handler EXTENSION SCRIPT` pairs: extensions as `.ext` in
/// lower case, each given once.
pub fn handler_scripts(command: &str, a: &ServerArgs) -> Result<Vec<(String, PathBuf)>> {
    let mut out: Vec<(String, PathBuf)> = Vec::new();
    for (ext, file) in pairs(&a.web.add_handler) {
        let ext = values::extension(ext)
            .map_err(|e| CliError::usage(command, format!("--add-handler {ext} {e}")))?;
        if out.iter().any(|(e, _)| *e == ext) {
            return Err(CliError::usage(
                command,
                format!("--add-handler {ext} is given twice: give each extension one script"),
            ));
        }
        let path = script("add-handler", file)?;
        out.push((ext, path));
    }
    Ok(out)
}

/// The services, with their `--service-user` and `--service-group`, which
/// must name one.
pub fn services(command: &str, a: &ServerArgs) -> Result<Vec<Service>> {
    let w = &a.web;
    let mut out: Vec<Service> = Vec::new();
    for (name, file) in pairs(&w.service_script) {
        if values::group_name(name).is_err() || name.contains(':') {
            return Err(CliError::usage(
                command,
                format!("--service-script: '{name}' is not a service name (one word, no ':')"),
            ));
        }
        if out.iter().any(|s| s.name == name) {
            return Err(CliError::usage(
                command,
                format!("--service-script {name} is given twice"),
            ));
        }
        out.push(Service {
            name: name.to_string(),
            script: script("service-script", file)?,
            user: None,
            group: None,
        });
    }
    let extras = [
        ("service-user", &w.service_user),
        ("service-group", &w.service_group),
    ];
    for (option, list) in extras {
        for (name, value) in pairs(list) {
            let Some(s) = out.iter_mut().find(|s| s.name == name) else {
                return Err(CliError::usage(
                    command,
                    format!("--{option} {name}: no --service-script {name} SCRIPT is given"),
                ));
            };
            values::conf_word(value)
                .map_err(|e| CliError::usage(command, format!("--{option} {value} {e}")))?;
            let slot = if option == "service-user" {
                &mut s.user
            } else {
                &mut s.group
            };
            *slot = Some(value.to_string());
        }
    }
    Ok(out)
}
