//! The `apache` Python module, as 6.1 fills it: `version` (Apache's, a
//! tuple of ints), `mpm_name`, `maximum_processes` and
//! `threads_per_process` (the MPM's limits), `description`, `build_date`.
//! Daemon processes report the same Apache facts.

use crate::httpd::server;
use pyo3::prelude::*;

pub(crate) fn install(py: Python<'_>) -> PyResult<()> {
    let m = PyModule::new(py, "apache")?;
    let (major, minor, patch) = server::httpd_version();
    m.add("version", (major, minor, patch))?;
    m.add("mpm_name", server::mpm_name())?;
    m.add("maximum_processes", server::mpm_max_processes())?;
    m.add("threads_per_process", server::mpm_max_threads())?;
    m.add("description", server::description())?;
    m.add("build_date", server::build_date())?;
    py.import("sys")?
        .getattr("modules")?
        .set_item("apache", m)?;
    Ok(())
}
