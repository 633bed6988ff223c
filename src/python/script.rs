//! Loading WSGI scripts: each script file is executed as its own module,
//! once per application group (mod_wsgi gives each group its own
//! interpreter; here all groups share the main interpreter, and a script
//! gets one module per group). The module is named like mod_wsgi's,
//! `_mod_wsgi_<md5 of the path>`, with the group mixed into the hash for
//! groups other than %{GLOBAL}. Modules are cached per process and
//! re-executed when the file's modification time changes (with
//! WSGIScriptReloading On), or when the module's own `reload_required(
//! resource)` says so (mod_wsgi 6's hook: consulted while the file is
//! unchanged; a true result reloads, an exception is logged and the module
//! kept). Each execution is logged at info level in mod_wsgi 6.1's words:
//! "Loading WSGI script '…' into …". The first script of a second
//! application group a process loads gets one warning: the groups share
//! the interpreter.

use crate::httpd::log::{self, Level};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyModule};
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::{Condvar, Mutex, OnceLock};

struct Entry {
    module: Py<PyModule>,
    /// Microseconds since the epoch, as `mtime_us` gives it.
    mtime: Option<i64>,
}

/// Modules by application group, then script path (looked up without
/// allocating).
/// Keyed by the path's bytes (hashing them is cheaper than hashing a
/// `Path` component by component).
type Cache = HashMap<String, HashMap<OsString, Entry>>;

static RELOADS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// True once a loaded script was executed again because its file changed
/// (a daemon process then restarts so that all of the application's code is
/// fresh).
pub(crate) fn reloaded() -> bool {
    RELOADS.load(std::sync::atomic::Ordering::SeqCst) > 0
}

fn cache() -> &'static Mutex<Cache> {
    static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Serialises script execution so two threads never import the same script
/// at once. Waited for with the GIL released (never while holding the GIL),
/// so it cannot deadlock against Python; held while executing the script.
static LOADING: Mutex<bool> = Mutex::new(false);
static LOADED: Condvar = Condvar::new();

struct LoadGuard;

impl LoadGuard {
    fn acquire(py: Python<'_>) -> LoadGuard {
        py.detach(|| {
            let mut busy = LOADING.lock().unwrap_or_else(|e| e.into_inner());
            while *busy {
                busy = LOADED.wait(busy).unwrap_or_else(|e| e.into_inner());
            }
            *busy = true;
        });
        LoadGuard
    }
}

impl Drop for LoadGuard {
    fn drop(&mut self) {
        *LOADING.lock().unwrap_or_else(|e| e.into_inner()) = false;
        LOADED.notify_one();
    }
}

/// Why a script could not be used; each variant is logged as one line that
/// says what to change.
#[derive(Debug)]
pub(crate) enum LoadError {
    Unreadable(String),
    Failed(PyErr),
}

/// This process's daemon group ("" in an Apache child), for log lines.
static PROCESS_GROUP: OnceLock<String> = OnceLock::new();

/// Records the daemon process group this process serves (at Python start).
pub(crate) fn set_process_group(group: &str) {
    let _ = PROCESS_GROUP.set(group.to_string());
}

/// Where a script is loaded, in mod_wsgi 6.1's words (with one interpreter
/// per process here, an application group is a part of the main one):
/// "main interpreter in embedded mode", "application group 'x' of the main
/// interpreter of daemon process 'g'".
fn interp_context(group: &str) -> String {
    let interp = if group.is_empty() {
        "main interpreter".to_string()
    } else {
        format!("application group '{group}' of the main interpreter")
    };
    match PROCESS_GROUP.get().map(String::as_str) {
        Some(pg) if !pg.is_empty() => format!("{interp} of daemon process '{pg}'"),
        _ => format!("{interp} in embedded mode"),
    }
}

/// The module's `reload_required(resource)`, if it defines one: true when
/// it asks for a reload. An exception is logged; the module is kept (as in
/// mod_wsgi 6, so a failing hook cannot turn into a reload per request).
fn reload_required(py: Python<'_>, module: &Py<PyModule>, path: &Path, resource: &Path) -> bool {
    let dict = module.bind(py).dict();
    let Ok(Some(hook)) = dict.get_item(pyo3::intern!(py, "reload_required")) else {
        return false;
    };
    match hook.call1((resource,)).and_then(|r| r.is_truthy()) {
        Ok(yes) => yes,
        Err(e) => {
            let msg = format!(
                "reload_required() of WSGI script '{}' raised an exception; the loaded module \
                 is kept.\n{}",
                path.display(),
                super::format_exception(py, &e)
            );
            py.detach(move || log::server(Level::Err, &msg));
            false
        }
    }
}

/// A file's modification time in microseconds since the epoch, the unit
/// of Apache's `apr_finfo_t` (so either stat can be compared with the one
/// taken when the script was loaded).
fn mtime_us(path: &Path) -> std::io::Result<i64> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    // APR's formula: seconds, plus nanoseconds truncated to microseconds.
    Ok(m.mtime() * 1_000_000 + m.mtime_nsec() / 1000)
}

/// The module for `path`, executing it first when it is not loaded yet or
/// (when `reload` is true) when the file changed since it was loaded.
/// Scripts that do not serve a resource (auth scripts) never consult
/// `reload_required()`, as in mod_wsgi.
pub(crate) fn load(
    py: Python<'_>,
    path: &Path,
    group: &str,
    reload: bool,
) -> Result<Py<PyModule>, LoadError> {
    load_for(py, path, None, group, reload, None)
}

/// `load` for a script serving `resource` (the file the request maps to,
/// SCRIPT_FILENAME; a WSGIHandlerScript differs from it): with `reload`,
/// the module's `reload_required(resource)` is consulted too.
/// `known_mtime_us` is the script's modification time when Apache's
/// directory walk already took it (mod_wsgi uses `r->finfo` the same way);
/// without it the script is stat()ed.
pub(crate) fn load_for(
    py: Python<'_>,
    path: &Path,
    resource: Option<&Path>,
    group: &str,
    reload: bool,
    known_mtime_us: Option<i64>,
) -> Result<Py<PyModule>, LoadError> {
    // A stat is cheaper than releasing and retaking the GIL around it.
    let current = if reload {
        known_mtime_us.or_else(|| mtime_us(path).ok())
    } else {
        None
    };
    let cached = |py: Python<'_>| -> Option<Py<PyModule>> {
        let cache = cache().lock().unwrap_or_else(|e| e.into_inner());
        let e = cache.get(group)?.get(path.as_os_str())?;
        (!reload || e.mtime == current).then(|| e.module.clone_ref(py))
    };
    let mut forced = false;
    if let Some(m) = cached(py) {
        if !reload || !resource.is_some_and(|res| reload_required(py, &m, path, res)) {
            return Ok(m);
        }
        forced = true;
    }
    let _guard = LoadGuard::acquire(py);
    // Another thread may have loaded it while this one waited.
    if !forced {
        if let Some(m) = cached(py) {
            return Ok(m);
        }
    }
    warn_second_group(group, path);
    let key = (group.to_string(), path.to_path_buf());
    let p = key.1.clone();
    let (source, stamp) = py
        .detach(move || std::fs::read(&p).map(|s| (s, mtime_us(&p).ok())))
        .map_err(|e| {
            LoadError::Unreadable(format!(
                "cannot read WSGI script '{}': {e}; make it readable by the user Apache's \
                 children (or the daemon) run as",
                key.1.display()
            ))
        })?;
    let had = cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&key.0)
        .is_some_and(|m| m.contains_key(key.1.as_os_str()));
    let msg = format!(
        "{} WSGI script '{}' into {}.",
        if had { "Reloading" } else { "Loading" },
        key.1.display(),
        interp_context(group)
    );
    py.detach(move || log::server(Level::Info, &msg));
    let module = execute(py, &key.1, group, &source).map_err(LoadError::Failed)?;
    if had {
        RELOADS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(key.0)
        .or_default()
        .insert(
            key.1.into_os_string(),
            Entry {
                module: module.clone_ref(py),
                mtime: stamp,
            },
        );
    Ok(module)
}

/// The first application group this process loaded a script for (and that
/// script), and whether the one-time warning about a second group was given.
static GROUPS: Mutex<(Option<(String, std::path::PathBuf)>, bool)> = Mutex::new((None, false));

/// How an application group is named in log lines ("" is %{GLOBAL}).
fn group_label(group: &str) -> String {
    if group.is_empty() {
        "%{GLOBAL}".to_string()
    } else {
        format!("'{group}'")
    }
}

/// The first time this process loads a script of a second application
/// group, one warning naming both groups and the fix: every group runs in
/// the one interpreter of the process, so they share sys.modules and
/// os.environ (mod_wsgi would give each its own sub-interpreter).
fn warn_second_group(group: &str, path: &Path) {
    let mut seen = GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    let (first, warned) = &mut *seen;
    let Some((first_group, first_script)) = first else {
        *first = Some((group.to_string(), path.to_path_buf()));
        return;
    };
    if *warned || first_group == group {
        return;
    }
    *warned = true;
    crate::httpd::log::server(
        crate::httpd::log::Level::Warn,
        &format!(
            "application groups {} (script '{}') and {} (script '{}') share this process and its \
             one Python interpreter: they see each other's sys.modules, os.environ and module \
             state (two Django sites would share DJANGO_SETTINGS_MODULE). To keep applications \
             apart, run each in its own daemon process group (a WSGIDaemonProcess per \
             application, selected with process-group= or WSGIProcessGroup). Logged once per \
             process.",
            group_label(first_group),
            first_script.display(),
            group_label(group),
            path.display()
        ),
    );
}

/// The module name for a script: `_mod_wsgi_` + md5(path), as mod_wsgi
/// names it, with `group|` before the path for groups other than "".
pub(crate) fn module_name(path: &Path, group: &str) -> String {
    let path = path.to_string_lossy();
    let text = if group.is_empty() {
        path.into_owned()
    } else {
        format!("{group}|{path}")
    };
    format!("_mod_wsgi_{}", super::md5::hex_digest(text.as_bytes()))
}

fn execute(py: Python<'_>, path: &Path, group: &str, source: &[u8]) -> PyResult<Py<PyModule>> {
    let name = module_name(path, group);
    let sys_modules = py.import("sys")?.getattr("modules")?;
    let module = PyModule::new(py, &name)?;
    let file = path.to_string_lossy().into_owned();
    module.setattr("__file__", &file)?;
    let builtins = py.import("builtins")?;
    let code = builtins.getattr("compile")?.call1((
        pyo3::types::PyBytes::new(py, source),
        &file,
        "exec",
        0,
        true,
    ))?;
    sys_modules.set_item(&name, &module)?;
    let globals: Bound<'_, PyDict> = module.dict();
    if let Err(e) = builtins.getattr("exec")?.call1((code, &globals)) {
        let _ = sys_modules.del_item(&name);
        return Err(e);
    }
    Ok(module.unbind())
}

/// Executes a script at process start (WSGIImportScript, preloading).
pub(crate) fn preload(py: Python<'_>, path: &Path, group: &str) -> Result<(), LoadError> {
    load(py, path, group, false).map(|_| ())
}
