//! Debian's way of enabling a module: `wsgi_rs.load` and `wsgi_rs.conf` in
//! /etc/apache2/mods-available, which `a2enmod wsgi_rs` links into
//! mods-enabled. The repository's apache-conf/ holds the same two files for
//! the module installed in /usr/lib/apache2/modules (a unit test keeps them
//! equal).

use std::fs;
use std::path::{Path, PathBuf};

use crate::discover;
use crate::error::{warn, CliError, Result};
use crate::quote::check_conf_text;
use crate::PROGRAM;

use super::install::{replace_file, root_hint};

/// Debian's (and Ubuntu's) directory of available modules.
pub const DEBIAN_MODS_AVAILABLE: &str = "/etc/apache2/mods-available";

/// wsgi_rs.conf: the server-wide settings, all commented out.
const CONF: &str = include_str!("../../../apache-conf/wsgi_rs.conf");

/// wsgi_rs.load for the module at `so`. a2enmod reads `# Conflicts:` among
/// the comments before the first directive: it refuses to enable wsgi_rs
/// while Debian's mod_wsgi (`wsgi`, the same wsgi_module) is enabled.
pub fn load_file(so: &Path) -> String {
    let path = so.display().to_string();
    let path = if path.contains(char::is_whitespace) {
        format!("\"{path}\"")
    } else {
        path
    };
    format!(
        "# Conflicts: wsgi\n\
         # mod_wsgi_rs: a drop-in replacement for mod_wsgi (same module name, same\n\
         # directives). Enable with `a2enmod wsgi_rs`; it cannot be loaded together\n\
         # with Debian's mod_wsgi (`a2dismod wsgi` first).\n\
         LoadModule wsgi_module {path}\n"
    )
}

/// `--mods-available` (or $MOD_WSGI_RS_MODS_AVAILABLE; empty for none),
/// else Debian's directory when this machine has it.
pub fn directory(given: Option<&str>) -> Result<Option<PathBuf>> {
    match given {
        Some("") => Ok(None),
        Some(d) => {
            let p = discover::absolute(Path::new(d));
            if !p.is_dir() {
                return Err(CliError::fail(format!(
                    "--mods-available {} is not a directory (Apache's mods-available, e.g. \
                     {DEBIAN_MODS_AVAILABLE})",
                    p.display()
                )));
            }
            Ok(Some(p))
        }
        None => Ok(Some(PathBuf::from(DEBIAN_MODS_AVAILABLE)).filter(|p| p.is_dir())),
    }
}

/// Writes wsgi_rs.load (always: it names the installed module) and
/// wsgi_rs.conf (unless there is one, which may hold local settings) into
/// `dir`, then warns when Debian's mod_wsgi is enabled.
pub fn install(dir: &Path, so: &Path) -> Result<()> {
    check_conf_text("the module path", &so.display().to_string())?;
    let write = |name: &str, text: &str| {
        let dest = dir.join(name);
        replace_file(&dest, |tmp| fs::write(tmp, text)).map_err(|e| {
            CliError::fail(format!(
                "cannot write {}: {e}{}",
                dest.display(),
                root_hint(&e)
            ))
        })
    };
    write("wsgi_rs.load", &load_file(so))?;
    let conf = dir.join("wsgi_rs.conf");
    let kept = conf.exists();
    if !kept {
        write("wsgi_rs.conf", CONF)?;
    }
    eprintln!(
        "{PROGRAM}: wrote {}{}: enable the module with `a2enmod wsgi_rs`",
        dir.join("wsgi_rs.load").display(),
        if kept {
            " (kept the existing wsgi_rs.conf)"
        } else {
            " and wsgi_rs.conf"
        }
    );
    if let Some(enabled) = debian_wsgi_enabled(dir) {
        warn(&format!(
            "Debian's mod_wsgi is enabled ({}): Apache would load it and skip mod_wsgi_rs (both \
             are wsgi_module, a second one is only a warning); run `a2dismod wsgi` before \
             `a2enmod wsgi_rs`",
            enabled.display()
        ));
    }
    Ok(())
}

/// mods-enabled/wsgi.load next to `mods_available`, when it exists.
fn debian_wsgi_enabled(mods_available: &Path) -> Option<PathBuf> {
    let enabled = mods_available
        .parent()?
        .join("mods-enabled")
        .join("wsgi.load");
    enabled.exists().then_some(enabled)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// apache-conf/wsgi_rs.load is what install-module writes for the
    /// module in Debian's modules directory.
    #[test]
    fn repository_load_file_matches() {
        let repo = include_str!("../../../apache-conf/wsgi_rs.load");
        assert_eq!(
            repo,
            load_file(Path::new("/usr/lib/apache2/modules/mod_wsgi_rs.so"))
        );
    }

    /// a2enmod only reads `# Conflicts:` before the first directive.
    #[test]
    fn conflicts_line_comes_before_any_directive() {
        let text = load_file(Path::new("/opt/my modules/mod_wsgi_rs.so"));
        let first_directive = text.lines().position(|l| !l.starts_with('#')).unwrap();
        let conflicts = text.lines().position(|l| l == "# Conflicts: wsgi").unwrap();
        assert!(conflicts < first_directive);
        assert!(text.ends_with("LoadModule wsgi_module \"/opt/my modules/mod_wsgi_rs.so\"\n"));
    }
}
