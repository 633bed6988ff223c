//! Usage errors from clap, told on one line like every other error of the
//! command ("unknown option --prot for start-server (did you mean
//! --port?)"), with clap's suggestions for mistyped options and commands.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::CliError;

const COMMANDS: &str = "start-server, setup-server, module-config, module-location or \
                        install-module";

/// The subcommand `argv` names (its first argument), if it is one.
fn subcommand_of(argv: &[String]) -> Option<String> {
    let word = argv.get(1)?;
    Cli::command()
        .find_subcommand(word)
        .map(|c| c.get_name().to_string())
}

/// A piece of the error's context; of a list (clap's suggestions, the
/// most similar last), the last.
fn context(err: &clap::Error, kind: ContextKind) -> Option<&str> {
    match err.get(kind)? {
        ContextValue::String(s) => Some(s),
        ContextValue::Strings(v) => v.last().map(String::as_str),
        _ => None,
    }
}

/// `--port <NUMBER>` -> ("--port", "NUMBER"); `--url-alias <URL> <PATH>`
/// -> ("--url-alias", "URL PATH"); a flag has no value names.
fn split_arg(text: &str) -> (&str, String) {
    let (name, rest) = text.split_once(' ').unwrap_or((text, ""));
    let values: Vec<&str> = rest
        .split_whitespace()
        .map(|v| v.trim_matches(['<', '>', '.']))
        .collect();
    (name, values.join(" "))
}

/// The one-line error for a clap parsing error of `argv`.
pub fn from_clap(err: &clap::Error, argv: &[String]) -> CliError {
    let Some(sub) = subcommand_of(argv) else {
        return top_level(err);
    };
    let arg = context(err, ContextKind::InvalidArg).unwrap_or("");
    let (name, values) = split_arg(arg);
    let value = context(err, ContextKind::InvalidValue).unwrap_or("");
    let message = match err.kind() {
        ErrorKind::UnknownArgument => {
            let name = name.split_once('=').map_or(name, |(n, _)| n);
            if name.starts_with("--") {
                match context(err, ContextKind::SuggestedArg) {
                    Some(s) => format!("unknown option {name} for {sub} (did you mean {s}?)"),
                    None => format!("unknown option {name} for {sub}"),
                }
            } else if name.starts_with('-') {
                format!("unknown option {name} for {sub} (options are spelled --name)")
            } else if sub.ends_with("-server") {
                format!("unexpected argument '{name}' (one application only)")
            } else {
                format!("unexpected argument '{name}'")
            }
        }
        ErrorKind::InvalidValue | ErrorKind::WrongNumberOfValues if !values.is_empty() => {
            format!("{name} needs {values}")
        }
        ErrorKind::ValueValidation => {
            let why = std::error::Error::source(err)
                .map_or_else(|| "is not valid".to_string(), |e| e.to_string());
            format!("{name} {why}, not '{value}'")
        }
        ErrorKind::TooManyValues if values.is_empty() => {
            format!("{name} is a flag and takes no value")
        }
        _ => first_line(err),
    };
    CliError::usage(&sub, message)
}

/// Errors before a subcommand: an unknown or mistyped one.
fn top_level(err: &clap::Error) -> CliError {
    let word = context(err, ContextKind::InvalidSubcommand)
        .or_else(|| context(err, ContextKind::InvalidArg))
        .unwrap_or("");
    let message = match err.kind() {
        ErrorKind::InvalidSubcommand | ErrorKind::UnknownArgument if !word.starts_with('-') => {
            match context(err, ContextKind::SuggestedSubcommand) {
                Some(s) => format!("unknown command '{word}' (did you mean {s}?): use {COMMANDS}"),
                None => format!("unknown command '{word}': use {COMMANDS}"),
            }
        }
        ErrorKind::UnknownArgument => {
            format!("unknown option {word}: give a command first ({COMMANDS})")
        }
        _ => first_line(err),
    };
    CliError {
        message,
        code: 2,
        help_hint: None,
    }
}

/// Clap's own message, first line, without its "error: ".
fn first_line(err: &clap::Error) -> String {
    let text = err.render().to_string();
    let line = text.lines().next().unwrap_or("invalid command line");
    line.strip_prefix("error: ").unwrap_or(line).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn error(args: &[&str]) -> CliError {
        let argv: Vec<String> = std::iter::once("mod-wsgi-rs")
            .chain(args.iter().copied())
            .map(str::to_string)
            .collect();
        let e = Cli::try_parse_from(&argv).unwrap_err();
        from_clap(&e, &argv)
    }

    #[test]
    fn option_errors_are_one_clear_line() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["start-server", "--prot", "1"],
                "unknown option --prot for start-server (did you mean --port?)",
            ),
            (
                &["start-server", "--port", "http"],
                "--port expects a whole number from 1 to 65535, not 'http'",
            ),
            (&["start-server", "--port"], "--port needs NUMBER"),
            (
                &["start-server", "--port", "--embedded-mode"],
                "--port needs NUMBER",
            ),
            (
                &["start-server", "--url-alias", "/s"],
                "--url-alias needs URL PATH",
            ),
            (
                &["start-server", "--embedded-mode=1"],
                "--embedded-mode is a flag and takes no value",
            ),
            (
                &["start-server", "a.wsgi", "b.wsgi"],
                "unexpected argument 'b.wsgi' (one application only)",
            ),
            (&["module-location", "x"], "unexpected argument 'x'"),
            (
                &["start-server", "-x"],
                "unknown option -x for start-server (options are spelled --name)",
            ),
            (
                &["setup-server", "--server-mpm", "threaded"],
                "--server-mpm must be event, worker or prefork, not 'threaded'",
            ),
        ];
        for (args, want) in cases {
            let e = error(args);
            assert_eq!(e.message, *want, "{args:?}");
            assert_eq!(e.code, 2);
            assert_eq!(e.help_hint.as_deref(), Some(args[0]));
        }
    }

    #[test]
    fn mistyped_command_gets_a_suggestion() {
        let e = error(&["start-sever"]);
        assert!(
            e.message
                .starts_with("unknown command 'start-sever' (did you mean start-server?)"),
            "{}",
            e.message
        );
        let e = error(&["serve"]);
        assert!(
            e.message.starts_with("unknown command 'serve'"),
            "{}",
            e.message
        );
        assert_eq!(e.code, 2);
    }
}
