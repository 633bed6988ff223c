//! `settings()`: the command line of start-server / setup-server, checked
//! piece by piece (application, listening, files, Python, user, logs,
//! Apache), into one `Settings`.

use crate::cli::ServerArgs;
use crate::discover;
use crate::error::{warn, Result};
use crate::quote::{check_conf_text, shell_words};
use crate::PROGRAM;

use super::{application, auth, files, handlers, https, listen, logging, python, run_as, Settings};

/// Validates the options of start-server / setup-server. `raw` is the
/// command line after the subcommand, recorded in httpd.conf.
pub fn settings(command: &str, a: &ServerArgs, raw: &[String]) -> Result<Settings> {
    let supervised = command == "start-server" && !a.setup_only;
    let working_directory = application::working_directory(a)?;
    let entry = application::entry(command, a)?;
    let server_root = listen::server_root(a)?;
    check_conf_text("--mount-point", &a.mount_point)?;
    let url_aliases = files::url_aliases(command, a)?;
    let document_root = match &entry {
        super::Entry::Static(dir) => Some(dir.clone()),
        _ => files::document_root(a)?,
    };
    files::check_error_documents(command, a)?;
    files::check_pairs(command, a)?;
    let python = python::python(command, a)?;
    let run_as = run_as::run_as(command, a)?;
    let log_directory = logging::log_directory(a, &server_root)?;
    let include_files = files::include_files(a)?;
    let httpd = discover::httpd_executable(a.httpd_executable.as_deref())?;
    let modules_dir = discover::modules_directory(a.modules_directory.as_deref(), &httpd)?;
    let static_modules = discover::static_modules(&httpd);
    let https = https::https(command, a)?;
    let pid_file = match &a.pid_file {
        Some(p) => files::any_path("pid-file", p)?,
        None => server_root.join("httpd.pid"),
    };
    let socket_dir = a
        .socket_prefix
        .as_deref()
        .map(|d| application::existing_dir("socket-prefix", d))
        .transpose()?;
    let mut daemon_options = a.daemon.options();
    if let Some(lang) = &a.env.lang {
        daemon_options.push(("lang", lang.clone()));
    }
    if let Some(locale) = &a.env.locale {
        daemon_options.push(("locale", locale.clone()));
    }
    if a.embedded_mode && !daemon_options.is_empty() {
        let names: Vec<String> = daemon_options
            .iter()
            // Apache's children take these through WSGISwitchInterval.
            .filter(|(n, _)| !matches!(*n, "lang" | "locale" | "switch-interval"))
            .map(|(n, _)| format!("--{n}"))
            .collect();
        if !names.is_empty() {
            warn(&format!(
                "{} only {} to daemon mode: ignored with --embedded-mode",
                names.join(", "),
                if names.len() == 1 { "applies" } else { "apply" }
            ));
        }
    }
    let ignore_activity = ignore_activity(a)?;
    if a.web.trust_proxy_header.is_empty() && !a.web.trust_proxy.is_empty() {
        warn("--trust-proxy has no effect without --trust-proxy-header (the headers to trust)");
    }

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
        libpython: python.libpython,
        python_version: python.version,
        supervised,
        daemon_home: true,
        server_aliases: a.server_alias.clone(),
        allow_localhost: a.allow_localhost,
        workers: [
            a.initial_workers,
            a.minimum_spare_workers,
            a.maximum_spare_workers,
        ],
        pid_file,
        mime_types: files::optional_file("mime-types", a.mime_types.as_ref())?,
        socket_dir,
        shell: a.shell_executable.clone(),
        process_name: a.process_name.clone(),
        https,
        http2: a.https.http2,
        daemon_options,
        application_group: a
            .daemon
            .application_group
            .clone()
            .unwrap_or_else(|| "%{GLOBAL}".to_string()),
        process_group: a.daemon.process_group.clone(),
        python_eggs: a
            .daemon
            .python_eggs
            .as_deref()
            .map(|p| files::any_path("python-eggs", p))
            .transpose()?,
        switch_interval: a.daemon.switch_interval.clone(),
        ignore_activity,
        handler_scripts: handlers::handler_scripts(command, a)?,
        auth: auth::auth(command, a)?,
        rewrite_rules: files::optional_file("rewrite-rules", a.web.rewrite_rules.as_ref())?,
        services: handlers::services(command, a)?,
        envvars_script: files::optional_file("envvars-script", a.env.envvars_script.as_ref())?,
        rotatelogs: files::rotatelogs(a)?,
        web: a.web.clone(),
        env: a.env.clone(),
        logs: a.logs.clone(),
    };
    if s.logs.access_log_format.is_some() {
        s.access_log = true;
    }
    warn_long_socket_paths(&s);
    run_as::check_access(&mut s)?;
    Ok(s)
}

/// `--ignore-activity` URL paths, with a warning where they cannot matter.
fn ignore_activity(a: &ServerArgs) -> Result<Vec<String>> {
    let urls = a.daemon.ignore_activity.clone();
    for url in &urls {
        check_conf_text("--ignore-activity", url)?;
    }
    if !urls.is_empty() {
        if a.embedded_mode {
            warn("--ignore-activity only applies to daemon mode: ignored with --embedded-mode");
        } else if a.daemon.inactivity_timeout == 0 {
            warn("--ignore-activity has no effect without --inactivity-timeout");
        }
    }
    Ok(urls)
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
