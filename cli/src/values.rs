//! Checks of single option values, run by clap while it parses (see
//! `cli`). An error is the rest of a sentence that starts with the option's
//! name: `usage` turns `"expects a whole number from 1 to 65535"` for
//! `--port http` into "--port expects a whole number from 1 to 65535, not
//! 'http'".

use crate::settings::{AppType, Mpm};

type Parsed<T> = std::result::Result<T, String>;

/// A whole number from `min` to `max`, as any integer type that holds it.
pub fn whole<T>(min: u64, max: u64) -> impl Fn(&str) -> Parsed<T> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64>,
{
    move |v| {
        v.trim()
            .parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| format!("expects a whole number from {min} to {max}"))
    }
}

pub fn mpm(v: &str) -> Parsed<Mpm> {
    match v {
        "event" => Ok(Mpm::Event),
        "worker" => Ok(Mpm::Worker),
        "prefork" => Ok(Mpm::Prefork),
        _ => Err("must be event, worker or prefork".into()),
    }
}

pub fn app_type(v: &str) -> Parsed<AppType> {
    match v {
        "script" => Ok(AppType::Script),
        "module" => Ok(AppType::Module),
        "paste" => Ok(AppType::Paste),
        "static" => Ok(AppType::Static),
        _ => Err("must be 'script', 'module', 'paste' or 'static'".into()),
    }
}

/// A fraction from 0 to 1.
pub fn fraction(v: &str) -> Parsed<f64> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| (0.0..=1.0).contains(f))
        .ok_or_else(|| "expects a number from 0 to 1".into())
}

/// A positive number of seconds, such as 0.005.
pub fn positive_seconds(v: &str) -> Parsed<String> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|f| f.is_finite() && *f > 0.0)
        .map(|_| v.trim().to_string())
        .ok_or_else(|| "expects a positive number of seconds, such as 0.005".into())
}

/// A size in bytes, optionally with a K, M or G suffix.
pub fn size(v: &str) -> Parsed<String> {
    let t = v.trim();
    let digits = t.strip_suffix(['k', 'K', 'm', 'M', 'g', 'G']).unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) && digits.len() < 16 {
        Ok(t.to_string())
    } else {
        Err("expects a number of bytes, optionally with K, M or G (such as 512M)".into())
    }
}

/// One word of httpd.conf: printable, no white space or quotes.
pub fn conf_word(v: &str) -> Parsed<String> {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_graphic() && !"\"'\\".contains(c))
    {
        Ok(v.to_string())
    } else {
        Err("must be one word without spaces or quotes".into())
    }
}

/// Text httpd.conf can carry inside double quotes (a log format).
pub fn conf_text(v: &str) -> Parsed<String> {
    if v.is_empty() || v.contains(['\n', '\r']) || v.contains("${") || v.ends_with('\\') {
        Err("must be one line of text (not ending in a backslash)".into())
    } else {
        Ok(v.to_string())
    }
}

/// A header value (no line breaks).
pub fn header_value(v: &str) -> Parsed<String> {
    conf_text(v).and_then(|t| {
        if t.contains('"') {
            Err("must not contain '\"'".into())
        } else {
            Ok(t)
        }
    })
}

/// An HTTP header name.
pub fn header_name(v: &str) -> Parsed<String> {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(v.to_string())
    } else {
        Err("must be a header name such as X-Forwarded-For".into())
    }
}

/// A host name for ServerAlias (wildcards allowed).
pub fn server_alias(v: &str) -> Parsed<String> {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_*?:".contains(c))
    {
        Ok(v.to_string())
    } else {
        Err("must be a host name (wildcards * and ? allowed)".into())
    }
}

/// A daemon process group or application group name.
pub fn group_name(v: &str) -> Parsed<String> {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_graphic() && !"\"'\\/".contains(c))
    {
        Ok(v.to_string())
    } else {
        Err("must be a name without spaces, quotes or '/'".into())
    }
}

/// An environment variable name.
pub fn env_name(v: &str) -> Parsed<String> {
    if is_identifier(v) && v.is_ascii() {
        Ok(v.to_string())
    } else {
        Err("must be an environment variable name such as HOME".into())
    }
}

/// A locale name such as en_US.UTF-8.
pub fn locale_name(v: &str) -> Parsed<String> {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
    {
        Ok(v.to_string())
    } else {
        Err("must be a locale name such as en_US.UTF-8".into())
    }
}

/// A file name without a directory.
pub fn file_name(v: &str) -> Parsed<String> {
    if !v.is_empty() && v != "." && v != ".." && !v.contains(['/', '"', '\\', '\n']) {
        Ok(v.to_string())
    } else {
        Err("must be a file name without '/'".into())
    }
}

/// On, Off or Auto.
pub fn on_off_auto(v: &str) -> Parsed<String> {
    match v.to_ascii_lowercase().as_str() {
        "on" => Ok("On".into()),
        "off" => Ok("Off".into()),
        "auto" => Ok("Auto".into()),
        _ => Err("must be On, Off or Auto".into()),
    }
}

/// An address or host name for `Listen`.
pub fn host(v: &str) -> Parsed<String> {
    if v.chars()
        .all(|c| c.is_ascii_alphanumeric() || ".-:[]*_".contains(c))
    {
        Ok(v.to_string())
    } else {
        Err("must be an address or a host name".into())
    }
}

/// A host name for `ServerName`.
pub fn server_name(v: &str) -> Parsed<String> {
    if !v.is_empty()
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || ".-_:[]".contains(c))
    {
        Ok(v.to_string())
    } else {
        Err("must be a host name".into())
    }
}

/// A URL path starting with '/', without trailing slashes.
pub fn url_path(v: &str) -> Parsed<String> {
    if !v.starts_with('/') || v.chars().any(char::is_whitespace) {
        return Err("must be a URL path starting with '/'".into());
    }
    let trimmed = v.trim_end_matches('/');
    Ok(if trimmed.is_empty() { "/" } else { trimmed }.to_string())
}

/// `--auth-type`: Basic or Digest (any case), as Apache spells them.
pub fn auth_type(v: &str) -> Parsed<String> {
    match v.to_ascii_lowercase().as_str() {
        "basic" => Ok("Basic".into()),
        "digest" => Ok("Digest".into()),
        _ => Err("must be Basic or Digest".into()),
    }
}

/// A file name extension for `AddHandler`, such as .md: returned with its
/// dot, in lower case (mod_mime matches extensions in any case).
pub fn extension(v: &str) -> Parsed<String> {
    let word = v.strip_prefix('.').unwrap_or(v);
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-+~".contains(c))
    {
        Ok(format!(".{}", word.to_ascii_lowercase()))
    } else {
        Err("must be a file name extension such as .md (letters, digits, _ - + ~)".into())
    }
}

/// A Python identifier.
pub fn python_name(v: &str) -> Parsed<String> {
    if is_identifier(v) {
        Ok(v.to_string())
    } else {
        Err("must be a Python name".into())
    }
}

pub fn is_identifier(s: &str) -> bool {
    let mut c = s.chars();
    c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
        && c.all(|ch| ch.is_alphanumeric() || ch == '_')
}

/// Apache's LogLevel: a level, optionally followed by module:level pairs.
pub fn log_level(v: &str) -> Parsed<String> {
    const LEVELS: &[&str] = &[
        "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug", "trace1", "trace2",
        "trace3", "trace4", "trace5", "trace6", "trace7", "trace8",
    ];
    let mut words = v.split_whitespace().peekable();
    let valid = words.peek().is_some()
        && words.all(|w| {
            let level = w.rsplit_once(':').map_or(w, |(m, l)| {
                if m.is_empty() || !m.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    ""
                } else {
                    l
                }
            });
            LEVELS.contains(&level)
        });
    if valid {
        Ok(v.to_string())
    } else {
        Err(
            "must be emerg, alert, crit, error, warn, notice, info, debug or trace1-8 \
             (optionally with module:level pairs)"
                .into(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_within_bounds() {
        let port = whole::<u16>(1, 65535);
        assert_eq!(port("8000"), Ok(8000));
        assert_eq!(port(" 80 "), Ok(80));
        assert!(port("0").is_err());
        assert!(port("65536").is_err());
        assert_eq!(
            port("http").unwrap_err(),
            "expects a whole number from 1 to 65535"
        );
    }

    #[test]
    fn words() {
        assert_eq!(url_path("/app//").unwrap(), "/app");
        assert_eq!(url_path("///").unwrap(), "/");
        assert!(url_path("app").is_err());
        assert!(log_level("warn wsgi:debug").is_ok());
        assert!(log_level("loud").is_err());
        assert!(log_level("").is_err());
        assert!(python_name("app_1").is_ok());
        assert!(python_name("1app").is_err());
        assert!(host("0.0.0.0").is_ok() && host("[::1]").is_ok() && host("a b").is_err());
        assert!(server_name("").is_err());
        assert_eq!(auth_type("DIGEST").unwrap(), "Digest");
        assert!(auth_type("ntlm").is_err());
        assert_eq!(extension("MD").unwrap(), ".md");
        assert_eq!(extension(".tar-x").unwrap(), ".tar-x");
        assert!(extension(".").is_err() && extension("a.b").is_err() && extension("a b").is_err());
    }
}
