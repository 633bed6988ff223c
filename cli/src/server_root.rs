//! Writing the server root: its directories and every generated file, each
//! written to a temporary name and renamed into place.

use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use crate::apachectl::apachectl;
use crate::error::{CliError, Result};
use crate::httpd_conf::httpd_conf;
use crate::python_files::{handler_shim, reload_monitor, resource_handler};
use crate::settings::Settings;

const MIME_TYPES: &str = "text/html html htm\ntext/plain txt\ntext/css css\n\
application/javascript js\napplication/json json\nimage/png png\nimage/jpeg jpg jpeg\n\
image/gif gif\nimage/svg+xml svg\nimage/x-icon ico\n";

fn write_file(path: &Path, content: &str, mode: u32) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(content.as_bytes())?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        CliError::fail(format!("cannot write {}: {e}", path.display()))
    })
}

fn make_dir(path: &Path, mode: u32) -> Result<()> {
    fs::create_dir_all(path)
        .and_then(|_| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(|e| CliError::fail(format!("cannot create {}: {e}", path.display())))
}

/// Creates the server root (or checks that an existing one is ours).
pub fn prepare_server_root(root: &Path) -> Result<()> {
    match fs::symlink_metadata(root) {
        Ok(m) => {
            if !m.is_dir() {
                return Err(CliError::fail(format!(
                    "server root {} exists and is not a directory: pass another --server-root",
                    root.display()
                )));
            }
            if m.uid() != crate::sys::euid() {
                return Err(CliError::fail(format!(
                    "server root {} belongs to another user (uid {}): pass another --server-root",
                    root.display(),
                    m.uid()
                )));
            }
            // Apache's children (another user when started as root) read
            // the files in it.
            if m.mode() & 0o005 != 0o005 {
                fs::set_permissions(root, fs::Permissions::from_mode(m.mode() & 0o7777 | 0o055))
                    .map_err(|e| CliError::fail(format!("cannot chmod {}: {e}", root.display())))?;
            }
            Ok(())
        }
        Err(_) => make_dir(root, 0o755),
    }
}

/// Writes every file of the server root.
pub fn write_server_root(s: &Settings) -> Result<()> {
    prepare_server_root(&s.server_root)?;
    make_dir(&s.runtime_dir(), 0o755)?;
    if s.document_root.is_none() {
        make_dir(&s.server_root.join("htdocs"), 0o755)?;
    }
    if !s.log_to_terminal {
        make_dir(&s.log_directory, 0o755)?;
    }
    if crate::discover::mime_types().is_none() {
        write_file(&s.server_root.join("mime.types"), MIME_TYPES, 0o644)?;
    }
    if let Some(shim) = handler_shim(s) {
        write_file(&s.handler_path(), &shim, 0o644)?;
    }
    if let Some(handler) = resource_handler(s) {
        write_file(&s.resource_path(), &handler, 0o644)?;
    }
    if s.reload {
        write_file(&s.monitor_path(), &reload_monitor(s), 0o644)?;
        make_dir(&s.reload_dir(), 0o755)?;
        let _ = fs::remove_file(s.reload_trigger());
        if let Some((user, group)) = &s.run_as {
            // The application runs as `user` and must create the trigger.
            let uid = crate::discover::lookup_user(user).map(|(u, _)| u);
            let gid = crate::discover::lookup_group(group);
            std::os::unix::fs::chown(s.reload_dir(), uid, gid).map_err(|e| {
                CliError::fail(format!(
                    "cannot give {} to {user}: {e}",
                    s.reload_dir().display()
                ))
            })?;
        }
    }
    write_file(&s.conf_path(), &httpd_conf(s), 0o644)?;
    write_file(&s.apachectl(), &apachectl(s), 0o755)?;
    Ok(())
}
