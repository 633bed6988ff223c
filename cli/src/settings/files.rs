//! Files served or read besides the application: static files
//! (`--url-alias`, `--document-root`) and `--include-file`.

use std::path::{Path, PathBuf};

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::{warn, CliError, Result};
use crate::quote::check_conf_text;

use super::application::existing_dir;

/// The `--url-alias` pairs: URL (without a trailing '/') and absolute path.
pub fn url_aliases(command: &str, a: &ServerArgs) -> Result<Vec<(String, PathBuf)>> {
    let mut aliases = Vec::new();
    for (url, path) in a.url_aliases() {
        if !url.starts_with('/') || url.chars().any(char::is_whitespace) {
            return Err(CliError::usage(
                command,
                format!("--url-alias URL must start with '/', not '{url}'"),
            ));
        }
        let url = match url.trim_end_matches('/') {
            "" => "/".to_string(),
            u => u.to_string(),
        };
        let path = discover::absolute(Path::new(path));
        check_conf_text("--url-alias", &url)?;
        check_conf_text("--url-alias", &path.display().to_string())?;
        if !path.exists() {
            warn(&format!(
                "--url-alias {url}: {} does not exist (yet)",
                path.display()
            ));
        }
        aliases.push((url, path));
    }
    Ok(aliases)
}

pub fn document_root(a: &ServerArgs) -> Result<Option<PathBuf>> {
    a.document_root
        .as_deref()
        .map(|d| existing_dir("document-root", d))
        .transpose()
}

pub fn include_files(a: &ServerArgs) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for f in &a.include_file {
        let path = discover::absolute(Path::new(f));
        if !path.is_file() {
            return Err(CliError::fail(format!(
                "--include-file {} does not exist",
                path.display()
            )));
        }
        check_conf_text("--include-file", &path.display().to_string())?;
        files.push(path);
    }
    Ok(files)
}

/// An existing file given to `--option`, absolute.
pub fn existing_file(option: &str, value: &str) -> Result<PathBuf> {
    let path = discover::absolute(Path::new(value));
    if !path.is_file() {
        return Err(CliError::fail(format!(
            "--{option} {} does not exist",
            path.display()
        )));
    }
    check_conf_text(&format!("--{option}"), &path.display().to_string())?;
    Ok(path)
}

/// A path given to `--option` (it need not exist yet), absolute.
pub fn any_path(option: &str, value: &str) -> Result<PathBuf> {
    let path = discover::absolute(Path::new(value));
    check_conf_text(&format!("--{option}"), &path.display().to_string())?;
    Ok(path)
}

/// `--option`'s file, when given.
pub fn optional_file(option: &str, value: Option<&String>) -> Result<Option<PathBuf>> {
    value.map(|v| existing_file(option, v)).transpose()
}

/// The rotatelogs program for --rotate-logs.
pub fn rotatelogs(a: &ServerArgs) -> Result<Option<PathBuf>> {
    if !a.logs.rotate_logs {
        return Ok(None);
    }
    if let Some(given) = &a.logs.rotatelogs_executable {
        return existing_file("rotatelogs-executable", given).map(Some);
    }
    let found = [
        PathBuf::from("/usr/bin/rotatelogs"),
        PathBuf::from("/usr/sbin/rotatelogs"),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .or_else(|| discover::which("rotatelogs"));
    match found {
        Some(p) => Ok(Some(p)),
        None => Err(CliError::fail(
            "--rotate-logs needs Apache's rotatelogs program (Debian: apt-get install \
             apache2-utils) or --rotatelogs-executable PATH",
        )),
    }
}

/// `--error-document STATUS URL`: an HTTP error status, and a URL path, a
/// URL or a message.
pub fn check_error_documents(command: &str, a: &ServerArgs) -> Result<()> {
    for (status, doc) in crate::server_args::pairs(&a.web.error_document) {
        if !status
            .parse::<u16>()
            .is_ok_and(|n| (400..=599).contains(&n))
        {
            return Err(CliError::usage(
                command,
                format!("--error-document: '{status}' is not an HTTP error status (400 to 599)"),
            ));
        }
        check_conf_text("--error-document", doc)?;
    }
    Ok(())
}

/// `--setenv NAME VALUE`, `--proxy-mount-point URL-PATH URL` and
/// `--proxy-virtual-host HOSTNAME URL`: words httpd.conf can carry.
pub fn check_pairs(command: &str, a: &ServerArgs) -> Result<()> {
    for (name, value) in a.env.setenv_pairs() {
        crate::values::env_name(name)
            .map_err(|e| CliError::usage(command, format!("--setenv {name} {e}")))?;
        check_conf_text("--setenv", value)?;
    }
    let proxies = crate::server_args::pairs(&a.web.proxy_mount_point)
        .map(|p| ("proxy-mount-point", p))
        .chain(
            crate::server_args::pairs(&a.web.proxy_virtual_host).map(|p| ("proxy-virtual-host", p)),
        );
    for (option, (from, url)) in proxies {
        let bad_from = if option == "proxy-mount-point" {
            crate::values::url_path(from).is_err()
        } else {
            crate::values::server_alias(from).is_err()
        };
        if bad_from {
            return Err(CliError::usage(
                command,
                format!(
                    "--{option}: '{from}' is not a URL path starting with '/' (or a host name)"
                ),
            ));
        }
        if !(url.contains("://") || url.starts_with("unix:")) || url.contains(char::is_whitespace) {
            return Err(CliError::usage(
                command,
                format!("--{option} {from}: '{url}' is not a URL such as http://127.0.0.1:9000/"),
            ));
        }
        check_conf_text(&format!("--{option}"), url)?;
    }
    Ok(())
}
