//! Quoting words for the files this command writes: httpd.conf, Python,
//! shell.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{CliError, Result};

/// Quotes a word for httpd.conf (see `check_conf_text`).
pub fn q(s: &str) -> String {
    format!("\"{s}\"")
}

/// Quotes a path for httpd.conf.
pub fn qp(p: &Path) -> String {
    q(&p.display().to_string())
}

/// Fails for text httpd.conf cannot carry inside a quoted word.
pub fn check_conf_text(what: &str, s: &str) -> Result<()> {
    if s.contains(['"', '\n', '\r', '\\']) || s.contains("${") {
        return Err(CliError::fail(format!(
            "{what} '{s}' contains a character Apache's configuration cannot quote (\", \\, a \
             line break or ${{): rename or move it"
        )));
    }
    Ok(())
}

/// A Python string literal for `s`.
pub fn py_str(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            ' '..='~' => out.push(c),
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('\'');
    out
}

/// A single-quoted shell word.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A command line as a shell would need it typed.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                a.clone()
            } else {
                sh_quote(a)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(py_str("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(py_str("é"), "'\\U000000e9'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert!(check_conf_text("x", "/a\"b").is_err());
        assert!(check_conf_text("x", "/a b/c").is_ok());
        assert_eq!(
            shell_words(&["a.wsgi".into(), "two words".into()]),
            "a.wsgi 'two words'"
        );
    }
}
