//! `mod-wsgi-rs`: serve a Python WSGI application through Apache httpd and
//! mod_wsgi_rs with one command, like mod_wsgi-express.
//!
//!   mod-wsgi-rs start-server app.wsgi [options]   write the config, run Apache
//!   mod-wsgi-rs setup-server app.wsgi [options]   write the config and apachectl
//!   mod-wsgi-rs module-config                     print the LoadModule line
//!   mod-wsgi-rs module-location                   print the module's path
//!   mod-wsgi-rs install-module                    copy the module into Apache
//!
//! Its own crate of the workspace: the library next to it is the Apache
//! module itself, whose symbols only resolve inside Apache.

mod access;
mod apachectl;
mod cli;
mod commands;
mod discover;
mod error;
mod httpd_conf;
mod python_files;
mod python_lib;
mod quote;
mod server_args;
mod server_root;
mod settings;
mod summary;
mod supervisor;
mod sys;
mod usage;
mod values;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};
use commands::{install, module, server};
use error::Result;

const PROGRAM: &str = "mod-wsgi-rs";

fn run(cli: &Cli, argv: &[String]) -> Result<i32> {
    let raw = argv.get(2..).unwrap_or_default();
    match &cli.command {
        Command::StartServer(a) => server::run("start-server", a, raw),
        Command::SetupServer(a) => server::run("setup-server", a, raw),
        Command::ModuleConfig(a) => module::config(a),
        Command::ModuleLocation(a) => module::location(a),
        Command::InstallModule(a) => install::run(a),
        Command::Version => {
            println!("{PROGRAM} {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
    }
}

fn subcommand_name(m: &clap::ArgMatches) -> &str {
    m.subcommand_name().unwrap_or("start-server")
}

fn main() {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let parsed = Cli::command()
        .try_get_matches_from(&argv)
        .and_then(|m| Ok((Cli::from_arg_matches(&m)?, m)));
    let result = match parsed {
        Ok((cli, matches)) => match server_args::refusal(&matches) {
            Some(why) => Err(error::CliError::usage(subcommand_name(&matches), why)),
            None => run(&cli, &argv),
        },
        Err(e) => match e.kind() {
            // --help, --version, and the help shown for no command at all.
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                let _ = e.print();
                Ok(e.exit_code())
            }
            _ => Err(usage::from_clap(&e, &argv)),
        },
    };
    let code = result.unwrap_or_else(|e| {
        e.report();
        e.code
    });
    std::process::exit(code);
}

#[cfg(test)]
mod tests {
    /// The command and the module it configures carry one version.
    #[test]
    fn version_matches_the_module() {
        let module_manifest = include_str!("../../Cargo.toml");
        let line = format!("version = \"{}\"", env!("CARGO_PKG_VERSION"));
        assert!(module_manifest.lines().any(|l| l == line), "{line}");
    }
}
