//! The module and the Python it runs: `--module-path`, `--python-home`,
//! `--python-path`.

use std::path::{Path, PathBuf};

use crate::cli::ServerArgs;
use crate::discover::{self, HomeSource};
use crate::error::{CliError, Result};
use crate::python_lib;
use crate::quote::check_conf_text;

pub struct Python {
    pub module_so: PathBuf,
    /// The major.minor the module was built for, when it can tell.
    pub version: Option<String>,
    pub home: Option<(PathBuf, HomeSource)>,
    /// The module's libpython, when Apache must LoadFile it (python_lib).
    pub libpython: Option<PathBuf>,
    pub paths: Vec<PathBuf>,
}

pub fn python(command: &str, a: &ServerArgs) -> Result<Python> {
    let module_so = discover::module_path(a.module_path.as_deref())?;
    check_conf_text("--module-path", &module_so.display().to_string())?;
    let version = discover::module_python_version(&module_so);
    let home = discover::python_home(a.python_home.as_deref())?;
    if let Some((home, source)) = &home {
        check_conf_text("--python-home", &home.display().to_string())?;
        discover::check_python_match(&module_so, home, *source)?;
    }
    let module_python =
        python_lib::module_python(&module_so, home.as_ref().map(|(h, _)| h.as_path()))?;
    let home = home.or_else(|| python_lib::default_home(&module_python));
    Ok(Python {
        module_so,
        version,
        home,
        libpython: module_python.load_file,
        paths: python_paths(command, a)?,
    })
}

fn python_paths(command: &str, a: &ServerArgs) -> Result<Vec<PathBuf>> {
    let mut paths = Vec::new();
    for p in &a.python_path {
        let path = discover::absolute(Path::new(p));
        let text = path.display().to_string();
        check_conf_text("--python-path", &text)?;
        if text.contains(':') {
            return Err(CliError::usage(
                command,
                format!("--python-path {text}: a directory name cannot contain ':'"),
            ));
        }
        paths.push(path);
    }
    Ok(paths)
}
