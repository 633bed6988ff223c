//! A validated `start-server`/`setup-server` request, built from the
//! command line by `from_args`, and the names derived from it.

mod application;
mod auth;
mod files;
mod from_args;
mod handlers;
mod https;
mod listen;
mod logging;
mod python;
mod run_as;

use std::path::PathBuf;

use crate::discover::HomeSource;
use crate::server_args::{EnvArgs, LogArgs, WebArgs};

pub use auth::Auth;
#[cfg(test)]
pub use auth::UserAuth;
pub use from_args::settings;
pub use handlers::Service;
pub use https::Https;

/// What serves the requests.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A WSGI script file (absolute).
    Script(PathBuf),
    /// `package.module` and the attribute path of the callable in it.
    Module { module: String, callable: String },
    /// A Paste Deploy configuration file (absolute), loaded by the shim.
    Paste(PathBuf),
    /// No application: the directory (absolute) is served as static files.
    Static(PathBuf),
}

/// `--application-type`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AppType {
    Script,
    Module,
    Paste,
    Static,
}

/// Which Apache MPM to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mpm {
    Event,
    Worker,
    Prefork,
}

impl Mpm {
    pub fn name(self) -> &'static str {
        match self {
            Mpm::Event => "event",
            Mpm::Worker => "worker",
            Mpm::Prefork => "prefork",
        }
    }
}

/// A validated `start-server`/`setup-server` request.
#[derive(Clone, Debug)]
pub struct Settings {
    pub command_line: String,
    pub entry: Entry,
    pub host: String,
    pub port: u16,
    pub server_name: String,
    pub server_root: PathBuf,
    pub processes: u32,
    pub threads: u32,
    pub max_clients: Option<u32>,
    pub mpm: Mpm,
    pub embedded: bool,
    pub callable_object: String,
    pub mount_point: String,
    pub url_aliases: Vec<(String, PathBuf)>,
    pub document_root: Option<PathBuf>,
    pub working_directory: PathBuf,
    pub python_home: Option<(PathBuf, HomeSource)>,
    pub python_paths: Vec<PathBuf>,
    pub reload: bool,
    /// `(user, group)` for Apache's children when started as root.
    pub run_as: Option<(String, String)>,
    pub log_to_terminal: bool,
    pub access_log: bool,
    pub log_level: String,
    pub log_directory: PathBuf,
    pub limit_request_body: u64,
    pub timeouts: Vec<(&'static str, u64)>,
    pub maximum_requests: Option<u64>,
    pub include_files: Vec<PathBuf>,
    pub httpd: PathBuf,
    pub modules_dir: PathBuf,
    pub static_modules: Vec<String>,
    pub module_so: PathBuf,
    /// A libpython to LoadFile before the module (a Python the loader does
    /// not find by itself, e.g. pyenv's).
    pub libpython: Option<PathBuf>,
    pub python_version: Option<String>,
    /// True under `start-server` (the mod-wsgi-rs process watches Apache);
    /// false for `setup-server`, whose Apache runs through `apachectl`.
    pub supervised: bool,
    /// Whether the daemon processes start in the working directory
    /// (`home=`); false when their user could not enter it.
    pub daemon_home: bool,
    pub server_aliases: Vec<String>,
    pub allow_localhost: bool,
    /// --initial-workers, --minimum-spare-workers, --maximum-spare-workers.
    pub workers: [Option<f64>; 3],
    pub pid_file: PathBuf,
    pub mime_types: Option<PathBuf>,
    pub socket_dir: Option<PathBuf>,
    pub shell: String,
    pub process_name: Option<String>,
    pub https: Option<Https>,
    pub http2: bool,
    /// WSGIDaemonProcess options beyond the pool and the time limits.
    pub daemon_options: Vec<(&'static str, String)>,
    pub application_group: String,
    pub process_group: Option<String>,
    pub python_eggs: Option<PathBuf>,
    /// `--switch-interval`, in seconds.
    pub switch_interval: Option<String>,
    /// `--ignore-activity` URL paths.
    pub ignore_activity: Vec<String>,
    /// `--add-handler`: `(.ext, script)`.
    pub handler_scripts: Vec<(String, PathBuf)>,
    pub auth: Auth,
    pub rewrite_rules: Option<PathBuf>,
    pub services: Vec<Service>,
    pub envvars_script: Option<PathBuf>,
    pub rotatelogs: Option<PathBuf>,
    pub web: WebArgs,
    pub env: EnvArgs,
    pub logs: LogArgs,
}

impl Settings {
    pub fn conf_path(&self) -> PathBuf {
        self.server_root.join("httpd.conf")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.pid_file.clone()
    }
    pub fn apachectl(&self) -> PathBuf {
        self.server_root.join("apachectl")
    }
    pub fn error_log(&self) -> PathBuf {
        if self.log_to_terminal {
            PathBuf::from("/dev/stderr")
        } else {
            self.log_directory.join(&self.logs.error_log_name)
        }
    }
    pub fn access_log_path(&self) -> PathBuf {
        if self.log_to_terminal {
            PathBuf::from("/dev/stdout")
        } else {
            self.log_directory.join(&self.logs.access_log_name)
        }
    }
    pub fn startup_log(&self) -> Option<PathBuf> {
        self.logs
            .startup_log
            .then(|| self.log_directory.join(&self.logs.startup_log_name))
    }
    pub fn runtime_dir(&self) -> PathBuf {
        self.server_root.join("run")
    }
    pub fn reload_dir(&self) -> PathBuf {
        self.server_root.join("reload")
    }
    /// The file the reload monitor creates to ask for a restart.
    pub fn reload_trigger(&self) -> PathBuf {
        self.reload_dir().join("restart")
    }
    pub fn handler_path(&self) -> PathBuf {
        self.server_root.join("handler.wsgi")
    }
    /// The WSGIHandlerScript of `--add-handler`.
    pub fn resource_path(&self) -> PathBuf {
        self.server_root.join("resource.wsgi")
    }
    pub fn monitor_path(&self) -> PathBuf {
        self.server_root.join("reload-monitor.py")
    }
    /// The file WSGIScriptAlias points at.
    pub fn script_path(&self) -> PathBuf {
        match &self.entry {
            Entry::Script(p) | Entry::Static(p) => p.clone(),
            Entry::Module { .. } | Entry::Paste(_) => self.handler_path(),
        }
    }
    /// `--process-group`, else `host:port`: the daemon process group.
    pub fn group_name(&self) -> String {
        self.process_group
            .clone()
            .unwrap_or_else(|| format!("{}:{}", self.host_label(), self.port))
    }
    pub fn display_name(&self) -> String {
        format!(
            "(wsgi:{}:{}:{})",
            self.host_label(),
            self.port,
            crate::sys::euid()
        )
    }
    pub fn host_label(&self) -> String {
        host_label(&self.host)
    }
    /// The `Listen` argument.
    pub fn listen(&self) -> String {
        self.listen_on(self.port)
    }
    /// The `Listen` argument for `port` on --host.
    pub fn listen_on(&self, port: u16) -> String {
        match self.host.as_str() {
            "*" | "" => port.to_string(),
            h if h.contains(':') => format!("[{}]:{port}", h.trim_matches(['[', ']'])),
            h => format!("{h}:{port}"),
        }
    }
    pub fn url(&self) -> String {
        self.url_on("http", self.port)
    }
    /// The application's URL with `scheme` on `port`.
    pub fn url_on(&self, scheme: &str, port: u16) -> String {
        let host = match self.host.as_str() {
            "*" | "" | "0.0.0.0" | "::" | "[::]" => self.server_name.clone(),
            h if h.contains(':') => format!("[{}]", h.trim_matches(['[', ']'])),
            h => h.to_string(),
        };
        let mount = if self.mount_point == "/" {
            "/".to_string()
        } else {
            format!("{}/", self.mount_point)
        };
        format!("{scheme}://{host}:{port}{mount}")
    }
    pub fn socket_prefix(&self) -> PathBuf {
        self.socket_dir
            .as_ref()
            .unwrap_or(&self.server_root)
            .join("wsgi")
    }
    /// Whether there is a WSGI application (not `--application-type static`).
    pub fn has_application(&self) -> bool {
        !matches!(self.entry, Entry::Static(_))
    }
    /// Whether there is a daemon process group (daemon mode with an
    /// application).
    pub fn has_daemon(&self) -> bool {
        !self.embedded && self.has_application()
    }
    /// The process group of the `--add-handler` scripts: the daemon's, else
    /// Apache's children.
    pub fn handler_process_group(&self) -> String {
        if self.has_daemon() {
            self.group_name()
        } else {
            "%{GLOBAL}".to_string()
        }
    }
    /// Whether Python runs in Apache's children: embedded mode, scripts of
    /// --add-handler without a daemon, and the access and authentication
    /// scripts (which always run there).
    pub fn children_run_python(&self) -> bool {
        !self.has_daemon() || self.auth.any()
    }
}

/// The label of a `--host` value used in names (server root, group).
pub fn host_label(host: &str) -> String {
    match host {
        "*" | "" => "all".to_string(),
        h => h.trim_matches(['[', ']']).to_string(),
    }
}

#[cfg(test)]
impl Settings {
    /// A plausible daemon-mode request, for unit tests.
    pub fn for_tests() -> Settings {
        Settings {
            command_line: "mod-wsgi-rs start-server app.wsgi".into(),
            entry: Entry::Script(PathBuf::from("/srv/app/app.wsgi")),
            host: "127.0.0.1".into(),
            port: 8000,
            server_name: "localhost".into(),
            server_root: PathBuf::from("/tmp/mod_wsgi_rs-127.0.0.1:8000:0"),
            processes: 1,
            threads: 5,
            max_clients: None,
            mpm: Mpm::Event,
            embedded: false,
            callable_object: "application".into(),
            mount_point: "/".into(),
            url_aliases: Vec::new(),
            document_root: None,
            working_directory: PathBuf::from("/srv/app"),
            python_home: None,
            python_paths: Vec::new(),
            reload: false,
            run_as: None,
            log_to_terminal: false,
            access_log: false,
            log_level: "warn".into(),
            log_directory: PathBuf::from("/tmp/mod_wsgi_rs-127.0.0.1:8000:0"),
            limit_request_body: 10_485_760,
            timeouts: vec![("socket-timeout", 60)],
            maximum_requests: None,
            include_files: Vec::new(),
            httpd: PathBuf::from("/usr/sbin/apache2"),
            modules_dir: PathBuf::from("/usr/lib/apache2/modules"),
            static_modules: Vec::new(),
            module_so: PathBuf::from("/usr/lib/apache2/modules/mod_wsgi_rs.so"),
            libpython: None,
            python_version: None,
            supervised: true,
            daemon_home: true,
            server_aliases: Vec::new(),
            allow_localhost: false,
            workers: [None; 3],
            pid_file: PathBuf::from("/tmp/mod_wsgi_rs-127.0.0.1:8000:0/httpd.pid"),
            mime_types: None,
            socket_dir: None,
            shell: "/bin/sh".into(),
            process_name: None,
            https: None,
            http2: false,
            daemon_options: Vec::new(),
            application_group: "%{GLOBAL}".into(),
            process_group: None,
            python_eggs: None,
            switch_interval: None,
            ignore_activity: Vec::new(),
            handler_scripts: Vec::new(),
            auth: Auth::default(),
            rewrite_rules: None,
            services: Vec::new(),
            envvars_script: None,
            rotatelogs: None,
            web: WebArgs {
                keep_alive_timeout: 2,
                map_head_to_get: "Auto".into(),
                ..WebArgs::default()
            },
            env: EnvArgs::default(),
            logs: LogArgs {
                error_log_name: "error_log".into(),
                access_log_name: "access_log".into(),
                ..LogArgs::default()
            },
        }
    }
}
