//! The environment of Apache, the application and each request.

use clap::{ArgAction, Args};

use crate::values;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Environment")]
pub struct EnvArgs {
    /// Add NAME=VALUE to every request's WSGI environ (SetEnv). Repeatable.
    #[arg(long, value_names = ["NAME", "VALUE"], num_args = 2, action = ArgAction::Append)]
    pub setenv: Vec<String>,

    /// Copy the process environment variable NAME into every request's WSGI environ
    /// (PassEnv). Repeatable.
    #[arg(long, value_name = "NAME", action = ArgAction::Append, value_parser = values::env_name)]
    pub passenv: Vec<String>,

    /// A shell script sourced before Apache starts (by start-server and apachectl): the
    /// variables it exports reach Apache and the application's os.environ.
    #[arg(long, value_name = "FILE")]
    pub envvars_script: Option<String>,

    /// LANG of Apache and the daemon processes (default: inherited, else C.UTF-8).
    #[arg(long, value_name = "NAME", value_parser = values::locale_name)]
    pub lang: Option<String>,

    /// LC_ALL of Apache and the daemon processes.
    #[arg(long, value_name = "NAME", value_parser = values::locale_name)]
    pub locale: Option<String>,

    /// A Python warnings filter, as for python -W (WSGIPythonWarnings), e.g. 'error'.
    /// Repeatable.
    #[arg(long, value_name = "SPEC", action = ArgAction::Append, value_parser = values::conf_word)]
    pub python_warnings: Vec<String>,
}

impl EnvArgs {
    /// The `--setenv` pairs.
    pub fn setenv_pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.setenv
            .chunks_exact(2)
            .map(|p| (p[0].as_str(), p[1].as_str()))
    }
}
