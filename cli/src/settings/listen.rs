//! Where the server listens and where its files go.

use std::path::{Path, PathBuf};

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::Result;
use crate::quote::check_conf_text;
use crate::sys;

/// `--server-root`, else /tmp/mod_wsgi_rs-HOST:PORT:UID.
pub fn server_root(a: &ServerArgs) -> Result<PathBuf> {
    let root = match &a.server_root {
        Some(r) => discover::absolute(Path::new(r)),
        None => PathBuf::from(format!(
            "/tmp/mod_wsgi_rs-{}:{}:{}",
            super::host_label(&a.host),
            a.port,
            sys::euid()
        )),
    };
    check_conf_text("--server-root", &root.display().to_string())?;
    Ok(root)
}
