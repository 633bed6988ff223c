//! The options of `start-server` and `setup-server`, mirroring
//! mod_wsgi-express's: the core ones here, the rest by concern in the
//! flattened groups (each group is a help section), and the express options
//! this command refuses (with what to use instead) in `refused`.

mod auth;
mod daemon;
mod environment;
mod https;
mod logs;
mod refused;
mod web;

use clap::{ArgAction, Args};

use crate::settings::{AppType, Mpm};
use crate::values;

pub use auth::AuthArgs;
pub use daemon::DaemonArgs;
pub use environment::EnvArgs;
pub use https::HttpsArgs;
pub use logs::LogArgs;
pub use refused::refusal;
pub use web::{pairs, WebArgs};

/// The options of `start-server` and `setup-server`.
#[derive(Args, Debug, Clone)]
pub struct ServerArgs {
    /// The WSGI script (or, with --application-type module, package.module[:callable]).
    #[arg(value_name = "SCRIPT")]
    pub script: Option<String>,

    /// TCP port to listen on.
    #[arg(long, value_name = "NUMBER", default_value_t = 8000,
          value_parser = values::whole::<u16>(1, 65535))]
    pub port: u16,

    /// Address to listen on (127.0.0.1: this machine only; '*' or 0.0.0.0 for every interface).
    #[arg(long, value_name = "ADDRESS", default_value = "127.0.0.1", value_parser = values::host)]
    pub host: String,

    /// Apache's ServerName.
    #[arg(long, value_name = "NAME", default_value = "localhost",
          value_parser = values::server_name)]
    pub server_name: String,

    /// Another host name of the site (ServerAlias; wildcards allowed). Requests for other
    /// names are then refused (name-based virtual hosts). Repeatable.
    #[arg(long, value_name = "HOSTNAME", action = ArgAction::Append,
          value_parser = values::server_alias)]
    pub server_alias: Vec<String>,

    /// With --server-alias: still answer requests made to localhost by any other name.
    #[arg(long)]
    pub allow_localhost: bool,

    /// Where the configuration, logs and pid file go (default /tmp/mod_wsgi_rs-HOST:PORT:UID).
    #[arg(long, value_name = "DIRECTORY")]
    pub server_root: Option<String>,

    /// 'script': the argument is a WSGI script file; 'module': it is
    /// package.module[:callable], imported from the working directory or --python-path;
    /// 'paste': a Paste Deploy .ini file (paste.deploy.loadapp); 'static': only serve the
    /// directory given (default: the current directory) as the document root.
    #[arg(long, value_name = "TYPE", default_value = "script", value_parser = values::app_type)]
    pub application_type: AppType,

    /// The WSGI script (or module); the same as the positional argument.
    #[arg(long, value_name = "SCRIPT")]
    pub entry_point: Option<String>,

    /// Name of the WSGI callable in the script.
    #[arg(long, value_name = "NAME", default_value = "application",
          value_parser = values::python_name)]
    pub callable_object: String,

    /// URL path the application is mounted at.
    #[arg(long, value_name = "URL", default_value = "/", value_parser = values::url_path)]
    pub mount_point: String,

    /// Serve the file or directory PATH at URL, as static files (Alias). Repeatable.
    #[arg(long, value_names = ["URL", "PATH"], num_args = 2, action = ArgAction::Append)]
    pub url_alias: Vec<String>,

    /// Static files: with the application mounted at /, a file that exists here is served
    /// instead of the application; other mount points leave the rest of the URL space to it.
    #[arg(long, value_name = "DIRECTORY")]
    pub document_root: Option<String>,

    /// Current directory of the daemon processes, and where --application-type module looks
    /// first (default: the current directory).
    #[arg(long, value_name = "DIRECTORY")]
    pub working_directory: Option<String>,

    /// Processes running the application.
    #[arg(long, value_name = "NUMBER", default_value_t = 1,
          value_parser = values::whole::<u32>(1, 10_000))]
    pub processes: u32,

    /// Threads per process running the application.
    #[arg(long, value_name = "NUMBER", default_value_t = 5,
          value_parser = values::whole::<u32>(1, 10_000))]
    pub threads: u32,

    /// Clients Apache serves at once (default: 1.5 x processes x threads, at least 10, in
    /// daemon mode; processes x threads in embedded mode).
    #[arg(long, value_name = "NUMBER", value_parser = values::whole::<u32>(1, 100_000))]
    pub max_clients: Option<u32>,

    /// Children Apache starts with, as a fraction (0 to 1) of --max-clients.
    #[arg(long, value_name = "FRACTION", value_parser = values::fraction)]
    pub initial_workers: Option<f64>,

    /// Idle workers Apache keeps at least, as a fraction (0 to 1) of --max-clients.
    #[arg(long, value_name = "FRACTION", value_parser = values::fraction)]
    pub minimum_spare_workers: Option<f64>,

    /// Idle workers Apache keeps at most, as a fraction (0 to 1) of --max-clients.
    #[arg(long, value_name = "FRACTION", value_parser = values::fraction)]
    pub maximum_spare_workers: Option<f64>,

    /// Apache MPM: event, worker or prefork.
    #[arg(long, value_name = "NAME", default_value = "event", value_parser = values::mpm)]
    pub server_mpm: Mpm,

    /// Run the application inside Apache's own processes instead of daemon processes.
    #[arg(long)]
    pub embedded_mode: bool,

    /// Virtualenv (or Python prefix) to run with. Default: the active virtualenv ($VIRTUAL_ENV,
    /// or the one whose python3 is first on PATH). It must use the Python the module was built
    /// for.
    #[arg(long, value_name = "DIRECTORY")]
    pub python_home: Option<String>,

    /// Add DIRECTORY to sys.path (like site.addsitedir). Repeatable.
    #[arg(long, value_name = "DIRECTORY", action = ArgAction::Append)]
    pub python_path: Vec<String>,

    /// Restart the application when the source file of any module it imported changes (a
    /// monitor thread in each application process; Apache restarts gracefully).
    #[arg(long)]
    pub reload_on_changes: bool,

    /// User Apache's children and the application run as when started as root (default
    /// www-data, or nobody). It must be able to read the application.
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,

    /// Group for the same (default www-data, or nogroup).
    #[arg(long, value_name = "NAME")]
    pub group: Option<String>,

    /// Write the error log (and the access log, with --access-log) to the terminal.
    #[arg(long)]
    pub log_to_terminal: bool,

    /// Log every request (access_log).
    #[arg(long)]
    pub access_log: bool,

    /// Apache LogLevel: emerg, alert, crit, error, warn, notice, info, debug, trace1-8,
    /// optionally followed by module:level pairs.
    #[arg(long, value_name = "LEVEL", default_value = "warn", value_parser = values::log_level)]
    pub log_level: String,

    /// Where error_log and access_log go (default: the server root).
    #[arg(long, value_name = "DIRECTORY")]
    pub log_directory: Option<String>,

    /// Largest request body accepted (0 for no limit).
    #[arg(long, value_name = "BYTES", default_value_t = 10_485_760,
          value_parser = values::whole::<u64>(0, 2_147_483_647))]
    pub limit_request_body: u64,

    /// Daemon mode: a request running longer gets a 504 and its process is restarted.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub request_timeout: u64,

    /// Daemon mode: a request waiting longer for a free thread gets a 504.
    #[arg(long, value_name = "SECONDS", default_value_t = 45,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub queue_timeout: u64,

    /// Apache's Timeout and the daemon socket's.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub socket_timeout: u64,

    /// Daemon mode: how long to keep trying to reach the daemon process.
    #[arg(long, value_name = "SECONDS", default_value_t = 15,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub connect_timeout: u64,

    /// Daemon mode: how long the application may take to load.
    #[arg(long, value_name = "SECONDS", default_value_t = 15,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub startup_timeout: u64,

    /// Daemon mode: how long a restarting process may finish its requests.
    #[arg(long, value_name = "SECONDS", default_value_t = 15,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub graceful_timeout: u64,

    /// Daemon mode: how long a stopping process may take before it is killed.
    #[arg(long, value_name = "SECONDS", default_value_t = 5,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub shutdown_timeout: u64,

    /// Daemon mode: how long the Python GIL may stay blocked.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub deadlock_timeout: u64,

    /// Daemon mode: restart a process after this many requests (default: never).
    #[arg(long, value_name = "NUMBER", value_parser = values::whole::<u64>(1, u32::MAX as u64))]
    pub maximum_requests: Option<u64>,

    /// Include this Apache configuration file at the end of the generated one. Repeatable.
    #[arg(long, value_name = "FILE", action = ArgAction::Append)]
    pub include_file: Vec<String>,

    /// Apache binary (default /usr/sbin/apache2, else apache2 or httpd on PATH).
    #[arg(long, value_name = "PATH")]
    pub httpd_executable: Option<String>,

    /// Apache's modules directory (default: found from the httpd binary or apxs).
    #[arg(long, value_name = "DIRECTORY")]
    pub modules_directory: Option<String>,

    /// The mod_wsgi_rs module (default: libmod_wsgi_rs.so next to this program, else
    /// mod_wsgi_rs.so in Apache's modules directory).
    #[arg(long, value_name = "FILE")]
    pub module_path: Option<String>,

    /// Apache's pid file (default: httpd.pid in the server root).
    #[arg(long, value_name = "FILE")]
    pub pid_file: Option<String>,

    /// The MIME types file (default /etc/mime.types, else a small one in the server root).
    #[arg(long, value_name = "FILE")]
    pub mime_types: Option<String>,

    /// Directory for the daemon processes' sockets (WSGISocketPrefix; default: the server
    /// root).
    #[arg(long, value_name = "DIRECTORY")]
    pub socket_prefix: Option<String>,

    /// The shell of the generated apachectl script.
    #[arg(long, value_name = "PATH", default_value = "/bin/sh")]
    pub shell_executable: String,

    /// Name (argv[0]) of Apache's parent process under start-server.
    #[arg(long, value_name = "NAME")]
    pub process_name: Option<String>,

    /// Write the server root (configuration and apachectl) and exit, as setup-server does.
    #[arg(long)]
    pub setup_only: bool,

    #[command(flatten)]
    pub https: HttpsArgs,

    #[command(flatten)]
    pub daemon: DaemonArgs,

    #[command(flatten)]
    pub web: WebArgs,

    #[command(flatten)]
    pub env: EnvArgs,

    #[command(flatten)]
    pub auth: AuthArgs,

    #[command(flatten)]
    pub logs: LogArgs,

    #[command(flatten)]
    pub refused: refused::RefusedArgs,
}

impl ServerArgs {
    /// The daemon-mode time limits, named as their WSGIDaemonProcess options.
    pub fn timeouts(&self) -> Vec<(&'static str, u64)> {
        vec![
            ("request-timeout", self.request_timeout),
            ("queue-timeout", self.queue_timeout),
            ("socket-timeout", self.socket_timeout),
            ("connect-timeout", self.connect_timeout),
            ("startup-timeout", self.startup_timeout),
            ("graceful-timeout", self.graceful_timeout),
            ("shutdown-timeout", self.shutdown_timeout),
            ("deadlock-timeout", self.deadlock_timeout),
        ]
    }

    /// The `--url-alias` pairs.
    pub fn url_aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.url_alias
            .chunks_exact(2)
            .map(|p| (p[0].as_str(), p[1].as_str()))
    }
}
