//! `module-config` and `module-location`: using the module from an
//! existing Apache configuration.

use std::path::{Path, PathBuf};

use crate::cli::{ModuleConfigArgs, ModuleLocationArgs};
use crate::discover::{self, HomeSource};
use crate::error::Result;

/// LoadModule for `so`, and WSGIPythonHome for `home`.
pub fn module_lines(so: &Path, home: Option<&(PathBuf, HomeSource)>) -> Result<String> {
    let mut out = format!("LoadModule wsgi_module \"{}\"\n", so.display());
    if let Some((h, source)) = home {
        discover::check_python_match(so, h, *source)?;
        out.push_str(&format!("WSGIPythonHome \"{}\"\n", h.display()));
    }
    Ok(out)
}

pub fn config(a: &ModuleConfigArgs) -> Result<i32> {
    let so = discover::module_path(a.module_path.as_deref())?;
    let home = discover::python_home(a.python_home.as_deref())?;
    print!("{}", module_lines(&so, home.as_ref())?);
    Ok(0)
}

pub fn location(a: &ModuleLocationArgs) -> Result<i32> {
    println!(
        "{}",
        discover::module_path(a.module_path.as_deref())?.display()
    );
    Ok(0)
}
