//! The one error type of the command: a message for one line and the exit
//! status, plus warnings.

use crate::PROGRAM;

/// An error to report on one line, and the exit status to use.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    /// 2 for a usage error, 1 for anything else.
    pub code: i32,
    /// The subcommand whose `--help` would help, for usage errors.
    pub help_hint: Option<String>,
}

impl CliError {
    /// Something on this machine is not as it must be (exit status 1).
    pub fn fail(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 1,
            help_hint: None,
        }
    }

    /// The command line is wrong (exit status 2, with a pointer to the
    /// `--help` of `command`).
    pub fn usage(command: &str, message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 2,
            help_hint: Some(command.to_string()),
        }
    }

    /// Prints the error (and the hint) to stderr.
    pub fn report(&self) {
        eprintln!("{PROGRAM}: error: {}", self.message);
        if let Some(c) = &self.help_hint {
            eprintln!("(see {PROGRAM} {c} --help)");
        }
    }
}

pub type Result<T> = std::result::Result<T, CliError>;

/// Prints a one-line warning to stderr.
pub fn warn(msg: &str) {
    eprintln!("{PROGRAM}: warning: {msg}");
}
