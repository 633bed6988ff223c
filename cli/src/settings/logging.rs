//! Where the logs go.

use std::path::{Path, PathBuf};

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::Result;
use crate::quote::check_conf_text;

/// `--log-directory`, else the server root.
pub fn log_directory(a: &ServerArgs, server_root: &Path) -> Result<PathBuf> {
    let dir = match &a.log_directory {
        Some(d) => discover::absolute(Path::new(d)),
        None => server_root.to_path_buf(),
    };
    check_conf_text("--log-directory", &dir.display().to_string())?;
    Ok(dir)
}
