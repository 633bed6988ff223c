//! `install-module`: copy the module into Apache's modules directory, and
//! with Debian's layout write wsgi_rs.load / wsgi_rs.conf for a2enmod.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::cli::InstallModuleArgs;
use crate::discover;
use crate::error::{CliError, Result};

use super::mods_available;
use super::module::module_lines;

pub fn run(a: &InstallModuleArgs) -> Result<i32> {
    let so = discover::module_path(a.module_path.as_deref())?;
    let home = discover::python_home(a.python_home.as_deref())?;
    let dir = modules_directory(a.modules_directory.as_deref())?;
    let mods = mods_available::directory(a.mods_available.as_deref())?;
    let dest = dir.join(discover::INSTALLED_SO);
    let lines = module_lines(&so, &dest, home.as_ref())?;
    if fs::canonicalize(&so).ok() != fs::canonicalize(&dest).ok() {
        install_file(&so, &dest)?;
    }
    if let Some(mods) = mods {
        mods_available::install(&mods, &dest)?;
    }
    print!("{lines}");
    Ok(0)
}

/// `--modules-directory`, else `apxs -q LIBEXECDIR`; it must exist.
fn modules_directory(given: Option<&str>) -> Result<PathBuf> {
    let dir = match given {
        Some(d) => discover::absolute(Path::new(d)),
        None => PathBuf::from(discover::apxs_query("LIBEXECDIR").ok_or_else(|| {
            CliError::fail(
                "cannot find Apache's modules directory: apxs is missing (Debian/Ubuntu: \
                 apt-get install apache2-dev; or set APXS) — or pass --modules-directory",
            )
        })?),
    };
    if !dir.is_dir() {
        return Err(CliError::fail(format!(
            "Apache's modules directory {} does not exist",
            dir.display()
        )));
    }
    Ok(dir)
}

/// Writes a new `dest` (mode 0644) with `write`, through a temporary file
/// renamed into place: a running Apache keeps its mapping of the old file,
/// a reader never sees half a file.
pub fn replace_file(
    dest: &Path,
    write: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let name = dest
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let tmp = dest.with_file_name(format!(".{name}.{}", std::process::id()));
    let done = write(&tmp).and_then(|_| {
        fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644))?;
        fs::rename(&tmp, dest)
    });
    if done.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    done
}

/// What to add to an error of writing into Apache's directories.
pub fn root_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        " (run it as root, e.g. with sudo)"
    } else {
        ""
    }
}

fn install_file(so: &Path, dest: &Path) -> Result<()> {
    replace_file(dest, |tmp| fs::copy(so, tmp).map(|_| ())).map_err(|e| {
        CliError::fail(format!(
            "cannot install {} as {}: {e}{}",
            so.display(),
            dest.display(),
            root_hint(&e)
        ))
    })
}
