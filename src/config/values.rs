//! Small value parsers shared by the directive handlers.
//!
//! Every error is a `String` written for someone reading
//! `apachectl configtest` output: Apache already prefixes the file, the line
//! and the directive name, so messages say what was wrong with the value and
//! what would be accepted instead.

/// Parses `On` / `Off` (case-insensitive), as Apache's FLAG directives do.
pub(crate) fn parse_on_off(value: &str) -> Result<bool, String> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("on") {
        Ok(true)
    } else if v.eq_ignore_ascii_case("off") {
        Ok(false)
    } else {
        Err(format!("invalid value '{value}': expected On or Off"))
    }
}

/// The single argument of a one-argument directive.
pub(super) fn one_arg<'a>(args: &[&'a str]) -> Result<&'a str, String> {
    match args {
        [a] => Ok(a),
        [] => Err("needs one argument".to_string()),
        _ => Err(format!(
            "takes one argument, but {} were given (quote a value that contains spaces)",
            args.len()
        )),
    }
}

/// The single `On` / `Off` argument of a flag directive.
pub(super) fn flag(args: &[&str]) -> Result<bool, String> {
    parse_on_off(one_arg(args)?)
}

/// Merges one optional setting: `add`'s value if it is set, else `base`'s.
pub(super) fn pick<T: Clone>(base: &Option<T>, add: &Option<T>) -> Option<T> {
    add.clone().or_else(|| base.clone())
}

/// `WSGIMapHEADToGET`: whether a HEAD request is shown to the application
/// as a GET.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MapHeadToGet {
    /// Always present HEAD as GET.
    On,
    /// Never: the application sees HEAD.
    Off,
    /// Present HEAD as GET only when an output filter that needs the
    /// response body is present (mod_wsgi's default).
    Auto,
}

/// Parses `On` / `Off` / `Auto` (case-insensitive).
pub(crate) fn parse_map_head(value: &str) -> Result<MapHeadToGet, String> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("on") {
        Ok(MapHeadToGet::On)
    } else if v.eq_ignore_ascii_case("off") {
        Ok(MapHeadToGet::Off)
    } else if v.eq_ignore_ascii_case("auto") {
        Ok(MapHeadToGet::Auto)
    } else {
        Err(format!("invalid value '{value}': expected On, Off or Auto"))
    }
}

fn value_error(name: &str, value: &str, expected: &str) -> String {
    if name.is_empty() {
        format!("invalid value '{value}': expected {expected}")
    } else {
        format!("invalid value '{value}' for option '{name}': expected {expected}")
    }
}

/// Parses a whole number in `min..=max`.
///
/// `name` is the option name used in the message (`invalid value 'abc' for
/// option 'processes': expected a whole number from 1 to 10000`); pass `""`
/// when the value is a directive's own argument (Apache names the
/// directive already).
pub(crate) fn parse_int_in(name: &str, value: &str, min: i64, max: i64) -> Result<i64, String> {
    let expected = || format!("a whole number from {min} to {max}");
    let v = value.trim();
    if v.is_empty()
        || !v
            .trim_start_matches(['+', '-'])
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return Err(value_error(name, value, &expected()));
    }
    match v.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(value_error(name, value, &expected())),
    }
}

/// Splits a `WSGIPythonPath` / `python-path=` value on `:`, dropping empty
/// entries (so `/a::/b:` gives `["/a", "/b"]`).
pub(crate) fn parse_python_path(value: &str) -> Vec<String> {
    value
        .split(':')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `WSGIPythonOptimize`: 0, 1 or 2 (like `python -O` / `-OO`).
pub(crate) fn parse_optimize(value: &str) -> Result<u8, String> {
    match value.trim() {
        "0" => Ok(0),
        "1" => Ok(1),
        "2" => Ok(2),
        _ => Err(format!(
            "invalid value '{value}': expected 0 (no optimisation), 1 (like python -O) or 2 (like python -OO)"
        )),
    }
}

/// `WSGIPythonHashSeed`: `random` gives `None` (Python picks a random seed),
/// otherwise a whole number from 0 to 4294967295.
pub(crate) fn parse_hash_seed(value: &str) -> Result<Option<u32>, String> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("random") {
        return Ok(None);
    }
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = v.parse::<u32>() {
            return Ok(Some(n));
        }
    }
    Err(format!(
        "invalid value '{value}': expected 'random' or a whole number from 0 to 4294967295"
    ))
}

/// Splits `key=value` on the first `=`. `None` when there is no `=`.
pub(crate) fn split_key_value(arg: &str) -> Option<(&str, &str)> {
    arg.split_once('=')
}

/// Removes one pair of matching surrounding quotes (`'…'` or `"…"`), which
/// users write in option values such as `display-name='%{GROUP}'` when the
/// tokenizer left them in place.
pub(crate) fn unquote(value: &str) -> &str {
    let b = value.as_bytes();
    if b.len() >= 2 && (b[0] == b'"' || b[0] == b'\'') && b[b.len() - 1] == b[0] {
        &value[1..value.len() - 1]
    } else {
        value
    }
}

/// Splits a raw directive argument line into words the way Apache's
/// `ap_getword_conf` and mod_wsgi's option parser do: words are separated
/// by white space; a word may be quoted with `"` or `'` (a backslash before
/// the quote character keeps it); in `name=value` the value alone may be
/// quoted (`display-name="my app"` gives `display-name=my app`).
pub fn split_args(raw: &str) -> Result<Vec<String>, String> {
    let chars: Vec<char> = raw.chars().collect();
    let mut words = Vec::new();
    let mut i = 0;
    let n = chars.len();
    while i < n {
        while i < n && chars[i].is_whitespace() {
            i += 1;
        }
        if i >= n {
            break;
        }
        let mut word = String::new();
        if chars[i] == '"' || chars[i] == '\'' {
            i = read_quoted(&chars, i, &mut word)?;
        } else {
            while i < n && !chars[i].is_whitespace() {
                let c = chars[i];
                if c == '=' && i + 1 < n && (chars[i + 1] == '"' || chars[i + 1] == '\'') {
                    word.push('=');
                    i = read_quoted(&chars, i + 1, &mut word)?;
                    break;
                }
                word.push(c);
                i += 1;
            }
        }
        words.push(word);
    }
    Ok(words)
}

/// Reads a quoted string starting at `chars[start]` (the quote) into `out`;
/// returns the index after the closing quote.
fn read_quoted(chars: &[char], start: usize, out: &mut String) -> Result<usize, String> {
    let quote = chars[start];
    let mut i = start + 1;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' && i + 1 < chars.len() && chars[i + 1] == quote {
            out.push(quote);
            i += 2;
            continue;
        }
        if c == quote {
            return Ok(i + 1);
        }
        out.push(c);
        i += 1;
    }
    Err(format!(
        "missing closing {quote} in '{}'",
        chars[start..].iter().collect::<String>()
    ))
}

/// `WSGICallableObject` / `callable-object=`: a Python identifier such as
/// `application` or `app`, or `%{ENV:NAME}` (looked up per request).
pub(crate) fn parse_callable_object(value: &str) -> Result<String, String> {
    let v = value.trim();
    if let Some(name) = v.strip_prefix("%{ENV:").and_then(|r| r.strip_suffix('}')) {
        if !name.is_empty() && !name.contains(['{', '}']) && !name.chars().any(char::is_whitespace)
        {
            return Ok(v.to_string());
        }
    }
    let mut chars = v.chars();
    let ok = match chars.next() {
        Some(c) if c == '_' || c.is_alphabetic() => chars.all(|c| c == '_' || c.is_alphanumeric()),
        _ => false,
    };
    if ok {
        Ok(v.to_string())
    } else {
        Err(format!(
            "invalid callable object name '{value}': expected a Python name such as 'application' or 'app', or %{{ENV:NAME}}"
        ))
    }
}

/// Edit distance (optimal string alignment: insertions, deletions,
/// substitutions and swaps of two neighbours each count 1), ignoring ASCII
/// case.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().map(|c| c.to_ascii_lowercase()).collect();
    let b: Vec<char> = b.chars().map(|c| c.to_ascii_lowercase()).collect();
    let (n, m) = (a.len(), b.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m]
}

/// The candidate closest to `word`, if it is close enough to be a likely
/// typo (case differences and `_` for `-` count as close).
pub(crate) fn suggest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let normalised = word.replace('_', "-");
    let mut best: Option<(usize, &'a str)> = None;
    for &c in candidates {
        let d = edit_distance(&normalised, c);
        let limit = (word.chars().count().max(c.len()) / 3).clamp(1, 3);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `unknown option 'x'`, with a did-you-mean suggestion when one is close.
pub(crate) fn unknown_option(name: &str, candidates: &[&str]) -> String {
    match suggest(name, candidates) {
        Some(s) => format!("unknown option '{name}' (did you mean '{s}'?)"),
        None => format!(
            "unknown option '{name}'; valid options are: {}",
            candidates.join(", ")
        ),
    }
}

/// Python's thread switch interval (`WSGISwitchInterval`,
/// `switch-interval=`): a positive number of seconds, as C's strtod reads it.
pub(crate) fn parse_switch_interval(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "invalid switch interval '{value}': expected a positive number of seconds, such as 0.005"
        )),
    }
}

/// A duration in whole seconds for option `name` (0 is allowed and usually
/// means "disabled").
pub(crate) fn parse_seconds(name: &str, value: &str) -> Result<u32, String> {
    let v = value.trim();
    if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(n) = v.parse::<u32>() {
            if n <= i32::MAX as u32 {
                return Ok(n);
            }
        }
    }
    Err(value_error(
        name,
        value,
        "a whole number of seconds, such as 60 (0 turns it off)",
    ))
}

/// A size in bytes for option `name`. Accepts a plain number of bytes, or a
/// number with a `K`, `M` or `G` suffix (binary multiples: `512M` is
/// 536870912).
pub(crate) fn parse_size(name: &str, value: &str) -> Result<u64, String> {
    let v = value.trim();
    let err = || {
        value_error(
            name,
            value,
            "a number of bytes, such as 1048576, or a number with a K, M or G suffix, such as 512M",
        )
    };
    let (digits, mult) = match v.as_bytes().last() {
        Some(b'k' | b'K') => (&v[..v.len() - 1], 1u64 << 10),
        Some(b'm' | b'M') => (&v[..v.len() - 1], 1u64 << 20),
        Some(b'g' | b'G') => (&v[..v.len() - 1], 1u64 << 30),
        _ => (v, 1),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(err());
    }
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(err)
}

/// An octal umask such as `022` or `0007`, from 0 to 0777.
pub(crate) fn parse_umask(name: &str, value: &str) -> Result<u32, String> {
    let v = value.trim();
    let digits = v.strip_prefix("0o").unwrap_or(v);
    if !digits.is_empty() && digits.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        if let Ok(n) = u32::from_str_radix(digits, 8) {
            if n <= 0o777 {
                return Ok(n);
            }
        }
    }
    Err(value_error(
        name,
        value,
        "an octal number from 000 to 777, such as 022 or 007",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_off() {
        assert_eq!(parse_on_off("On"), Ok(true));
        assert_eq!(parse_on_off("on"), Ok(true));
        assert_eq!(parse_on_off("ON"), Ok(true));
        assert_eq!(parse_on_off("Off"), Ok(false));
        assert_eq!(parse_on_off("oFF"), Ok(false));
        let e = parse_on_off("yes").unwrap_err();
        assert!(e.contains("'yes'") && e.contains("On or Off"), "{e}");
        assert!(parse_on_off("").is_err());
        assert!(parse_on_off("1").is_err());
    }

    #[test]
    fn map_head() {
        assert_eq!(parse_map_head("On"), Ok(MapHeadToGet::On));
        assert_eq!(parse_map_head("off"), Ok(MapHeadToGet::Off));
        assert_eq!(parse_map_head("AUTO"), Ok(MapHeadToGet::Auto));
        let e = parse_map_head("maybe").unwrap_err();
        assert!(e.contains("On, Off or Auto"), "{e}");
    }

    #[test]
    fn int_in() {
        assert_eq!(parse_int_in("processes", "5", 1, 10), Ok(5));
        assert_eq!(parse_int_in("processes", "1", 1, 10), Ok(1));
        assert_eq!(parse_int_in("processes", "10", 1, 10), Ok(10));
        assert_eq!(parse_int_in("x", "-3", -5, 5), Ok(-3));
        assert_eq!(parse_int_in("x", "+3", -5, 5), Ok(3));
        assert_eq!(parse_int_in("x", " 7 ", 0, 10), Ok(7));
        assert_eq!(
            parse_int_in("processes", "abc", 1, 10000).unwrap_err(),
            "invalid value 'abc' for option 'processes': expected a whole number from 1 to 10000"
        );
        assert!(parse_int_in("processes", "0", 1, 10).is_err());
        assert!(parse_int_in("processes", "11", 1, 10).is_err());
        assert!(parse_int_in("processes", "", 1, 10).is_err());
        assert!(parse_int_in("processes", "2abc", 1, 10).is_err());
        assert!(parse_int_in("processes", "1.5", 1, 10).is_err());
        assert!(parse_int_in("processes", "99999999999999999999", 1, 10).is_err());
        assert_eq!(
            parse_int_in("", "x", 0, 2).unwrap_err(),
            "invalid value 'x': expected a whole number from 0 to 2"
        );
    }

    #[test]
    fn python_path() {
        assert_eq!(parse_python_path("/a:/b"), vec!["/a", "/b"]);
        assert_eq!(parse_python_path("/a::/b:"), vec!["/a", "/b"]);
        assert_eq!(parse_python_path(""), Vec::<String>::new());
        assert_eq!(parse_python_path(":"), Vec::<String>::new());
        assert_eq!(parse_python_path("/only"), vec!["/only"]);
    }

    #[test]
    fn optimize() {
        assert_eq!(parse_optimize("0"), Ok(0));
        assert_eq!(parse_optimize("1"), Ok(1));
        assert_eq!(parse_optimize("2"), Ok(2));
        assert!(parse_optimize("3").is_err());
        assert!(parse_optimize("-1").is_err());
        assert!(parse_optimize("O").unwrap_err().contains("0"));
    }

    #[test]
    fn hash_seed() {
        assert_eq!(parse_hash_seed("random"), Ok(None));
        assert_eq!(parse_hash_seed("Random"), Ok(None));
        assert_eq!(parse_hash_seed("0"), Ok(Some(0)));
        assert_eq!(parse_hash_seed("4294967295"), Ok(Some(4294967295)));
        assert!(parse_hash_seed("4294967296").is_err());
        assert!(parse_hash_seed("-1").is_err());
        assert!(parse_hash_seed("").is_err());
        assert!(parse_hash_seed("12x").unwrap_err().contains("4294967295"));
    }

    #[test]
    fn key_value() {
        assert_eq!(split_key_value("a=b"), Some(("a", "b")));
        assert_eq!(split_key_value("a=b=c"), Some(("a", "b=c")));
        assert_eq!(split_key_value("a="), Some(("a", "")));
        assert_eq!(split_key_value("=b"), Some(("", "b")));
        assert_eq!(split_key_value("ab"), None);
    }

    #[test]
    fn unquoting() {
        assert_eq!(unquote("'%{GROUP}'"), "%{GROUP}");
        assert_eq!(unquote("\"a b\""), "a b");
        assert_eq!(unquote("'a\""), "'a\"");
        assert_eq!(unquote("'"), "'");
        assert_eq!(unquote("''"), "");
        assert_eq!(unquote("plain"), "plain");
    }

    #[test]
    fn args_splitting() {
        assert_eq!(
            split_args("  name  processes=2 threads=15 ").unwrap(),
            vec!["name", "processes=2", "threads=15"]
        );
        assert_eq!(
            split_args("x display-name='%{GROUP}' lang=\"en US\"").unwrap(),
            vec!["x", "display-name=%{GROUP}", "lang=en US"]
        );
        assert_eq!(
            split_args("\"/a b/app.wsgi\" 'it\\'s'").unwrap(),
            vec!["/a b/app.wsgi", "it's"]
        );
        assert_eq!(split_args("").unwrap(), Vec::<String>::new());
        assert_eq!(split_args("a=b\"c").unwrap(), vec!["a=b\"c"]);
        assert!(split_args("x lang='en")
            .unwrap_err()
            .contains("missing closing '"));
        assert!(split_args("\"abc").is_err());
    }

    #[test]
    fn callable_object_names() {
        assert_eq!(parse_callable_object("application").unwrap(), "application");
        assert_eq!(parse_callable_object("_app2").unwrap(), "_app2");
        assert_eq!(parse_callable_object("appé").unwrap(), "appé");
        assert_eq!(parse_callable_object("%{ENV:CO}").unwrap(), "%{ENV:CO}");
        for bad in [
            "", "2app", "app.wsgi", "my app", "app-x", "%{ENV:}", "%{FOO}",
        ] {
            let e = parse_callable_object(bad).unwrap_err();
            assert!(e.contains("invalid callable object name"), "{bad}: {e}");
        }
    }

    #[test]
    fn distance_and_suggestions() {
        assert_eq!(edit_distance("", ""), 0);
        assert_eq!(edit_distance("abc", ""), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("procesess", "processes"), 1);
        assert_eq!(edit_distance("Threads", "threads"), 0);
        let c = ["processes", "threads", "user", "group"];
        assert_eq!(suggest("procesess", &c), Some("processes"));
        assert_eq!(suggest("thread", &c), Some("threads"));
        assert_eq!(suggest("Threads", &c), Some("threads"));
        assert_eq!(suggest("usr", &c), Some("user"));
        assert_eq!(suggest("zzzzzzzz", &c), None);
        assert_eq!(
            suggest("maximum_requests", &["maximum-requests"]),
            Some("maximum-requests")
        );
        assert_eq!(
            unknown_option("procesess", &c),
            "unknown option 'procesess' (did you mean 'processes'?)"
        );
        assert_eq!(
            unknown_option("zzzzzzzz", &c),
            "unknown option 'zzzzzzzz'; valid options are: processes, threads, user, group"
        );
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("t", "0"), Ok(0));
        assert_eq!(parse_seconds("t", "60"), Ok(60));
        assert_eq!(parse_seconds("t", "2147483647"), Ok(2147483647));
        assert!(parse_seconds("t", "2147483648").is_err());
        assert!(parse_seconds("t", "-1").is_err());
        assert!(parse_seconds("t", "1.5").is_err());
        assert!(parse_seconds("t", "60s").is_err());
        let e = parse_seconds("request-timeout", "x").unwrap_err();
        assert!(
            e.starts_with("invalid value 'x' for option 'request-timeout'"),
            "{e}"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("s", "0"), Ok(0));
        assert_eq!(parse_size("s", "1024"), Ok(1024));
        assert_eq!(parse_size("s", "4k"), Ok(4096));
        assert_eq!(parse_size("s", "512M"), Ok(512 << 20));
        assert_eq!(parse_size("s", "2G"), Ok(2 << 30));
        assert!(parse_size("s", "M").is_err());
        assert!(parse_size("s", "12T").is_err());
        assert!(parse_size("s", "-5").is_err());
        assert!(parse_size("s", "1.5M").is_err());
        assert!(parse_size("s", "99999999999999999999").is_err());
        assert!(parse_size("s", "99999999999G").is_err());
        assert!(parse_size("memory-limit", "lots")
            .unwrap_err()
            .contains("'memory-limit'"));
    }

    #[test]
    fn umask() {
        assert_eq!(parse_umask("umask", "022"), Ok(0o22));
        assert_eq!(parse_umask("umask", "0007"), Ok(0o7));
        assert_eq!(parse_umask("umask", "777"), Ok(0o777));
        assert_eq!(parse_umask("umask", "0"), Ok(0));
        assert_eq!(parse_umask("umask", "0o22"), Ok(0o22));
        assert!(parse_umask("umask", "1000").is_err());
        assert!(parse_umask("umask", "089").is_err());
        assert!(parse_umask("umask", "").is_err());
        assert!(parse_umask("umask", "-1").is_err());
        assert!(parse_umask("umask", "abc").unwrap_err().contains("octal"));
    }
}
