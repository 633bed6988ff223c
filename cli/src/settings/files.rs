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
