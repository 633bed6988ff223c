//! Logging: formats, names, rotation, the startup log.

use clap::Args;

use crate::values;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Logs")]
pub struct LogArgs {
    /// LogFormat of the access log (implies --access-log), e.g. '%h %l %u %t "%r" %>s %b';
    /// or a format nickname: common, combined.
    #[arg(long, value_name = "FORMAT", value_parser = values::conf_text)]
    pub access_log_format: Option<String>,

    /// ErrorLogFormat of the error log, e.g. '[%t] [%l] %M'.
    #[arg(long, value_name = "FORMAT", value_parser = values::conf_text)]
    pub error_log_format: Option<String>,

    /// File name of the error log in the log directory.
    #[arg(long, value_name = "NAME", default_value = "error_log", value_parser = values::file_name)]
    pub error_log_name: String,

    /// File name of the access log in the log directory.
    #[arg(long, value_name = "NAME", default_value = "access_log",
          value_parser = values::file_name)]
    pub access_log_name: String,

    /// Write what Apache says while starting (before its error log is open) to the startup
    /// log (httpd -E).
    #[arg(long)]
    pub startup_log: bool,

    /// File name of the startup log in the log directory.
    #[arg(long, value_name = "NAME", default_value = "startup_log",
          value_parser = values::file_name)]
    pub startup_log_name: String,

    /// Rotate the logs with rotatelogs: NAME.YYYY-MM-DD-HH_MM_SS files of at most
    /// --max-log-size.
    #[arg(long)]
    pub rotate_logs: bool,

    /// Size in MB at which a log is rotated (with --rotate-logs).
    #[arg(long, value_name = "MB", default_value_t = 5,
          value_parser = values::whole::<u32>(1, 1_000_000))]
    pub max_log_size: u32,

    /// The rotatelogs program (default /usr/bin/rotatelogs, else rotatelogs on PATH).
    #[arg(long, value_name = "PATH")]
    pub rotatelogs_executable: Option<String>,

    /// Log more about what the module does (WSGIVerboseDebugging On).
    #[arg(long)]
    pub verbose_debugging: bool,
}
