//! `mod-wsgi-rs`: serve a Python WSGI application through Apache httpd and
//! mod_wsgi_rs with one command, like mod_wsgi-express.
//!
//!   mod-wsgi-rs start-server app.wsgi [options]   write the config, run Apache
//!   mod-wsgi-rs setup-server app.wsgi [options]   write the config and apachectl
//!   mod-wsgi-rs module-config                     print the LoadModule line
//!   mod-wsgi-rs module-location                   print the module's path
//!   mod-wsgi-rs install-module                    copy the module into Apache
//!
//! Self-contained on std: the library of this crate is the Apache module
//! itself, whose symbols only resolve inside Apache.

mod args;
mod conf;
mod discover;
mod run;
mod sys;

use std::fs;
use std::path::{Path, PathBuf};

use args::{CliError, Opt, Parsed, Result};
use conf::{Entry, Mpm, Settings};

const PROGRAM: &str = "mod-wsgi-rs";

const fn opt(name: &'static str, metavars: &'static [&'static str], help: &'static str) -> Opt {
    Opt {
        name,
        metavars,
        repeat: false,
        help,
    }
}

const fn many(name: &'static str, metavars: &'static [&'static str], help: &'static str) -> Opt {
    Opt {
        name,
        metavars,
        repeat: true,
        help,
    }
}

const SERVER_OPTS: &[Opt] = &[
    opt("port", &["NUMBER"], "TCP port to listen on (default 8000)."),
    opt(
        "host",
        &["ADDRESS"],
        "Address to listen on (default 127.0.0.1: this machine only; '*' or 0.0.0.0 for every \
         interface).",
    ),
    opt(
        "server-name",
        &["NAME"],
        "Apache's ServerName (default localhost).",
    ),
    opt(
        "server-root",
        &["DIRECTORY"],
        "Where the configuration, logs and pid file go (default \
         /tmp/mod_wsgi_rs-HOST:PORT:UID).",
    ),
    opt(
        "application-type",
        &["TYPE"],
        "'script' (default): the argument is a WSGI script file; 'module': it is \
         package.module[:callable], imported from the working directory or --python-path.",
    ),
    opt(
        "entry-point",
        &["SCRIPT"],
        "The WSGI script (or module); the same as the positional argument.",
    ),
    opt(
        "callable-object",
        &["NAME"],
        "Name of the WSGI callable in the script (default application).",
    ),
    opt(
        "mount-point",
        &["URL"],
        "URL path the application is mounted at (default /).",
    ),
    many(
        "url-alias",
        &["URL", "PATH"],
        "Serve the file or directory PATH at URL, as static files (Alias).",
    ),
    opt(
        "document-root",
        &["DIRECTORY"],
        "Static files: with the application mounted at /, a file that exists here is served \
         instead of the application; other mount points leave the rest of the URL space to it.",
    ),
    opt(
        "working-directory",
        &["DIRECTORY"],
        "Current directory of the daemon processes, and where --application-type module looks \
         first (default: the current directory).",
    ),
    opt(
        "processes",
        &["NUMBER"],
        "Processes running the application (default 1).",
    ),
    opt(
        "threads",
        &["NUMBER"],
        "Threads per process running the application (default 5).",
    ),
    opt(
        "max-clients",
        &["NUMBER"],
        "Clients Apache serves at once (default: 1.5 x processes x threads, at least 10, in \
         daemon mode; processes x threads in embedded mode).",
    ),
    opt(
        "server-mpm",
        &["NAME"],
        "Apache MPM: event (default), worker or prefork.",
    ),
    opt(
        "embedded-mode",
        &[],
        "Run the application inside Apache's own processes instead of daemon processes.",
    ),
    opt(
        "python-home",
        &["DIRECTORY"],
        "Virtualenv (or Python prefix) to run with. Default: the active virtualenv ($VIRTUAL_ENV, \
         or the one whose python3 is first on PATH). It must use the Python the module was built \
         for.",
    ),
    many(
        "python-path",
        &["DIRECTORY"],
        "Add DIRECTORY to sys.path (like site.addsitedir).",
    ),
    opt(
        "reload-on-changes",
        &[],
        "Restart the application when the source file of any module it imported changes (a \
         monitor thread in each application process; Apache restarts gracefully).",
    ),
    opt(
        "user",
        &["NAME"],
        "User Apache's children and the application run as when started as root (default \
         www-data, or nobody).",
    ),
    opt(
        "group",
        &["NAME"],
        "Group for the same (default www-data, or nogroup).",
    ),
    opt(
        "log-to-terminal",
        &[],
        "Write the error log (and the access log, with --access-log) to the terminal.",
    ),
    opt("access-log", &[], "Log every request (access_log)."),
    opt(
        "log-level",
        &["LEVEL"],
        "Apache LogLevel: emerg, alert, crit, error, warn (default), notice, info, debug, \
         trace1-8, optionally followed by module:level pairs.",
    ),
    opt(
        "log-directory",
        &["DIRECTORY"],
        "Where error_log and access_log go (default: the server root).",
    ),
    opt(
        "limit-request-body",
        &["BYTES"],
        "Largest request body accepted (default 10485760; 0 for no limit).",
    ),
    opt(
        "request-timeout",
        &["SECONDS"],
        "Daemon mode: a request running longer gets a 504 and its process is restarted \
         (default 60).",
    ),
    opt(
        "queue-timeout",
        &["SECONDS"],
        "Daemon mode: a request waiting longer for a free thread gets a 504 (default 45).",
    ),
    opt(
        "socket-timeout",
        &["SECONDS"],
        "Apache's Timeout and the daemon socket's (default 60).",
    ),
    opt(
        "connect-timeout",
        &["SECONDS"],
        "Daemon mode: how long to keep trying to reach the daemon process (default 15).",
    ),
    opt(
        "startup-timeout",
        &["SECONDS"],
        "Daemon mode: how long the application may take to load (default 15).",
    ),
    opt(
        "graceful-timeout",
        &["SECONDS"],
        "Daemon mode: how long a restarting process may finish its requests (default 15).",
    ),
    opt(
        "shutdown-timeout",
        &["SECONDS"],
        "Daemon mode: how long a stopping process may take before it is killed (default 5).",
    ),
    opt(
        "deadlock-timeout",
        &["SECONDS"],
        "Daemon mode: how long the Python GIL may stay blocked (default 60).",
    ),
    opt(
        "maximum-requests",
        &["NUMBER"],
        "Daemon mode: restart a process after this many requests (default: never).",
    ),
    many(
        "include-file",
        &["FILE"],
        "Include this Apache configuration file at the end of the generated one.",
    ),
    opt(
        "httpd-executable",
        &["PATH"],
        "Apache binary (default /usr/sbin/apache2, else apache2 or httpd on PATH).",
    ),
    opt(
        "modules-directory",
        &["DIRECTORY"],
        "Apache's modules directory (default: found from the httpd binary or apxs).",
    ),
    opt(
        "module-path",
        &["FILE"],
        "The mod_wsgi_rs module (default: libmod_wsgi_rs.so next to this program, else \
         mod_wsgi_rs.so in Apache's modules directory).",
    ),
    opt(
        "setup-only",
        &[],
        "Write the server root (configuration and apachectl) and exit, as setup-server does.",
    ),
];

const MODULE_CONFIG_OPTS: &[Opt] = &[
    opt(
        "module-path",
        &["FILE"],
        "The mod_wsgi_rs module (default: libmod_wsgi_rs.so next to this program, else \
         mod_wsgi_rs.so in Apache's modules directory).",
    ),
    opt(
        "python-home",
        &["DIRECTORY"],
        "Virtualenv to print a WSGIPythonHome line for (default: the active virtualenv).",
    ),
];

const MODULE_LOCATION_OPTS: &[Opt] = &[opt(
    "module-path",
    &["FILE"],
    "The mod_wsgi_rs module (default: libmod_wsgi_rs.so next to this program, else \
     mod_wsgi_rs.so in Apache's modules directory).",
)];

const INSTALL_MODULE_OPTS: &[Opt] = &[
    opt(
        "module-path",
        &["FILE"],
        "The module to install (default: libmod_wsgi_rs.so next to this program).",
    ),
    opt(
        "modules-directory",
        &["DIRECTORY"],
        "Where to install it (default: `apxs -q LIBEXECDIR`; apxs from $APXS or PATH).",
    ),
    opt(
        "python-home",
        &["DIRECTORY"],
        "Virtualenv to print a WSGIPythonHome line for (default: the active virtualenv).",
    ),
];

fn main_help() -> String {
    format!(
        "{PROGRAM} {}: serve a Python WSGI application through Apache httpd and mod_wsgi_rs.

Usage:
  {PROGRAM} start-server app.wsgi [options]  write an Apache configuration for the application
                                            and run Apache in the foreground (Ctrl-C stops it)
  {PROGRAM} setup-server app.wsgi [options]  only write it, with an apachectl script
  {PROGRAM} module-config                    print the LoadModule line for an httpd.conf
  {PROGRAM} module-location                  print the path of the module
  {PROGRAM} install-module                   copy the module into Apache's modules directory

Run `{PROGRAM} COMMAND --help` for the options of a command.

Example:
  {PROGRAM} start-server examples/hello.wsgi --port 8000 --url-alias /static ./static
",
        env!("CARGO_PKG_VERSION")
    )
}

fn command_help(command: &str) -> String {
    match command {
        "start-server" | "setup-server" => {
            let what = if command == "start-server" {
                "Writes a complete Apache configuration for one WSGI application into the server \
                 root and runs Apache in the foreground as the invoking user (as --user/--group \
                 when started as root). Ctrl-C or SIGTERM stops Apache and every process of it; \
                 SIGUSR1 restarts it gracefully."
            } else {
                "Writes a complete Apache configuration for one WSGI application into the server \
                 root, with an apachectl script (start, stop, restart, graceful, graceful-stop, \
                 configtest, foreground, status), without starting anything."
            };
            format!(
                "Usage: {PROGRAM} {command} SCRIPT [options]\n       {PROGRAM} {command} \
                 package.module[:callable] --application-type module [options]\n\n{}\n\n{}\
                 \n\nOptions:\n{}",
                wrap_text(what),
                wrap_text(
                    "By default the application runs in a daemon process group named HOST:PORT \
                     (WSGIRestrictEmbedded On) with safe time limits, in the main interpreter \
                     (WSGIApplicationGroup %{GLOBAL}), preloaded when its process starts. \
                     --embedded-mode runs it in Apache's own processes instead."
                ),
                args::options_help(SERVER_OPTS)
            )
        }
        "module-config" => format!(
            "Usage: {PROGRAM} module-config [options]\n\n{}\n\nOptions:\n{}",
            wrap_text(
                "Prints the configuration lines that load mod_wsgi_rs into an existing Apache: \
                 LoadModule, and WSGIPythonHome when a virtualenv is active."
            ),
            args::options_help(MODULE_CONFIG_OPTS)
        ),
        "module-location" => format!(
            "Usage: {PROGRAM} module-location [options]\n\nPrints the path of the mod_wsgi_rs \
             module.\n\nOptions:\n{}",
            args::options_help(MODULE_LOCATION_OPTS)
        ),
        "install-module" => format!(
            "Usage: {PROGRAM} install-module [options]\n\n{}\n\nOptions:\n{}",
            wrap_text(
                "Copies the module into Apache's modules directory as mod_wsgi_rs.so (a new \
                 file renamed into place, so a running Apache is not disturbed) and prints the \
                 lines to add to httpd.conf."
            ),
            args::options_help(INSTALL_MODULE_OPTS)
        ),
        _ => main_help(),
    }
}

fn wrap_text(text: &str) -> String {
    let mut out = String::new();
    let mut len = 0;
    for w in text.split_whitespace() {
        if len > 0 && len + 1 + w.len() > 78 {
            out.push('\n');
            len = 0;
        } else if len > 0 {
            out.push(' ');
            len += 1;
        }
        out.push_str(w);
        len += w.len();
    }
    out
}

fn number(
    p: &Parsed,
    command: &'static str,
    name: &str,
    default: u64,
    min: u64,
    max: u64,
) -> Result<u64> {
    let Some(v) = p.value(name) else {
        return Ok(default);
    };
    match v.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(CliError::usage(
            command,
            format!("--{name} expects a whole number from {min} to {max}, not '{v}'"),
        )),
    }
}

fn optional_number(
    p: &Parsed,
    command: &'static str,
    name: &str,
    min: u64,
    max: u64,
) -> Result<Option<u64>> {
    match p.value(name) {
        None => Ok(None),
        Some(_) => number(p, command, name, 0, min, max).map(Some),
    }
}

fn existing_dir(option: &str, value: &str) -> Result<PathBuf> {
    let p = discover::absolute(Path::new(value));
    if !p.is_dir() {
        return Err(CliError::fail(format!(
            "--{option} {} is not a directory",
            p.display()
        )));
    }
    conf::check_conf_text(&format!("--{option}"), &p.display().to_string())?;
    Ok(p)
}

fn valid_log_level(value: &str) -> bool {
    const LEVELS: &[&str] = &[
        "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1", "trace2",
        "trace3", "trace4", "trace5", "trace6", "trace7", "trace8",
    ];
    let mut words = value.split_whitespace().peekable();
    if words.peek().is_none() {
        return false;
    }
    words.all(|w| {
        let level = w.rsplit_once(':').map_or(w, |(m, l)| {
            if m.is_empty() || !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                ""
            } else {
                l
            }
        });
        LEVELS.contains(&level)
    })
}

fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
        && c.all(|ch| ch.is_alphanumeric() || ch == '_')
}

fn default_user() -> (String, String) {
    let user = if discover::lookup_user("www-data").is_some() {
        "www-data"
    } else {
        "nobody"
    };
    let group = ["www-data", "nogroup", "nobody"]
        .into_iter()
        .find(|g| discover::lookup_group(g).is_some())
        .unwrap_or("nogroup");
    (user.to_string(), group.to_string())
}

fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                a.clone()
            } else {
                conf::sh_quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `user` (uid, gid) can probably read `path`: world-readable, or
/// owned by them, with every parent directory searchable.
fn readable_by(path: &Path, uid: u32, gid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let allowed = |m: &fs::Metadata, other: u32, owner: u32, group: u32| {
        let mode = m.mode();
        (m.uid() == uid && mode & owner != 0)
            || (m.gid() == gid && mode & group != 0)
            || mode & other != 0
    };
    let Ok(m) = fs::metadata(path) else {
        return true;
    };
    if !allowed(&m, 0o004, 0o400, 0o040) {
        return false;
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if let Ok(m) = fs::metadata(d) {
            if !allowed(&m, 0o001, 0o100, 0o010) {
                return false;
            }
        }
        dir = d.parent();
    }
    true
}

fn warn(msg: &str) {
    eprintln!("{PROGRAM}: warning: {msg}");
}

/// Validates the options of start-server / setup-server.
fn settings(command: &'static str, p: &Parsed, raw: &[String]) -> Result<Settings> {
    let supervised = command == "start-server" && !p.flag("setup-only");
    let mut positional = p.positional.clone();
    if let Some(e) = p.value("entry-point") {
        positional.insert(0, e.to_string());
    }
    if positional.len() > 1 {
        return Err(CliError::usage(
            command,
            format!(
                "unexpected argument '{}' (one application only)",
                positional[1]
            ),
        ));
    }
    let Some(target) = positional.pop() else {
        return Err(CliError::usage(
            command,
            format!(
                "no application given: {PROGRAM} {command} app.wsgi (or package.module:callable \
                 --application-type module)"
            ),
        ));
    };
    let callable_object = p
        .value("callable-object")
        .unwrap_or("application")
        .to_string();
    if !is_identifier(&callable_object) {
        return Err(CliError::usage(
            command,
            format!("--callable-object must be a Python name, not '{callable_object}'"),
        ));
    }
    let working_directory = match p.value("working-directory") {
        Some(w) => existing_dir("working-directory", w)?,
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| CliError::fail(format!("cannot read the current directory: {e}")))?;
            conf::check_conf_text("the current directory", &cwd.display().to_string())?;
            cwd
        }
    };
    let entry = match p.value("application-type").unwrap_or("script") {
        "script" => {
            let path = discover::absolute(Path::new(&target));
            if !path.exists() {
                return Err(CliError::fail(format!(
                    "WSGI script {} does not exist",
                    path.display()
                )));
            }
            if !path.is_file() {
                return Err(CliError::fail(format!(
                    "WSGI script {} is not a file",
                    path.display()
                )));
            }
            conf::check_conf_text("the WSGI script path", &path.display().to_string())?;
            Entry::Script(path)
        }
        "module" => {
            let (module, callable) = match target.split_once(':') {
                Some((m, c)) => (m.to_string(), c.to_string()),
                None => (target.clone(), callable_object.clone()),
            };
            if module.is_empty() || !module.split('.').all(is_identifier) {
                return Err(CliError::usage(
                    command,
                    format!(
                        "'{target}' is not a module name: --application-type module takes \
                         package.module[:callable]"
                    ),
                ));
            }
            if callable.is_empty() || !callable.split('.').all(is_identifier) {
                return Err(CliError::usage(
                    command,
                    format!("'{callable}' is not a Python name (in '{target}')"),
                ));
            }
            Entry::Module { module, callable }
        }
        other => {
            return Err(CliError::usage(
                command,
                format!("--application-type must be 'script' or 'module', not '{other}'"),
            ))
        }
    };

    let port = number(p, command, "port", 8000, 1, 65535)? as u16;
    let host = p.value("host").unwrap_or("127.0.0.1").to_string();
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-:[]*_".contains(c))
    {
        return Err(CliError::usage(
            command,
            format!("--host must be an address or a host name, not '{host}'"),
        ));
    }
    let server_name = p.value("server-name").unwrap_or("localhost").to_string();
    if server_name.is_empty()
        || !server_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
    {
        return Err(CliError::usage(
            command,
            format!("--server-name must be a host name, not '{server_name}'"),
        ));
    }
    let uid = sys::euid();
    let server_root = match p.value("server-root") {
        Some(r) => discover::absolute(Path::new(r)),
        None => PathBuf::from(format!(
            "/tmp/mod_wsgi_rs-{}:{port}:{uid}",
            conf::host_label(&host)
        )),
    };
    conf::check_conf_text("--server-root", &server_root.display().to_string())?;
    let processes = number(p, command, "processes", 1, 1, 10_000)? as u32;
    let threads = number(p, command, "threads", 5, 1, 10_000)? as u32;
    let max_clients = optional_number(p, command, "max-clients", 1, 100_000)?.map(|n| n as u32);
    let mpm = match p.value("server-mpm").unwrap_or("event") {
        "event" => Mpm::Event,
        "worker" => Mpm::Worker,
        "prefork" => Mpm::Prefork,
        other => {
            return Err(CliError::usage(
                command,
                format!("--server-mpm must be event, worker or prefork, not '{other}'"),
            ))
        }
    };
    let mut mount_point = p.value("mount-point").unwrap_or("/").to_string();
    if !mount_point.starts_with('/') || mount_point.chars().any(char::is_whitespace) {
        return Err(CliError::usage(
            command,
            format!("--mount-point must be a URL path starting with '/', not '{mount_point}'"),
        ));
    }
    while mount_point.len() > 1 && mount_point.ends_with('/') {
        mount_point.pop();
    }
    conf::check_conf_text("--mount-point", &mount_point)?;

    let mut url_aliases = Vec::new();
    for pair in p.values("url-alias") {
        let mut url = pair[0].clone();
        if !url.starts_with('/') || url.chars().any(char::is_whitespace) {
            return Err(CliError::usage(
                command,
                format!("--url-alias URL must start with '/', not '{url}'"),
            ));
        }
        while url.len() > 1 && url.ends_with('/') {
            url.pop();
        }
        let path = discover::absolute(Path::new(&pair[1]));
        conf::check_conf_text("--url-alias", &url)?;
        conf::check_conf_text("--url-alias", &path.display().to_string())?;
        if !path.exists() {
            warn(&format!(
                "--url-alias {url}: {} does not exist (yet)",
                path.display()
            ));
        }
        url_aliases.push((url, path));
    }
    let document_root = p
        .value("document-root")
        .map(|d| existing_dir("document-root", d))
        .transpose()?;

    let module_so = discover::module_path(p.value("module-path"))?;
    conf::check_conf_text("--module-path", &module_so.display().to_string())?;
    let python_version = discover::module_python_version(&module_so);
    let python_home = discover::python_home(p.value("python-home"))?;
    if let Some((home, source)) = &python_home {
        conf::check_conf_text("--python-home", &home.display().to_string())?;
        discover::check_python_match(&module_so, home, *source)?;
    }
    let mut python_paths = Vec::new();
    for v in p.values("python-path") {
        let path = discover::absolute(Path::new(&v[0]));
        let text = path.display().to_string();
        conf::check_conf_text("--python-path", &text)?;
        if text.contains(':') {
            return Err(CliError::usage(
                command,
                format!("--python-path {text}: a directory name cannot contain ':'"),
            ));
        }
        python_paths.push(path);
    }

    let run_as = if uid == 0 {
        let (du, dg) = default_user();
        let user = p.value("user").map_or(du, str::to_string);
        let group = p.value("group").map_or(dg, str::to_string);
        if user == "root" || user == "#0" {
            return Err(CliError::usage(
                command,
                "Apache will not serve requests as root: choose an unprivileged --user",
            ));
        }
        if discover::lookup_user(&user).is_none() {
            return Err(CliError::fail(format!("--user {user}: no such user")));
        }
        if discover::lookup_group(&group).is_none() {
            return Err(CliError::fail(format!("--group {group}: no such group")));
        }
        Some((user, group))
    } else {
        if p.value("user").is_some() || p.value("group").is_some() {
            warn("--user and --group only apply when started as root; ignoring them");
        }
        None
    };

    let log_level = p.value("log-level").unwrap_or("warn").to_string();
    if !valid_log_level(&log_level) {
        return Err(CliError::usage(
            command,
            format!(
                "--log-level must be emerg, alert, crit, error, warn, notice, info, debug or \
                 trace1-8 (optionally with module:level pairs), not '{log_level}'"
            ),
        ));
    }
    let log_directory = match p.value("log-directory") {
        Some(d) => discover::absolute(Path::new(d)),
        None => server_root.clone(),
    };
    conf::check_conf_text("--log-directory", &log_directory.display().to_string())?;
    let limit_request_body = number(
        p,
        command,
        "limit-request-body",
        10_485_760,
        0,
        2_147_483_647,
    )?;
    let mut timeouts = Vec::new();
    for (name, default, _) in conf::TIMEOUTS {
        timeouts.push((*name, number(p, command, name, *default, 0, 86_400)?));
    }
    let maximum_requests = optional_number(p, command, "maximum-requests", 1, u32::MAX as u64)?;
    let mut include_files = Vec::new();
    for v in p.values("include-file") {
        let path = discover::absolute(Path::new(&v[0]));
        if !path.is_file() {
            return Err(CliError::fail(format!(
                "--include-file {} does not exist",
                path.display()
            )));
        }
        conf::check_conf_text("--include-file", &path.display().to_string())?;
        include_files.push(path);
    }

    let httpd = discover::httpd_executable(p.value("httpd-executable"))?;
    let modules_dir = discover::modules_directory(p.value("modules-directory"), &httpd)?;
    let static_modules = discover::static_modules(&httpd);

    let mut s = Settings {
        command_line: format!("{PROGRAM} {command} {}", shell_words(raw)),
        entry,
        host,
        port,
        server_name,
        server_root,
        processes,
        threads,
        max_clients,
        mpm,
        embedded: p.flag("embedded-mode"),
        callable_object,
        mount_point,
        url_aliases,
        document_root,
        working_directory,
        python_home,
        python_paths,
        reload: p.flag("reload-on-changes"),
        run_as,
        log_to_terminal: p.flag("log-to-terminal"),
        access_log: p.flag("access-log"),
        log_level,
        log_directory,
        limit_request_body,
        timeouts,
        maximum_requests,
        include_files,
        httpd,
        modules_dir,
        static_modules,
        module_so,
        python_version,
        supervised,
        daemon_home: true,
    };
    if !s.embedded && s.socket_prefix().as_os_str().len() > 80 {
        warn(&format!(
            "the server root {} is long: daemon sockets ({}.*) may not fit the 107-byte limit \
             of socket paths; choose a shorter --server-root",
            s.server_root.display(),
            s.socket_prefix().display()
        ));
    }

    if let Some((user, _)) = &s.run_as {
        if let Some((uid, gid)) = discover::lookup_user(user) {
            let wd_ok = readable_by(&s.working_directory, uid, gid);
            if !wd_ok && !s.embedded {
                // The daemon could not chdir there: leave home= out.
                s.daemon_home = false;
                if matches!(s.entry, Entry::Script(_)) {
                    warn(&format!(
                        "{user} cannot enter the working directory {}: the daemon processes \
                         start in / instead (see --working-directory)",
                        s.working_directory.display()
                    ));
                }
            }
            let mut files = vec![s.script_path()];
            if let Entry::Module { .. } = s.entry {
                files = vec![s.working_directory.clone()];
            }
            files.push(s.module_so.clone());
            for f in files {
                if !readable_by(&f, uid, gid) {
                    warn(&format!(
                        "Apache's children run as {user}, who may not be able to read {} (it or \
                         a directory above it is not readable by others): chmod it, or pick \
                         another --user",
                        f.display()
                    ));
                }
            }
        }
    }
    Ok(s)
}

fn summary(s: &Settings) -> String {
    let mut lines = vec![
        ("Server URL", s.url()),
        ("Server Root", s.server_root.display().to_string()),
        ("Server Conf", s.conf_path().display().to_string()),
        (
            "Error Log File",
            format!("{} ({})", s.error_log().display(), s.log_level),
        ),
    ];
    if s.access_log {
        lines.push(("Access Log File", s.access_log_path().display().to_string()));
    }
    let app = match &s.entry {
        Entry::Script(p) => p.display().to_string(),
        Entry::Module { module, callable } => format!("{module}:{callable} (module)"),
    };
    lines.push(("Application", app));
    lines.push((
        "Operating Mode",
        if s.embedded {
            format!(
                "embedded ({} process(es) x {} thread(s))",
                s.processes, s.threads
            )
        } else {
            format!(
                "daemon group {} ({} process(es) x {} thread(s))",
                s.group_name(),
                s.processes,
                s.threads
            )
        },
    ));
    let (max, _, _) = s.capacity();
    lines.push(("Max Clients", max.to_string()));
    if !s.embedded {
        let t: Vec<String> = s
            .timeouts
            .iter()
            .map(|(n, v)| format!("{}={v}", n.trim_end_matches("-timeout")))
            .collect();
        lines.push(("Timeouts (s)", t.join(" ")));
    }
    if s.reload {
        lines.push(("Reloading", "on changes to imported modules".to_string()));
    }
    if let Some((home, _)) = &s.python_home {
        lines.push(("Python Home", home.display().to_string()));
    }
    lines.push((
        "Module",
        match &s.python_version {
            Some(v) => format!("{} (Python {v})", s.module_so.display()),
            None => s.module_so.display().to_string(),
        },
    ));
    lines.push(("Apache", s.httpd.display().to_string()));
    if let Some((u, g)) = &s.run_as {
        lines.push(("Runs As", format!("{u}:{g}")));
    }
    lines
        .into_iter()
        .map(|(k, v)| format!("{k:<16}: {v}\n"))
        .collect()
}

fn cmd_server(command: &'static str, rest: &[String]) -> Result<i32> {
    let p = args::parse(command, SERVER_OPTS, rest)?;
    if p.help {
        print!("{}", command_help(command));
        return Ok(0);
    }
    let s = settings(command, &p, rest)?;
    if !s.supervised {
        conf::write_server_root(&s)?;
        print!("{}", summary(&s));
        println!(
            "\nConfiguration written. Control Apache with:\n  {} start|stop|restart|graceful|configtest|foreground",
            s.apachectl().display()
        );
        return Ok(0);
    }
    run::check_not_running(&s)?;
    run::check_port(&s.host, s.port)?;
    conf::write_server_root(&s)?;
    print!("{}", summary(&s));
    println!("\nStarting Apache in the foreground; Ctrl-C stops it.");
    run::supervise(&s)
}

fn module_lines(so: &Path, home: Option<&(PathBuf, discover::HomeSource)>) -> Result<String> {
    let mut out = format!("LoadModule wsgi_module \"{}\"\n", so.display());
    if let Some((h, source)) = home {
        discover::check_python_match(so, h, *source)?;
        out.push_str(&format!("WSGIPythonHome \"{}\"\n", h.display()));
    }
    Ok(out)
}

fn cmd_module_config(rest: &[String]) -> Result<i32> {
    let p = args::parse("module-config", MODULE_CONFIG_OPTS, rest)?;
    if p.help {
        print!("{}", command_help("module-config"));
        return Ok(0);
    }
    no_positionals("module-config", &p)?;
    let so = discover::module_path(p.value("module-path"))?;
    let home = discover::python_home(p.value("python-home"))?;
    print!("{}", module_lines(&so, home.as_ref())?);
    Ok(0)
}

fn cmd_module_location(rest: &[String]) -> Result<i32> {
    let p = args::parse("module-location", MODULE_LOCATION_OPTS, rest)?;
    if p.help {
        print!("{}", command_help("module-location"));
        return Ok(0);
    }
    no_positionals("module-location", &p)?;
    println!(
        "{}",
        discover::module_path(p.value("module-path"))?.display()
    );
    Ok(0)
}

fn cmd_install_module(rest: &[String]) -> Result<i32> {
    let p = args::parse("install-module", INSTALL_MODULE_OPTS, rest)?;
    if p.help {
        print!("{}", command_help("install-module"));
        return Ok(0);
    }
    no_positionals("install-module", &p)?;
    let so = discover::module_path(p.value("module-path"))?;
    let home = discover::python_home(p.value("python-home"))?;
    let dir = match p.value("modules-directory") {
        Some(d) => discover::absolute(Path::new(d)),
        None => PathBuf::from(discover::apxs_query("LIBEXECDIR").ok_or_else(|| {
            CliError::fail(
                "cannot find Apache's modules directory: apxs is missing (Debian/Ubuntu: \
                 apt-get install apache2-dev; or set APXS) — or pass --modules-directory",
            )
        })?),
    };
    if !dir.is_dir() {
        return Err(CliError::fail(format!(
            "Apache's modules directory {} does not exist",
            dir.display()
        )));
    }
    let dest = dir.join(discover::INSTALLED_SO);
    if fs::canonicalize(&so).ok() != fs::canonicalize(&dest).ok() {
        // Copy then rename: a running Apache keeps its mapping of the old file.
        let tmp = dir.join(format!(
            ".{}.{}",
            discover::INSTALLED_SO,
            std::process::id()
        ));
        let copied = fs::copy(&so, &tmp).and_then(|_| {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(&tmp, fs::Permissions::from_mode(0o644))?;
            fs::rename(&tmp, &dest)
        });
        if let Err(e) = copied {
            let _ = fs::remove_file(&tmp);
            return Err(CliError::fail(format!(
                "cannot install {} as {}: {e}{}",
                so.display(),
                dest.display(),
                if e.kind() == std::io::ErrorKind::PermissionDenied {
                    " (run it as root, e.g. with sudo)"
                } else {
                    ""
                }
            )));
        }
    }
    print!("{}", module_lines(&dest, home.as_ref())?);
    Ok(0)
}

fn no_positionals(command: &'static str, p: &Parsed) -> Result<()> {
    match p.positional.first() {
        Some(a) => Err(CliError::usage(
            command,
            format!("unexpected argument '{a}'"),
        )),
        None => Ok(()),
    }
}

fn run(argv: &[String]) -> Result<i32> {
    let Some(command) = argv.first() else {
        eprint!("{}", main_help());
        return Ok(2);
    };
    let rest = &argv[1..];
    match command.as_str() {
        "start-server" => cmd_server("start-server", rest),
        "setup-server" => cmd_server("setup-server", rest),
        "module-config" => cmd_module_config(rest),
        "module-location" => cmd_module_location(rest),
        "install-module" => cmd_install_module(rest),
        "-h" | "--help" | "help" => {
            match rest.first() {
                Some(c) => print!("{}", command_help(c)),
                None => print!("{}", main_help()),
            }
            Ok(0)
        }
        "-V" | "--version" | "version" => {
            println!("{PROGRAM} {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        other => Err(CliError {
            message: format!(
                "unknown command '{other}': use start-server, setup-server, module-config, \
                 module-location or install-module"
            ),
            code: 2,
            help_hint: None,
        }),
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = match run(&argv) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{PROGRAM}: error: {}", e.message);
            if let Some(c) = e.help_hint {
                eprintln!("(see {PROGRAM} {c} --help)");
            }
            e.code
        }
    };
    std::process::exit(code);
}
