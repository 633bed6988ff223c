//! The command line, declared with clap's derive API: the subcommands and
//! their options. An option is one field; its doc comment is its help text,
//! its `#[arg]` gives its value's name, default and check (see `values`).
//! Options mirror mod_wsgi-express's `start-server` options.

use clap::{Args, Parser, Subcommand};

pub use crate::server_args::ServerArgs;

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
