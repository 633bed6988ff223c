//! The Python the module was built for, as Apache must load it: the
//! libpython it links (a `LoadFile` line when the dynamic loader would not
//! find that Python's own copy, e.g. a pyenv build) and its prefix (a
//! `WSGIPythonHome` when it is not the system's Python and no virtualenv
//! is given).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::discover::{self, HomeSource};
use crate::error::{CliError, Result};

/// The Python the module was built for, as found on this machine.
#[derive(Debug)]
pub struct ModulePython {
    /// Its libpython when Apache must `LoadFile` it before the module.
    pub load_file: Option<PathBuf>,
    /// Its prefix when it is not the system's (/usr).
    pub prefix: Option<PathBuf>,
}

/// What an interpreter says about itself.
struct Facts {
    base_prefix: PathBuf,
    soname: String,
    shared: bool,
    libdir: PathBuf,
}

/// Finds the module's Python (from `home`, beside this command, the Python
/// the command was built with, or PATH) and says how Apache must load it.
/// Nothing to add when the module does not link a libpython (a static
/// Python) or no interpreter of its version is found.
pub fn module_python(so: &Path, home: Option<&Path>) -> Result<ModulePython> {
    let none = ModulePython {
        load_file: None,
        prefix: None,
    };
    let (Some(version), Some(soname)) = (
        discover::module_python_version(so),
        discover::module_libpython(so),
    ) else {
        return Ok(none);
    };
    let Some(python) = interpreter(&version, home) else {
        return Ok(none);
    };
    let Some(facts) = facts(&python) else {
        return Ok(none);
    };
    if !facts.shared {
        return Err(CliError::fail(format!(
            "{} was built without --enable-shared (it has no {soname}), so Apache cannot load \
             it for the module {}: rebuild that Python with --enable-shared (pyenv: \
             PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install {version}) and the module with it",
            python.display(),
            so.display()
        )));
    }
    let name = if facts.soname.is_empty() {
        soname.clone()
    } else {
        facts.soname.clone()
    };
    // Its own copy: under the prefix it runs from (a copied install), else
    // where it was built to live.
    let own = [facts.base_prefix.join("lib"), facts.libdir.clone()]
        .into_iter()
        .map(|d| d.join(&name))
        .find(|p| p.is_file());
    let loader = loader_path(&soname);
    let load_file = match (own, loader) {
        (Some(own), Some(loader)) if same_file(&own, &loader) => None,
        (Some(own), _) => Some(own),
        (None, Some(_)) => None,
        (None, None) => {
            return Err(CliError::fail(format!(
                "the module {} needs {soname}, which is not installed: install Python {version}'s \
                 shared library (Debian/Ubuntu: apt-get install libpython{version})",
                so.display()
            )))
        }
    };
    let system = facts.base_prefix == Path::new("/usr");
    Ok(ModulePython {
        load_file,
        prefix: (!system).then_some(facts.base_prefix),
    })
}

/// The home to use when none was given: the module's Python's prefix when
/// it is not the system's.
pub fn default_home(module: &ModulePython) -> Option<(PathBuf, HomeSource)> {
    module.prefix.clone().map(|p| (p, HomeSource::ModulePython))
}

/// An interpreter of `version` ("3.12") for the module.
fn interpreter(version: &str, home: Option<&Path>) -> Option<PathBuf> {
    let names = [format!("python{version}"), "python3".to_string()];
    let mut dirs: Vec<PathBuf> = Vec::new();
    if let Some(h) = home {
        // A virtualenv names its base interpreter's directory.
        if let Ok(cfg) = fs::read_to_string(h.join("pyvenv.cfg")) {
            if let Some(bin) = cfg.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "home").then(|| PathBuf::from(v.trim()))
            }) {
                dirs.push(bin);
            }
        }
        dirs.push(h.join("bin"));
    }
    if let Some(dir) = env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(dir);
    }
    // The Python this command was built with (scripts/build's PYO3_PYTHON).
    let mut candidates: Vec<PathBuf> = dirs
        .iter()
        .flat_map(|d| names.iter().map(move |n| d.join(n)))
        .collect();
    if let Some(p) = option_env!("PYO3_PYTHON") {
        candidates.push(PathBuf::from(p));
    }
    if let Some(p) = discover::which(&names[0]) {
        candidates.push(p);
    }
    candidates
        .into_iter()
        .filter(|p| p.is_file())
        .find(|p| version_of(p).as_deref() == Some(version))
}

fn ask(python: &Path, code: &str) -> Option<String> {
    let out = Command::new(python)
        .args(["-I", "-c", code])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONPATH")
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn version_of(python: &Path) -> Option<String> {
    ask(python, "import sys; print('%d.%d' % sys.version_info[:2])").map(|s| s.trim().to_string())
}

fn facts(python: &Path) -> Option<Facts> {
    let text = ask(
        python,
        "import sys, sysconfig as s\n\
         print(sys.base_prefix)\n\
         print(s.get_config_var('INSTSONAME') or '')\n\
         print(s.get_config_var('Py_ENABLE_SHARED') or 0)\n\
         print(s.get_config_var('LIBDIR') or '')",
    )?;
    let mut lines = text.lines();
    Some(Facts {
        base_prefix: PathBuf::from(lines.next()?),
        soname: lines.next()?.to_string(),
        shared: lines.next()? == "1",
        libdir: PathBuf::from(lines.next()?),
    })
}

/// Where the dynamic loader finds `soname` without help (`ldconfig -p`).
fn loader_path(soname: &str) -> Option<PathBuf> {
    let ldconfig = ["/sbin/ldconfig", "/usr/sbin/ldconfig"]
        .into_iter()
        .find(|p| Path::new(p).is_file())?;
    let out = Command::new(ldconfig)
        .arg("-p")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    parse_ldconfig(&String::from_utf8_lossy(&out.stdout), soname)
}

/// `soname`'s path in `ldconfig -p` output (lines `\tNAME (libc6,x86-64) => PATH`).
fn parse_ldconfig(listing: &str, soname: &str) -> Option<PathBuf> {
    listing.lines().find_map(|l| {
        let (name, rest) = l.trim().split_once(' ')?;
        if name != soname || !rest.contains("x86-64") {
            return None;
        }
        rest.split_once("=> ").map(|(_, p)| PathBuf::from(p.trim()))
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldconfig_listing() {
        let listing = "1 libs found in cache `/etc/ld.so.cache'\n\
            \tlibpython3.11.so.1.0 (libc6,x86-64) => /lib/x86_64-linux-gnu/libpython3.11.so.1.0\n\
            \tlibpython3.11.so (libc6,x86-64) => /lib/x86_64-linux-gnu/libpython3.11.so\n";
        assert_eq!(
            parse_ldconfig(listing, "libpython3.11.so.1.0"),
            Some(PathBuf::from("/lib/x86_64-linux-gnu/libpython3.11.so.1.0"))
        );
        assert_eq!(parse_ldconfig(listing, "libpython3.12.so.1.0"), None);
    }
}
