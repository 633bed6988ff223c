//! Finding things on this machine: Apache and its modules directory, the
//! mod_wsgi_rs module, the Python it was built for, an active virtualenv,
//! users and groups.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{CliError, Result};

/// The file name of the module as cargo builds it.
pub const BUILT_SO: &str = "libmod_wsgi_rs.so";
/// The file name `install-module` gives it in Apache's modules directory.
pub const INSTALLED_SO: &str = "mod_wsgi_rs.so";

const DEBIAN_HTTPD: &str = "/usr/sbin/apache2";
const DEBIAN_MODULES: &str = "/usr/lib/apache2/modules";

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The first `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// The Apache httpd executable: `--httpd-executable`, else Debian's
/// /usr/sbin/apache2, else `apache2` or `httpd` on PATH (or in /usr/sbin).
pub fn httpd_executable(given: Option<&str>) -> Result<PathBuf> {
    const INSTALL: &str = "install Apache httpd 2.4 (Debian/Ubuntu: apt-get install apache2; \
                           Fedora/RHEL: dnf install httpd)";
    if let Some(g) = given {
        let p = absolute(Path::new(g));
        if !p.exists() {
            return Err(CliError::fail(format!(
                "Apache httpd executable {} does not exist: {INSTALL}, or fix --httpd-executable",
                p.display()
            )));
        }
        if !is_executable(&p) {
            return Err(CliError::fail(format!(
                "{} is not an executable file: pass the apache2/httpd binary to --httpd-executable",
                p.display()
            )));
        }
        return Ok(p);
    }
    let debian = Path::new(DEBIAN_HTTPD);
    if is_executable(debian) {
        return Ok(debian.to_path_buf());
    }
    for name in ["apache2", "httpd"] {
        if let Some(p) = which(name) {
            return Ok(p);
        }
    }
    let sbin = Path::new("/usr/sbin/httpd");
    if is_executable(sbin) {
        return Ok(sbin.to_path_buf());
    }
    Err(CliError::fail(format!(
        "Apache httpd was not found (looked for {DEBIAN_HTTPD}, and apache2 or httpd on PATH): \
         {INSTALL}, or pass --httpd-executable"
    )))
}

/// `apxs -q NAME` (apxs from $APXS or PATH), if apxs is there and answers.
pub fn apxs_query(name: &str) -> Option<String> {
    let apxs = env::var("APXS").ok().filter(|s| !s.is_empty());
    let apxs = match apxs {
        Some(a) => PathBuf::from(a),
        None => which("apxs").or_else(|| which("apxs2"))?,
    };
    let out = Command::new(&apxs)
        .args(["-q", name])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!v.is_empty()).then_some(v)
}

/// Apache's modules directory, where the MPM and the standard modules live.
pub fn modules_directory(given: Option<&str>, httpd: &Path) -> Result<PathBuf> {
    if let Some(g) = given {
        let p = absolute(Path::new(g));
        if !p.is_dir() {
            return Err(CliError::fail(format!(
                "--modules-directory {} is not a directory",
                p.display()
            )));
        }
        return Ok(p);
    }
    let has_modules = |d: &Path| d.join("mod_authz_core.so").is_file();
    let mut candidates = Vec::new();
    if httpd == Path::new(DEBIAN_HTTPD) {
        candidates.push(PathBuf::from(DEBIAN_MODULES));
    }
    if let Some(d) = apxs_query("LIBEXECDIR") {
        candidates.push(PathBuf::from(d));
    }
    if let Some(bin_dir) = httpd.parent() {
        let prefix = bin_dir.parent().unwrap_or(Path::new("/"));
        for rel in [
            "modules",
            "lib/apache2/modules",
            "lib64/httpd/modules",
            "lib/httpd/modules",
        ] {
            candidates.push(prefix.join(rel));
        }
    }
    candidates.push(PathBuf::from(DEBIAN_MODULES));
    candidates.push(PathBuf::from("/usr/lib64/httpd/modules"));
    candidates.push(PathBuf::from("/usr/lib/httpd/modules"));
    candidates
        .into_iter()
        .find(|d| has_modules(d))
        .ok_or_else(|| {
            CliError::fail(format!(
                "cannot find Apache's modules directory for {} (no mod_authz_core.so in the \
                 usual places): pass --modules-directory",
                httpd.display()
            ))
        })
}

/// Modules compiled into the httpd binary (`httpd -l`), e.g. `mod_unixd`.
pub fn static_modules(httpd: &Path) -> Vec<String> {
    let Ok(out) = Command::new(httpd)
        .arg("-l")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
    else {
        return Vec::new();
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().strip_suffix(".c").map(str::to_string))
        .collect()
}

/// The package directory a wheel installs the module into, under a prefix
/// whose bin/ holds this command (a virtualenv, ~/.local, /usr/local).
const WHEEL_PACKAGE: &str = "mod_wsgi_rs";

/// The modules installed by a mod_wsgi_rs wheel under the prefix whose bin/
/// is `exe_dir`: PREFIX/lib/python3.X/{site,dist}-packages/mod_wsgi_rs/
/// libmod_wsgi_rs*.so (the wheel names it like an extension module, e.g.
/// libmod_wsgi_rs.cpython-312-x86_64-linux-gnu.so).
pub fn wheel_modules(exe_dir: &Path) -> Vec<PathBuf> {
    let Some(prefix) = exe_dir.parent() else {
        return Vec::new();
    };
    let Ok(entries) = fs::read_dir(prefix.join("lib")) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3."))
        .flat_map(|e| {
            ["site-packages", "dist-packages"].map(|sp| e.path().join(sp).join(WHEEL_PACKAGE))
        })
        .filter_map(|pkg| fs::read_dir(pkg).ok())
        .flatten()
        .filter_map(|e| e.ok())
        .filter(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            n.starts_with("libmod_wsgi_rs") && n.ends_with(".so")
        })
        .map(|e| e.path())
        .collect();
    found.sort();
    found
}

/// The mod_wsgi_rs module: `--module-path`, else `libmod_wsgi_rs.so` next to
/// this executable (target/release when built by cargo), else the one a
/// wheel installed with this command (see `wheel_modules`), else the copy
/// `install-module` put in Apache's modules directory.
pub fn module_path(given: Option<&str>) -> Result<PathBuf> {
    const BUILD: &str = "install the wheel (pip install mod_wsgi_rs-*.whl, in the virtualenv \
                         you run this command from), build it with scripts/build (cargo build \
                         --release) in the mod_wsgi_rs source tree, or pass --module-path";
    if let Some(g) = given {
        let p = absolute(Path::new(g));
        if !p.is_file() {
            return Err(CliError::fail(format!(
                "the mod_wsgi_rs module {} does not exist: {BUILD}",
                p.display()
            )));
        }
        return Ok(p);
    }
    let mut looked = Vec::new();
    if let Ok(exe) = env::current_exe() {
        if let Some(dir) = exe.parent() {
            looked.push(dir.join(BUILT_SO));
            looked.push(dir.join(INSTALLED_SO));
            looked.extend(wheel_modules(dir));
        }
    }
    if let Some(d) = apxs_query("LIBEXECDIR") {
        looked.push(Path::new(&d).join(INSTALLED_SO));
    }
    looked.push(Path::new(DEBIAN_MODULES).join(INSTALLED_SO));
    if let Some(p) = looked.iter().find(|p| p.is_file()) {
        return Ok(p.clone());
    }
    let list: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
    Err(CliError::fail(format!(
        "the mod_wsgi_rs Apache module was not found (looked for {}): {BUILD}",
        list.join(", ")
    )))
}

/// The Python major.minor the module was built for, read from the module's
/// dynamic section: the `libpython3.X.so` it links (what `ldd` would show).
/// None when it cannot tell (e.g. a statically linked Python).
pub fn module_python_version(so: &Path) -> Option<String> {
    let data = fs::read(so).ok()?;
    let needle = b"libpython3.";
    let mut start = 0;
    while let Some(pos) = find(&data[start..], needle) {
        let at = start + pos + needle.len();
        let digits: Vec<u8> = data[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .copied()
            .collect();
        let rest = &data[at + digits.len()..];
        if !digits.is_empty() && (rest.starts_with(b".so") || rest.starts_with(b"m.so")) {
            return Some(format!("3.{}", String::from_utf8_lossy(&digits)));
        }
        start = at;
    }
    None
}

/// The libpython soname the module links (e.g. `libpython3.12.so.1.0`),
/// read from its dynamic string table like `module_python_version`.
pub fn module_libpython(so: &Path) -> Option<String> {
    let version = module_python_version(so)?;
    let data = fs::read(so).ok()?;
    let needle = format!("libpython{version}");
    let pos = find(&data, needle.as_bytes())?;
    let name: Vec<u8> = data[pos..]
        .iter()
        .take_while(|b| **b != 0 && b.is_ascii_graphic())
        .copied()
        .collect();
    Some(String::from_utf8_lossy(&name).into_owned())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A virtualenv's or Python prefix's major.minor: from pyvenv.cfg, else by
/// asking its bin/python3, else from its single lib/python3.X directory.
pub fn home_python_version(home: &Path) -> Option<String> {
    if let Ok(cfg) = fs::read_to_string(home.join("pyvenv.cfg")) {
        for key in ["version", "version_info"] {
            for line in cfg.lines() {
                if let Some((k, v)) = line.split_once('=') {
                    if k.trim() == key {
                        let mut parts = v.trim().split('.');
                        if let (Some(a), Some(b)) = (parts.next(), parts.next()) {
                            if a.chars().all(|c| c.is_ascii_digit())
                                && b.chars().all(|c| c.is_ascii_digit())
                                && !b.is_empty()
                            {
                                return Some(format!("{a}.{b}"));
                            }
                        }
                    }
                }
            }
        }
    }
    let python = home.join("bin").join("python3");
    if is_executable(&python) {
        if let Ok(out) = Command::new(&python)
            .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .env_remove("PYTHONHOME")
            .output()
        {
            let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
            if out.status.success() && v.starts_with("3.") {
                return Some(v);
            }
        }
    }
    let mut found: Vec<String> = fs::read_dir(home.join("lib"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter_map(|n| n.strip_prefix("python").map(str::to_string))
        .filter(|v| v.starts_with("3.") && v[2..].chars().all(|c| c.is_ascii_digit()))
        .collect();
    found.sort();
    found.dedup();
    (found.len() == 1).then(|| found.remove(0))
}

/// Where the Python home came from, for messages.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HomeSource {
    Option,
    VirtualEnvVariable,
    PythonOnPath,
    /// The virtualenv this command is installed in (a wheel installed into
    /// it), when none is active.
    CommandVirtualenv,
    /// The prefix of the module's Python when it is not the system's (so
    /// that Python finds its standard library inside Apache).
    ModulePython,
}

/// The Python home to use: `--python-home`, else the active virtualenv
/// ($VIRTUAL_ENV, or the virtualenv whose bin/python3 comes first on PATH),
/// else the virtualenv this command was installed into (by the wheel).
pub fn python_home(given: Option<&str>) -> Result<Option<(PathBuf, HomeSource)>> {
    if let Some(g) = given {
        let p = absolute(Path::new(g));
        if !p.is_dir() {
            return Err(CliError::fail(format!(
                "--python-home {} is not a directory: give the virtualenv's directory (the one \
                 holding pyvenv.cfg) or a Python prefix such as /usr",
                p.display()
            )));
        }
        return Ok(Some((p, HomeSource::Option)));
    }
    if let Some(v) = env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let p = absolute(Path::new(&v));
        if p.join("pyvenv.cfg").is_file() {
            return Ok(Some((p, HomeSource::VirtualEnvVariable)));
        }
    }
    if let Some(py) = which("python3") {
        // Not canonicalized: a virtualenv's bin/python3 is a symlink.
        if let Some(venv) = py.parent().and_then(Path::parent) {
            if venv.join("pyvenv.cfg").is_file() {
                return Ok(Some((venv.to_path_buf(), HomeSource::PythonOnPath)));
            }
        }
    }
    if let Some(venv) = command_virtualenv() {
        return Ok(Some((venv, HomeSource::CommandVirtualenv)));
    }
    Ok(None)
}

/// The virtualenv whose bin/ holds this command, if it is in one.
pub fn command_virtualenv() -> Option<PathBuf> {
    let exe = env::current_exe().ok()?;
    let venv = exe.parent()?.parent()?;
    venv.join("pyvenv.cfg")
        .is_file()
        .then(|| venv.to_path_buf())
}

/// Fails when `home` uses another Python major.minor than the module.
pub fn check_python_match(so: &Path, home: &Path, source: HomeSource) -> Result<()> {
    let Some(built) = module_python_version(so) else {
        return Ok(());
    };
    let Some(theirs) = home_python_version(home) else {
        return Ok(());
    };
    if built == theirs {
        return Ok(());
    }
    let what = match source {
        HomeSource::Option => format!("--python-home {}", home.display()),
        HomeSource::VirtualEnvVariable => {
            format!("the active virtualenv {} ($VIRTUAL_ENV)", home.display())
        }
        HomeSource::PythonOnPath => format!(
            "the virtualenv {} (its python3 is first on PATH)",
            home.display()
        ),
        HomeSource::CommandVirtualenv => format!(
            "the virtualenv {} (this command is installed in it)",
            home.display()
        ),
        HomeSource::ModulePython => format!("the Python prefix {}", home.display()),
    };
    Err(CliError::fail(format!(
        "{what} uses Python {theirs}, but the module {} was built for Python {built} (it links \
         libpython{built}): use a Python {built} virtualenv (python{built} -m venv DIR), or \
         rebuild the module for Python {theirs} (PYO3_PYTHON={}/bin/python scripts/build)",
        so.display(),
        home.display()
    )))
}

/// An absolute, lexically cleaned version of `p` (relative to the current
/// directory); symlinks are kept.
pub fn absolute(p: &Path) -> PathBuf {
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(p)
    };
    let mut out = PathBuf::from("/");
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::Normal(n) => out.push(n),
            _ => {}
        }
    }
    out
}

/// A user's uid and primary gid (`getent passwd`, else /etc/passwd).
pub fn lookup_user(name: &str) -> Option<(u32, u32)> {
    if let Some(n) = name.strip_prefix('#') {
        let uid = n.parse().ok()?;
        return Some((uid, uid));
    }
    let line = getent("passwd", name).or_else(|| file_entry("/etc/passwd", name))?;
    let f: Vec<&str> = line.split(':').collect();
    Some((f.get(2)?.parse().ok()?, f.get(3)?.parse().ok()?))
}

/// A group's gid (`getent group`, else /etc/group).
pub fn lookup_group(name: &str) -> Option<u32> {
    if let Some(n) = name.strip_prefix('#') {
        return n.parse().ok();
    }
    let line = getent("group", name).or_else(|| file_entry("/etc/group", name))?;
    line.split(':').nth(2)?.parse().ok()
}

fn getent(db: &str, name: &str) -> Option<String> {
    let out = Command::new("getent")
        .args([db, name])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn file_entry(file: &str, name: &str) -> Option<String> {
    fs::read_to_string(file)
        .ok()?
        .lines()
        .find(|l| l.split(':').next() == Some(name))
        .map(str::to_string)
}

/// The /etc/mime.types file when the system has one.
pub fn mime_types() -> Option<PathBuf> {
    [
        "/etc/mime.types",
        "/etc/apache2/mime.types",
        "/etc/httpd/conf/mime.types",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_cleans() {
        assert_eq!(absolute(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert!(absolute(Path::new("x")).is_absolute());
    }

    #[test]
    fn venv_version_from_cfg() {
        let d = env::temp_dir().join(format!("mwr-cfg-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("pyvenv.cfg"), "home = /usr/bin\nversion = 3.12.1\n").unwrap();
        assert_eq!(home_python_version(&d).as_deref(), Some("3.12"));
        fs::write(d.join("pyvenv.cfg"), "version_info = 3.9.18.final.0\n").unwrap();
        assert_eq!(home_python_version(&d).as_deref(), Some("3.9"));
        fs::remove_dir_all(&d).unwrap();
    }
}
