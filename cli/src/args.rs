//! Command-line parsing by hand: `--name value`, `--name=value`, flags,
//! options taking two values (`--url-alias URL PATH`), repeatable options,
//! positional arguments, `--` to end options, `-h`/`--help`.

use std::fmt::Write as _;

/// An error to report on one line, and the exit status to use.
#[derive(Debug)]
pub struct CliError {
    pub message: String,
    /// 2 for a usage error, 1 for anything else.
    pub code: i32,
    /// The subcommand whose `--help` would help, for usage errors.
    pub help_hint: Option<&'static str>,
}

impl CliError {
    pub fn fail(message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 1,
            help_hint: None,
        }
    }

    pub fn usage(command: &'static str, message: impl Into<String>) -> CliError {
        CliError {
            message: message.into(),
            code: 2,
            help_hint: Some(command),
        }
    }
}

pub type Result<T> = std::result::Result<T, CliError>;

/// One option of a subcommand.
pub struct Opt {
    /// Long name without the leading `--`.
    pub name: &'static str,
    /// Names of its values (empty for a flag).
    pub metavars: &'static [&'static str],
    /// Whether giving it several times accumulates (otherwise the last wins).
    pub repeat: bool,
    pub help: &'static str,
}

/// What was given on the command line.
#[derive(Debug, Default)]
pub struct Parsed {
    pub positional: Vec<String>,
    pub given: Vec<(&'static str, Vec<String>)>,
    pub help: bool,
}

impl Parsed {
    pub fn flag(&self, name: &str) -> bool {
        self.given.iter().any(|(n, _)| *n == name)
    }

    /// The value of a single-valued option (the last one given).
    pub fn value(&self, name: &str) -> Option<&str> {
        self.given
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.first())
            .map(String::as_str)
    }

    /// Every occurrence of a repeatable option, each with its values.
    pub fn values(&self, name: &str) -> Vec<&[String]> {
        self.given
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The closest known option name, if it is close enough to be a typo.
fn suggest(name: &str, opts: &[Opt]) -> Option<&'static str> {
    opts.iter()
        .map(|o| (edit_distance(name, o.name), o.name))
        .filter(|(d, n)| *d <= 2.max(n.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, n)| n)
}

/// Parses `args` (without the program and subcommand names) against `opts`.
pub fn parse(command: &'static str, opts: &[Opt], args: &[String]) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if arg == "--" {
            parsed.positional.extend(args[i..].iter().cloned());
            break;
        }
        if arg == "-h" || arg == "--help" {
            parsed.help = true;
            continue;
        }
        if let Some(body) = arg.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let Some(opt) = opts.iter().find(|o| o.name == name) else {
                let hint = match suggest(name, opts) {
                    Some(s) => format!(" (did you mean --{s}?)"),
                    None => String::new(),
                };
                return Err(CliError::usage(
                    command,
                    format!("unknown option --{name} for {command}{hint}"),
                ));
            };
            let mut values = Vec::new();
            if opt.metavars.is_empty() {
                if inline.is_some() {
                    return Err(CliError::usage(
                        command,
                        format!("--{name} is a flag and takes no value"),
                    ));
                }
            } else {
                let mut inline = inline;
                for _ in opt.metavars {
                    if let Some(v) = inline.take() {
                        values.push(v);
                    } else if i < args.len() && !(args[i].starts_with("--") && args[i].len() > 2) {
                        values.push(args[i].clone());
                        i += 1;
                    } else {
                        return Err(CliError::usage(
                            command,
                            format!("--{name} needs {}", opt.metavars.join(" ")),
                        ));
                    }
                }
            }
            parsed.given.push((opt.name, values));
        } else if arg.starts_with('-') && arg.len() > 1 {
            return Err(CliError::usage(
                command,
                format!("unknown option {arg} for {command} (options are spelled --name)"),
            ));
        } else {
            parsed.positional.push(arg.clone());
        }
    }
    Ok(parsed)
}

/// Formats the option list of a `--help` page.
pub fn options_help(opts: &[Opt]) -> String {
    let mut out = String::new();
    let heads: Vec<String> = opts
        .iter()
        .map(|o| {
            let mut h = format!("--{}", o.name);
            for m in o.metavars {
                h.push(' ');
                h.push_str(m);
            }
            h
        })
        .collect();
    let width = heads.iter().map(String::len).max().unwrap_or(0).min(30);
    for (o, head) in opts.iter().zip(&heads) {
        let mut lines = wrap(o.help, 78usize.saturating_sub(width + 4).max(30));
        if o.repeat {
            lines.push("(repeatable)".to_string());
        }
        if head.len() > width {
            let _ = writeln!(out, "  {head}");
            for l in lines {
                let _ = writeln!(out, "  {:width$}  {l}", "");
            }
        } else {
            for (k, l) in lines.iter().enumerate() {
                let h = if k == 0 { head.as_str() } else { "" };
                let _ = writeln!(out, "  {h:width$}  {l}");
            }
        }
    }
    out
}

fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in text.split_whitespace() {
        if !cur.is_empty() && cur.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut cur));
        }
        if !cur.is_empty() {
            cur.push(' ');
        }
        cur.push_str(word);
    }
    if !cur.is_empty() {
        lines.push(cur);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTS: &[Opt] = &[
        Opt {
            name: "port",
            metavars: &["NUMBER"],
            repeat: false,
            help: "port",
        },
        Opt {
            name: "url-alias",
            metavars: &["URL", "PATH"],
            repeat: true,
            help: "alias",
        },
        Opt {
            name: "embedded-mode",
            metavars: &[],
            repeat: false,
            help: "flag",
        },
    ];

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_values_pairs_flags_and_positionals() {
        let p = parse(
            "start-server",
            OPTS,
            &s(&[
                "app.wsgi",
                "--port=9000",
                "--url-alias",
                "/s",
                "static",
                "--embedded-mode",
                "--port",
                "9001",
                "--",
                "--not-an-option",
            ]),
        )
        .unwrap();
        assert_eq!(p.positional, s(&["app.wsgi", "--not-an-option"]));
        assert_eq!(p.value("port"), Some("9001"));
        assert!(p.flag("embedded-mode"));
        assert_eq!(p.values("url-alias"), vec![&s(&["/s", "static"])[..]]);
    }

    #[test]
    fn errors_are_clear() {
        let e = parse("start-server", OPTS, &s(&["--prot", "1"])).unwrap_err();
        assert!(e.message.contains("did you mean --port?"), "{}", e.message);
        let e = parse("start-server", OPTS, &s(&["--url-alias", "/s"])).unwrap_err();
        assert!(e.message.contains("URL PATH"), "{}", e.message);
        let e = parse("start-server", OPTS, &s(&["--port", "--embedded-mode"])).unwrap_err();
        assert!(e.message.contains("--port needs NUMBER"), "{}", e.message);
        let e = parse("start-server", OPTS, &s(&["--embedded-mode=1"])).unwrap_err();
        assert!(e.message.contains("flag"));
        assert_eq!(e.code, 2);
    }
}
