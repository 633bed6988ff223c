//! mod_wsgi-express options whose feature neither Apache nor mod_wsgi_rs
//! has. They are parsed (so `--help` lists them and a command line written
//! for mod_wsgi-express gets a precise answer) and refused: the help text of
//! each is the alternative, and `refusal` turns the first one given into
//! the error line.

use clap::parser::ValueSource;
use clap::{ArgAction, ArgMatches, Args, CommandFactory};

use crate::cli::Cli;

/// The help section of these options.
pub const HEADING: &str = "mod_wsgi-express options refused (what to use instead)";

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = HEADING)]
// Parsed only to be refused: `refusal` reads the matches, not the fields.
#[allow(dead_code)]
pub struct RefusedArgs {
    /// The module has no telemetry: use --server-status, and --access-log-format with %D
    /// for request times.
    #[arg(long, value_name = "TARGET")]
    telemetry_service: Option<String>,

    /// The module has no telemetry: use --server-status.
    #[arg(long)]
    enable_telemetry: bool,

    /// The module has no telemetry: use --server-status.
    #[arg(long, value_name = "NUMBER")]
    telemetry_ui_port: Option<String>,

    /// The module has no telemetry: use --server-status.
    #[arg(long, value_name = "SECONDS")]
    telemetry_interval: Option<String>,

    /// The module has no slow-request reports: use --access-log-format with %D (microseconds
    /// per request) and --request-timeout.
    #[arg(long, value_name = "SECONDS")]
    slow_requests: Option<String>,

    /// The module has no telemetry: use --server-status.
    #[arg(long, value_name = "ARGS", action = ArgAction::Append)]
    telemetry_options: Vec<String>,

    /// The module runs the Python it was built for: build it against a free-threaded
    /// Python to run without the GIL.
    #[arg(long)]
    free_threading: bool,

    /// mod_wsgi_rs never destroys the interpreter when a process exits (it ends with the
    /// process), which is what this flag asks for: leave it out.
    #[arg(long)]
    orphan_interpreter: bool,

    /// A service's output goes to the error log: have its script log to a file of its own
    /// (Python's logging.FileHandler).
    #[arg(long, value_names = ["SERVICE", "FILE-NAME"], num_args = 2, action = ArgAction::Append)]
    service_log_file: Vec<String>,

    /// PHP 5 is gone: run PHP with php-fpm behind --proxy-mount-point, or configure it in an
    /// --include-file.
    #[arg(long)]
    with_php5: bool,

    /// No bundled documentation: read README.md of mod_wsgi_rs.
    #[arg(long)]
    enable_docs: bool,

    /// No debug mode: run setup-server --embedded-mode, then `apache2 -X -f
    /// SERVER_ROOT/httpd.conf` (one process, in the foreground).
    #[arg(long)]
    debug_mode: bool,

    /// No pdb integration: start a debugger (pdb, debugpy) from the application, under
    /// `apache2 -X` (see --debug-mode).
    #[arg(long)]
    enable_debugger: bool,

    /// No pdb integration: call breakpoint() in the application under `apache2 -X` (see
    /// --debug-mode).
    #[arg(long)]
    debugger_startup: bool,

    /// No coverage integration: start coverage in the WSGI script (coverage.Coverage().start()).
    #[arg(long)]
    enable_coverage: bool,

    /// No coverage integration: give the directory to coverage in the WSGI script.
    #[arg(long, value_name = "DIRECTORY")]
    coverage_directory: Option<String>,

    /// No profiler integration: wrap the application in a cProfile middleware.
    #[arg(long)]
    enable_profiler: bool,

    /// No profiler integration: write the profiles from a cProfile middleware.
    #[arg(long, value_name = "DIRECTORY")]
    profiler_directory: Option<String>,

    /// No request recorder: record requests with a WSGI middleware, or log what you need
    /// with --access-log-format.
    #[arg(long)]
    enable_recorder: bool,

    /// No request recorder: write records from a WSGI middleware.
    #[arg(long, value_name = "DIRECTORY")]
    recorder_directory: Option<String>,

    /// No gdb integration: run setup-server, then `gdb --args apache2 -X -f
    /// SERVER_ROOT/httpd.conf`.
    #[arg(long)]
    enable_gdb: bool,

    /// No gdb integration: run setup-server, then `gdb --args apache2 -X -f
    /// SERVER_ROOT/httpd.conf`.
    #[arg(long, value_name = "PATH")]
    gdb_executable: Option<String>,
}

/// The error line for the first refused option on the command line of
/// `matches` (the whole command line), if any.
pub fn refusal(matches: &ArgMatches) -> Option<String> {
    let (name, sub) = matches.subcommand()?;
    let cmd = Cli::command();
    let sub_cmd = cmd.find_subcommand(name)?;
    let mut given: Vec<(usize, String)> = sub_cmd
        .get_arguments()
        .filter(|a| a.get_help_heading() == Some(HEADING))
        .filter(|a| sub.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|a| {
            let at = sub.index_of(a.get_id().as_str())?;
            let help = a.get_help()?.to_string();
            Some((at, format!("--{} is not supported: {help}", a.get_long()?)))
        })
        .collect();
    given.sort();
    given.into_iter().next().map(|(_, m)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal_of(args: &[&str]) -> Option<String> {
        let m = Cli::command().try_get_matches_from(args).unwrap();
        refusal(&m)
    }

    #[test]
    fn the_first_refused_option_is_named_with_its_alternative() {
        let why = refusal_of(&[
            "mod-wsgi-rs",
            "start-server",
            "app.wsgi",
            "--port",
            "9000",
            "--enable-gdb",
            "--enable-debugger",
        ])
        .unwrap();
        assert!(
            why.starts_with("--enable-gdb is not supported: No gdb integration"),
            "{why}"
        );
        let why = refusal_of(&["mod-wsgi-rs", "setup-server", "--orphan-interpreter"]).unwrap();
        assert!(why.contains("never destroys the interpreter"), "{why}");
        assert_eq!(
            refusal_of(&["mod-wsgi-rs", "setup-server", "--add-handler", ".md", "x"]),
            None
        );
        assert_eq!(
            refusal_of(&["mod-wsgi-rs", "start-server", "a.wsgi", "--http2"]),
            None
        );
    }
}
