//! `settings()`: the command line of start-server / setup-server, checked
//! piece by piece (application, listening, files, Python, user, logs,
//! Apache), into one `Settings`.

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::{warn, Result};
use crate::quote::{check_conf_text, shell_words};
use crate::PROGRAM;

use super::{application, files, listen, logging, python, run_as, Settings};

/// Validates the options of start-server / setup-server. `raw` is the
/// command line after the subcommand, recorded in httpd.conf.
pub fn settings(command: &str, a: &ServerArgs, raw: &[String]) -> Result<Settings> {
    let supervised = command == "start-server" && !a.setup_only;
    let working_directory = application::working_directory(a)?;
    let entry = application::entry(command, a)?;
    let server_root = listen::server_root(a)?;
    check_conf_text("--mount-point", &a.mount_point)?;
    let url_aliases = files::url_aliases(command, a)?;
    let document_root = files::document_root(a)?;
    let python = python::python(command, a)?;
    let run_as = run_as::run_as(command, a)?;
    let log_directory = logging::log_directory(a, &server_root)?;
    let include_files = files::include_files(a)?;
    let httpd = discover::httpd_executable(a.httpd_executable.as_deref())?;
    let modules_dir = discover::modules_directory(a.modules_directory.as_deref(), &httpd)?;
    let static_modules = discover::static_modules(&httpd);

    let mut s = Settings {
        command_line: format!("{PROGRAM} {command} {}", shell_words(raw)),
        entry,
        host: a.host.clone(),
        port: a.port,
        server_name: a.server_name.clone(),
        server_root,
        processes: a.processes,
        threads: a.threads,
        max_clients: a.max_clients,
        mpm: a.server_mpm,
        embedded: a.embedded_mode,
        callable_object: a.callable_object.clone(),
        mount_point: a.mount_point.clone(),
        url_aliases,
        document_root,
        working_directory,
        python_home: python.home,
        python_paths: python.paths,
        reload: a.reload_on_changes,
        run_as,
        log_to_terminal: a.log_to_terminal,
        access_log: a.access_log,
        log_level: a.log_level.clone(),
        log_directory,
        limit_request_body: a.limit_request_body,
        timeouts: a.timeouts(),
        maximum_requests: a.maximum_requests,
        include_files,
        httpd,
        modules_dir,
        static_modules,
        module_so: python.module_so,
        python_version: python.version,
        supervised,
        daemon_home: true,
    };
    warn_long_socket_paths(&s);
    run_as::check_access(&mut s)?;
    Ok(s)
}

fn warn_long_socket_paths(s: &Settings) {
    if !s.embedded && s.socket_prefix().as_os_str().len() > 80 {
        warn(&format!(
            "the server root {} is long: daemon sockets ({}.*) may not fit the 107-byte limit \
             of socket paths; choose a shorter --server-root",
            s.server_root.display(),
            s.socket_prefix().display()
        ));
    }
}
