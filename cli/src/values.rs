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
        _ => Err("must be 'script' or 'module'".into()),
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
    }
}
