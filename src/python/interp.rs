//! Starting the interpreter (one per process, the main one) from the
//! WSGIPython* settings, and checking a user's python-home first so that a
//! mistake gets one log line saying what to change instead of a crash.

use pyo3::ffi;
use pyo3::prelude::*;
use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// What the interpreter is started with (from WSGIPython* or a daemon's
/// python-home= / python-path= options).
#[derive(Clone, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) home: Option<String>,
    pub(crate) python_path: Vec<String>,
    pub(crate) optimize: u8,
    /// None: Python's default (random); Some(seed).
    pub(crate) hash_seed: Option<u32>,
    pub(crate) warnings: Vec<String>,
    pub(crate) dont_write_bytecode: bool,
    pub(crate) restrict_stdin: bool,
    pub(crate) restrict_stdout: bool,
    pub(crate) restrict_signal: bool,
    /// `PYTHON_EGG_CACHE` to set in `os.environ` (WSGIPythonEggs in
    /// Apache children, python-eggs= in a daemon group).
    pub(crate) python_eggs: Option<String>,
    /// `sys.setswitchinterval()` at start (WSGISwitchInterval in Apache
    /// children, switch-interval= in a daemon group).
    pub(crate) switch_interval: Option<f64>,
    /// Values for the `mod_wsgi` module (process_group etc.; see
    /// `wsgi::api::install`).
    pub(crate) process_group: String,
    pub(crate) threads: usize,
    pub(crate) processes: usize,
}

static STARTED: AtomicBool = AtomicBool::new(false);

pub(crate) fn started() -> bool {
    STARTED.load(Ordering::Acquire)
}

/// The Python version the module was built against, "3.11".
pub(crate) fn built_version() -> String {
    // SAFETY: Py_GetVersion may be called before initialisation and
    // returns a static string such as "3.11.2 (main, ...)".
    let v = unsafe { std::ffi::CStr::from_ptr(ffi::Py_GetVersion()) };
    let v = v.to_string_lossy();
    let mut parts = v.split(['.', ' ']);
    format!(
        "{}.{}",
        parts.next().unwrap_or("3"),
        parts.next().unwrap_or("")
    )
}

/// Checks a python-home before Python sees it; the error is one line that
/// says what is wrong and what to change.
pub(crate) fn check_home(home: &str, version: &str) -> Result<HomeKind, String> {
    let root = Path::new(home);
    if !root.is_dir() {
        return Err(format!(
            "python-home '{home}' does not exist or is not a directory: set WSGIPythonHome \
             (or python-home=) to a virtualenv or a Python {version} prefix such as /usr"
        ));
    }
    let cfg = root.join("pyvenv.cfg");
    if cfg.is_file() {
        let text = std::fs::read_to_string(&cfg).unwrap_or_default();
        let venv_version = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .find(|(k, _)| matches!(k.trim(), "version" | "version_info"))
            .map(|(_, v)| v.trim().to_string());
        if let Some(v) = venv_version {
            let mm: Vec<&str> = v.split('.').take(2).collect();
            if mm.join(".") != version {
                return Err(format!(
                    "the virtualenv '{home}' was made with Python {v}, but mod_wsgi_rs is built \
                     for Python {version}: recreate it with python{version} -m venv {home}, or \
                     rebuild the module with PYO3_PYTHON pointing at Python {}",
                    mm.join(".")
                ));
            }
        }
        return Ok(HomeKind::Virtualenv);
    }
    let stdlib = root.join(format!("lib/python{version}/encodings"));
    if !stdlib.is_dir() {
        if let Some(other) = prefix_version(root) {
            return Err(format!(
                "python-home '{home}' is the prefix of Python {other}, but mod_wsgi_rs is built \
                 for Python {version}: set WSGIPythonHome (or python-home=) to a Python \
                 {version} prefix or virtualenv, or rebuild the module with PYO3_PYTHON \
                 pointing at Python {other}"
            ));
        }
        return Err(format!(
            "python-home '{home}' is neither a virtualenv (no pyvenv.cfg) nor a Python {version} \
             prefix (no {}): set WSGIPythonHome (or python-home=) to the virtualenv's directory \
             or to the prefix of Python {version}",
            stdlib.display()
        ));
    }
    Ok(HomeKind::Prefix)
}

/// The Python 3.X whose standard library a prefix holds (the only
/// lib/python3.X/encodings under it), if any.
fn prefix_version(root: &Path) -> Option<String> {
    let mut found: Vec<String> = std::fs::read_dir(root.join("lib"))
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            n.starts_with("python3.") && root.join("lib").join(n).join("encodings").is_dir()
        })
        .filter_map(|n| n.strip_prefix("python").map(str::to_string))
        .collect();
    found.sort();
    (found.len() == 1).then(|| found.remove(0))
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HomeKind {
    Virtualenv,
    Prefix,
}

fn wide(s: &str) -> Result<*mut libc::wchar_t, String> {
    let c = CString::new(s).map_err(|_| format!("'{s}' contains a NUL byte"))?;
    // SAFETY: Py_DecodeLocale may be called before initialisation; it
    // returns a PyMem_RawMalloc'd wide string or NULL.
    let w = unsafe { ffi::Py_DecodeLocale(c.as_ptr(), std::ptr::null_mut()) };
    if w.is_null() {
        Err(format!("cannot decode '{s}' in the current locale"))
    } else {
        Ok(w)
    }
}

fn status_error(status: ffi::PyStatus, what: &str) -> Result<(), String> {
    // SAFETY: PyStatus_Exception only inspects the struct.
    if unsafe { ffi::PyStatus_Exception(status) } == 0 {
        return Ok(());
    }
    let msg = if status.err_msg.is_null() {
        "unknown error".to_string()
    } else {
        // SAFETY: err_msg is a static C string set by CPython.
        unsafe { std::ffi::CStr::from_ptr(status.err_msg) }
            .to_string_lossy()
            .into_owned()
    };
    Err(format!("{what}: {msg}"))
}

/// Starts Python in this process. Must run after fork, once.
pub(crate) fn start(settings: &Settings) -> Result<(), String> {
    if started() {
        return Ok(());
    }
    // Before Python (and any request thread) exists: 0-2 open, and the
    // copies that keep them open afterwards (see os::stdio).
    if let Err(e) = crate::os::stdio::protect() {
        crate::httpd::log::server(
            crate::httpd::log::Level::Warn,
            &format!(
                "cannot keep file descriptors 0-2 open ({e}): an application that closes them \
                 may send its stderr to a connection"
            ),
        );
    }
    let version = built_version();
    let home_kind = match &settings.home {
        Some(h) => Some(check_home(h, &version)?),
        None => None,
    };
    // SAFETY: PyConfig is initialised by PyConfig_InitPythonConfig before
    // use and cleared after Py_InitializeFromConfig; every string handed to
    // it is a valid C or wide string.
    unsafe {
        let mut config = std::mem::MaybeUninit::<ffi::PyConfig>::zeroed();
        ffi::PyConfig_InitPythonConfig(config.as_mut_ptr());
        let mut config = config.assume_init();
        let result = (|| -> Result<(), String> {
            config.install_signal_handlers = 0;
            config.parse_argv = 0;
            config.optimization_level = settings.optimize as i32;
            config.write_bytecode = if settings.dont_write_bytecode { 0 } else { 1 };
            if let Some(seed) = settings.hash_seed {
                config.use_hash_seed = 1;
                config.hash_seed = seed as _;
            }
            for w in &settings.warnings {
                let ws = wide(w)?;
                let st = ffi::PyWideStringList_Append(&mut config.warnoptions, ws);
                ffi::PyMem_RawFree(ws as *mut _);
                status_error(st, "WSGIPythonWarnings")?;
            }
            if let (Some(home), Some(kind)) = (&settings.home, &home_kind) {
                let (field, value) = match kind {
                    // A virtualenv is found from its interpreter's path
                    // (pyvenv.cfg next to bin/), as `venv/bin/python` does.
                    HomeKind::Virtualenv => (
                        &raw mut config.program_name,
                        format!("{}/bin/python{}", home.trim_end_matches('/'), version),
                    ),
                    HomeKind::Prefix => (&raw mut config.home, home.clone()),
                };
                let c = CString::new(value).map_err(|_| "python-home contains NUL".to_string())?;
                status_error(
                    ffi::PyConfig_SetBytesString(&mut config, field, c.as_ptr()),
                    "python-home",
                )?;
            }
            status_error(
                ffi::Py_InitializeFromConfig(&config),
                "Python failed to start",
            )
        })();
        ffi::PyConfig_Clear(&mut config);
        result?;
        // Release the GIL taken by initialisation; threads attach as needed.
        ffi::PyEval_SaveThread();
    }
    STARTED.store(true, Ordering::Release);
    super::thread::mark_main_thread();
    Python::attach(|py| bootstrap(py, settings))
        .map_err(|e| format!("Python started, but setting it up failed: {e}"))
}

const BOOTSTRAP: &str = include_str!("bootstrap.py");

fn bootstrap(py: Python<'_>, settings: &Settings) -> PyResult<()> {
    // The rest of the module (version, groups, events, metrics…) is added
    // by `wsgi::api::install` once Python is up.
    let m = pyo3::types::PyModule::new(py, "mod_wsgi")?;
    m.add("server_implementation", "mod_wsgi_rs")?;
    let sys = py.import("sys")?;
    sys.getattr("modules")?.set_item("mod_wsgi", &m)?;

    super::logstream::install(py, settings.restrict_stdin, settings.restrict_stdout)?;
    super::script::set_process_group(&settings.process_group);

    let globals = pyo3::types::PyDict::new(py);
    globals.set_item("__builtins__", py.import("builtins")?)?;
    let code = CString::new(BOOTSTRAP).expect("bootstrap has no NUL");
    py.run(&code, Some(&globals), None)?;
    let setup = globals
        .get_item("setup")?
        .ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("bootstrap has no setup()"))?;
    let keep_standard_fd = pyo3::wrap_pyfunction!(super::stdio::keep_standard_fd, &m)?;
    setup.call1((
        settings.python_path.clone(),
        settings.restrict_signal,
        keep_standard_fd,
    ))?;
    if let Some(dir) = &settings.python_eggs {
        // Through os.environ, so the process environment (and so any
        // subprocess) gets it too, as in mod_wsgi.
        py.import("os")?
            .getattr("environ")?
            .set_item("PYTHON_EGG_CACHE", dir)?;
    }
    if let Some(seconds) = settings.switch_interval {
        sys.call_method1("setswitchinterval", (seconds,))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_of_another_python_is_named() {
        let d = std::env::temp_dir().join(format!("mwr-prefix-{}", std::process::id()));
        std::fs::create_dir_all(d.join("lib/python3.12/encodings")).unwrap();
        let home = d.to_str().unwrap();
        let err = check_home(home, "3.11").unwrap_err();
        assert!(
            err.contains("is the prefix of Python 3.12, but mod_wsgi_rs is built for Python 3.11"),
            "{err}"
        );
        assert_eq!(check_home(home, "3.12"), Ok(HomeKind::Prefix));
        std::fs::remove_dir_all(&d).unwrap();
        let err = check_home(home, "3.11").unwrap_err();
        assert!(err.contains("does not exist"), "{err}");
    }
}
