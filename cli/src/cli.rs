//! The command line, declared with clap's derive API: the subcommands and
//! their options. An option is one field; its doc comment is its help text,
//! its `#[arg]` gives its value's name, default and check (see `values`).
//! Options mirror mod_wsgi-express's `start-server` options.

use clap::{ArgAction, Args, Parser, Subcommand};

use crate::settings::{AppType, Mpm};
use crate::values;

/// Help pages of subcommands start with their usage, then the description
/// (`before_help`; `about` is the line of the main help's list).
const SUBCOMMAND_HELP: &str = "\
{usage-heading} {usage}\n\n{before-help}{all-args}{after-help}";

const MAIN_HELP: &str = "\
{name} {version}: {about}\n\n{usage-heading} {usage}\n\n{all-args}{after-help}";

const MAIN_AFTER_HELP: &str = "\
Run `mod-wsgi-rs COMMAND --help` for the options of a command.

Example:
  mod-wsgi-rs start-server examples/hello.wsgi --port 8000 --url-alias /static ./static";

const START_SERVER_ABOUT: &str = "\
Writes a complete Apache configuration for one WSGI application into the server root and runs \
Apache in the foreground as the invoking user (as --user/--group when started as root). Ctrl-C \
or SIGTERM stops Apache and every process of it; SIGUSR1 restarts it gracefully.

By default the application runs in a daemon process group named HOST:PORT \
(WSGIRestrictEmbedded On) with safe time limits, in the main interpreter (WSGIApplicationGroup \
%{GLOBAL}), preloaded when its process starts. --embedded-mode runs it in Apache's own \
processes instead.";

const SETUP_SERVER_ABOUT: &str = "\
Writes a complete Apache configuration for one WSGI application into the server root, with an \
apachectl script (start, stop, restart, graceful, graceful-stop, configtest, foreground, \
status), without starting anything.

By default the application runs in a daemon process group named HOST:PORT \
(WSGIRestrictEmbedded On) with safe time limits, in the main interpreter (WSGIApplicationGroup \
%{GLOBAL}), preloaded when its process starts. --embedded-mode runs it in Apache's own \
processes instead.";

#[derive(Parser, Debug)]
#[command(
    name = "mod-wsgi-rs",
    bin_name = "mod-wsgi-rs",
    version,
    about = "serve a Python WSGI application through Apache httpd and mod_wsgi_rs.",
    arg_required_else_help = true,
    help_template = MAIN_HELP,
    after_help = MAIN_AFTER_HELP,
    max_term_width = 100
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Write an Apache configuration for the application and run Apache in
    /// the foreground (Ctrl-C stops it).
    #[command(
        before_help = START_SERVER_ABOUT,
        override_usage = "mod-wsgi-rs start-server SCRIPT [options]\n       \
                          mod-wsgi-rs start-server package.module[:callable] \
                          --application-type module [options]",
        help_template = SUBCOMMAND_HELP,
        args_override_self = true
    )]
    StartServer(ServerArgs),

    /// Only write it, with an apachectl script.
    #[command(
        before_help = SETUP_SERVER_ABOUT,
        override_usage = "mod-wsgi-rs setup-server SCRIPT [options]\n       \
                          mod-wsgi-rs setup-server package.module[:callable] \
                          --application-type module [options]",
        help_template = SUBCOMMAND_HELP,
        args_override_self = true
    )]
    SetupServer(ServerArgs),

    /// Print the LoadModule line for an httpd.conf.
    #[command(
        before_help = "Prints the configuration lines that load mod_wsgi_rs into an existing \
                      Apache: LoadModule, and WSGIPythonHome when a virtualenv is active.",
        override_usage = "mod-wsgi-rs module-config [options]",
        help_template = SUBCOMMAND_HELP,
        args_override_self = true
    )]
    ModuleConfig(ModuleConfigArgs),

    /// Print the path of the module.
    #[command(
        before_help = "Prints the path of the mod_wsgi_rs module.",
        override_usage = "mod-wsgi-rs module-location [options]",
        help_template = SUBCOMMAND_HELP,
        args_override_self = true
    )]
    ModuleLocation(ModuleLocationArgs),

    /// Copy the module into Apache's modules directory (and wsgi_rs.load,
    /// wsgi_rs.conf into mods-available).
    #[command(
        before_help = "Copies the module into Apache's modules directory as mod_wsgi_rs.so (a \
                      new file renamed into place, so a running Apache is not disturbed) and \
                      prints the lines to add to httpd.conf. With Debian's layout (or \
                      --mods-available) it also writes wsgi_rs.load and wsgi_rs.conf there, \
                      so that `a2enmod wsgi_rs` enables it.",
        override_usage = "mod-wsgi-rs install-module [options]",
        help_template = SUBCOMMAND_HELP,
        args_override_self = true
    )]
    InstallModule(InstallModuleArgs),

    /// Print the version.
    #[command(hide = true)]
    Version,
}

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

    /// Where the configuration, logs and pid file go (default /tmp/mod_wsgi_rs-HOST:PORT:UID).
    #[arg(long, value_name = "DIRECTORY")]
    pub server_root: Option<String>,

    /// 'script': the argument is a WSGI script file; 'module': it is
    /// package.module[:callable], imported from the working directory or --python-path.
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

    /// Write the server root (configuration and apachectl) and exit, as setup-server does.
    #[arg(long)]
    pub setup_only: bool,
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

#[derive(Args, Debug)]
pub struct ModuleConfigArgs {
    /// The mod_wsgi_rs module (default: libmod_wsgi_rs.so next to this program, else
    /// mod_wsgi_rs.so in Apache's modules directory).
    #[arg(long, value_name = "FILE")]
    pub module_path: Option<String>,

    /// Virtualenv to print a WSGIPythonHome line for (default: the active virtualenv).
    #[arg(long, value_name = "DIRECTORY")]
    pub python_home: Option<String>,
}

#[derive(Args, Debug)]
pub struct ModuleLocationArgs {
    /// The mod_wsgi_rs module (default: libmod_wsgi_rs.so next to this program, else
    /// mod_wsgi_rs.so in Apache's modules directory).
    #[arg(long, value_name = "FILE")]
    pub module_path: Option<String>,
}

#[derive(Args, Debug)]
pub struct InstallModuleArgs {
    /// The module to install (default: libmod_wsgi_rs.so next to this program).
    #[arg(long, value_name = "FILE")]
    pub module_path: Option<String>,

    /// Where to install it (default: `apxs -q LIBEXECDIR`; apxs from $APXS or PATH).
    #[arg(long, value_name = "DIRECTORY")]
    pub modules_directory: Option<String>,

    /// Where to write wsgi_rs.load and wsgi_rs.conf for a2enmod (default:
    /// /etc/apache2/mods-available when it exists). Debian's mod_wsgi being enabled is looked
    /// for in the mods-enabled directory next to it.
    #[arg(long, value_name = "DIRECTORY", env = "MOD_WSGI_RS_MODS_AVAILABLE")]
    pub mods_available: Option<String>,

    /// Virtualenv to print a WSGIPythonHome line for (default: the active virtualenv).
    #[arg(long, value_name = "DIRECTORY")]
    pub python_home: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_values_pairs_flags_and_positionals() {
        let cli = Cli::try_parse_from([
            "mod-wsgi-rs",
            "start-server",
            "app.wsgi",
            "--port=9000",
            "--url-alias",
            "/s",
            "static",
            "--embedded-mode",
            "--port",
            "9001",
            "--url-alias",
            "/t",
            "t",
        ])
        .unwrap();
        let Command::StartServer(a) = cli.command else {
            panic!("not start-server")
        };
        assert_eq!(a.script.as_deref(), Some("app.wsgi"));
        assert_eq!(a.port, 9001, "the last one wins");
        assert!(a.embedded_mode);
        let aliases: Vec<_> = a.url_aliases().collect();
        assert_eq!(aliases, vec![("/s", "static"), ("/t", "t")]);
        assert_eq!(a.timeouts()[0], ("request-timeout", 60));
    }
}
