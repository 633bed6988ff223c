//! `module-config` and `module-location`: using the module from an
//! existing Apache configuration.

use std::path::{Path, PathBuf};

use crate::cli::{ModuleConfigArgs, ModuleLocationArgs};
use crate::discover::{self, HomeSource};
use crate::error::Result;
use crate::python_lib;

/// The lines Apache needs for the module `so` (loaded from `shown`, where
/// install-module puts it): LoadFile of its libpython when the loader would
/// not find that Python's own (e.g. a pyenv build), LoadModule, and
/// WSGIPythonHome for `home` (else for the module's Python's prefix when it
/// is not the system's).
pub fn module_lines(
    so: &Path,
    shown: &Path,
    home: Option<&(PathBuf, HomeSource)>,
) -> Result<String> {
    if let Some((h, source)) = home {
        discover::check_python_match(so, h, *source)?;
    }
    let python = python_lib::module_python(so, home.map(|(h, _)| h.as_path()))?;
    let mut out = String::new();
    if let Some(lib) = &python.load_file {
        out.push_str(&format!("LoadFile \"{}\"\n", lib.display()));
    }
    out.push_str(&format!("LoadModule wsgi_module \"{}\"\n", shown.display()));
    if let Some((h, _)) = home.cloned().or_else(|| python_lib::default_home(&python)) {
        out.push_str(&format!("WSGIPythonHome \"{}\"\n", h.display()));
    }
    Ok(out)
}

pub fn config(a: &ModuleConfigArgs) -> Result<i32> {
    let so = discover::module_path(a.module_path.as_deref())?;
    let home = discover::python_home(a.python_home.as_deref())?;
    print!("{}", module_lines(&so, &so, home.as_ref())?);
    Ok(0)
}

pub fn location(a: &ModuleLocationArgs) -> Result<i32> {
    println!(
        "{}",
        discover::module_path(a.module_path.as_deref())?.display()
    );
    Ok(0)
}
