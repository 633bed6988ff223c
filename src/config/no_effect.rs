//! The directives mod_wsgi_rs accepts without acting on them: the argument
//! checks (the same values mod_wsgi accepts, so a configuration written for
//! mod_wsgi passes configtest and a typo still fails it) and the reason
//! logged once at start-up ("NAME has no effect in mod_wsgi_rs: WHY").
//! Rows of `super::directives::DIRECTIVES` point here.

use super::values::{flag, one_arg};

/// Any single argument.
pub(crate) fn any_one(args: &[&str]) -> Result<(), String> {
    one_arg(args).map(drop)
}

/// A single On / Off argument.
pub(crate) fn on_off(args: &[&str]) -> Result<(), String> {
    flag(args).map(drop)
}

/// `WSGIAcceptMutex default|flock|fcntl|sysvsem|posixsem|pthread` (the
/// mechanisms APR has on Linux, as mod_wsgi lists them).
pub(crate) fn accept_mutex(args: &[&str]) -> Result<(), String> {
    const MECHANISMS: &[&str] = &[
        "default", "flock", "fcntl", "sysvsem", "posixsem", "pthread",
    ];
    let v = one_arg(args)?;
    if MECHANISMS.iter().any(|m| m.eq_ignore_ascii_case(v)) {
        Ok(())
    } else {
        Err(format!(
            "unknown accept mutex mechanism '{v}'; valid mechanisms are: {}",
            MECHANISMS.join(", ")
        ))
    }
}

/// `<WSGIInterpreterOptions [process-group=NAME] [application-group=NAME]>`:
/// Apache hands the section's arguments with the closing `>` on the last
/// one (or alone).
pub(crate) fn interpreter_options(args: &[&str]) -> Result<(), String> {
    let joined = args.join(" ");
    let Some(inner) = joined.trim_end().strip_suffix('>') else {
        return Err("<WSGIInterpreterOptions> directive missing closing '>'".to_string());
    };
    let mut seen = Vec::new();
    for word in inner.split_whitespace() {
        let Some((key, _)) = word.split_once('=') else {
            return Err(format!(
                "argument '{word}' is not of the form key=value (process-group=NAME or application-group=NAME)"
            ));
        };
        let key = key.to_ascii_lowercase();
        if key != "process-group" && key != "application-group" {
            return Err(format!(
                "unknown selector '{key}', expected process-group or application-group"
            ));
        }
        if seen.contains(&key) {
            return Err(format!("{key} given more than once"));
        }
        seen.push(key);
    }
    Ok(())
}

/// `WSGITelemetryService unix:/path [interval=N]` (N at least 0.5).
pub(crate) fn telemetry_service(args: &[&str]) -> Result<(), String> {
    let target = args.first().copied().unwrap_or("");
    if !target.starts_with("unix:") || target.len() == 5 {
        return Err(format!(
            "the target must be 'unix:/path' (got '{target}'; remote 'udp:host:port' targets are not supported)"
        ));
    }
    if let Some(arg) = args.get(1) {
        let Some(v) = arg.strip_prefix("interval=") else {
            return Err(format!(
                "the second argument must be 'interval=N' (seconds), got '{arg}'"
            ));
        };
        match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.5 => {}
            _ => {
                return Err(format!(
                    "invalid interval '{v}': expected a number of seconds of at least 0.5"
                ))
            }
        }
    }
    Ok(())
}

/// `WSGISlowRequests SECONDS` (non-negative).
pub(crate) fn slow_requests(args: &[&str]) -> Result<(), String> {
    let v = one_arg(args)?;
    match v.trim().parse::<f64>() {
        Ok(n) if n.is_finite() && n >= 0.0 => Ok(()),
        _ => Err(format!(
            "invalid threshold '{v}': expected a non-negative number of seconds, such as 2.5"
        )),
    }
}

/// `WSGITelemetryOptions [+|-]Flag ... | None | All` (the one flag is
/// CaptureUserAgent; +/- and absolute names may not be mixed).
pub(crate) fn telemetry_options(args: &[&str]) -> Result<(), String> {
    if args.is_empty() {
        return Err("at least one flag is required (CaptureUserAgent, None or All)".to_string());
    }
    let (mut incremental, mut absolute) = (false, false);
    for token in args {
        let (signed, name) = match token.strip_prefix(['+', '-']) {
            Some(rest) => (true, rest),
            None => (false, *token),
        };
        if signed && name.is_empty() {
            return Err("a bare '+' / '-' is not a flag".to_string());
        }
        incremental |= signed;
        absolute |= !signed;
        if incremental && absolute {
            return Err("cannot mix the +/- form with absolute names in one directive".to_string());
        }
        let pseudo = name.eq_ignore_ascii_case("None") || name.eq_ignore_ascii_case("All");
        if pseudo && signed {
            return Err(format!("'{name}' may not have a +/- prefix"));
        }
        if !pseudo && !name.eq_ignore_ascii_case("CaptureUserAgent") {
            return Err(format!(
                "unknown flag '{name}'; the flags are CaptureUserAgent, None and All"
            ));
        }
    }
    Ok(())
}

/// True for `On` (for rows whose start-up line is due only when a feature
/// is switched on).
pub(crate) fn is_on(args: &[&str]) -> bool {
    flag(args).unwrap_or(false)
}

// --- the reasons, as logged at start-up ---

pub(crate) const ACCEPT_MUTEX: &str =
    "daemon processes have no accept mutex: their idle threads wait \
     on one epoll set and the kernel hands each connection to one of them";
pub(crate) const SOCKET_ROTATION: &str = "a daemon group's socket keeps one path across graceful \
     restarts (as with Off), so Apache children of the older generation reach the new daemons";
pub(crate) const DESTROY_INTERPRETER: &str = "the interpreter is not finalised when its process \
     exits (as with Off): it ends with the process";
pub(crate) const PER_INTERPRETER_GIL: &str =
    "applications run in their process's main interpreter \
     (no sub-interpreters), so there is no per-interpreter GIL to enable; use daemon process \
     groups to separate applications";
pub(crate) const INTERPRETER_OPTIONS: &str =
    "applications run in their process's main interpreter \
     (no sub-interpreters), so per-interpreter options do not apply and the directives inside \
     the section are not used; set WSGIPythonPath / WSGISwitchInterval or the \
     WSGIDaemonProcess options python-path= / switch-interval= instead";
pub(crate) const FREE_THREADING: &str = "this build of Python is not free-threaded (PEP 703), and \
     mod_wsgi_rs does not support free-threaded builds: the GIL stays on";
pub(crate) const CASE_SENSITIVITY: &str = "script file names are used as written, as with On \
     (Linux file systems are case-sensitive); Off, meant for case-insensitive file systems, \
     would lower-case them for module names and %{RESOURCE}";
pub(crate) const GROUP_AUTHORITATIVE: &str =
    "on Apache 2.4 (as in mod_wsgi 6.1) Require lines are \
     combined by <RequireAny>/<RequireAll>, not by provider authority: put `Require wsgi-group` \
     in a <RequireAny> with the other providers";
pub(crate) const PASS_APACHE_REQUEST: &str =
    "the raw apache.request_rec capsule is not put in the \
     environ: it is only usable by C extensions built against Apache's headers, and only in \
     embedded mode";
pub(crate) const TELEMETRY_SERVICE: &str =
    "there is no telemetry reporter (mod_wsgi 6.1's push of \
     metrics to a UNIX socket); scrape the wsgi-metrics handler (Prometheus) or Apache's \
     mod_status instead";
pub(crate) const SLOW_REQUESTS: &str =
    "there is no telemetry reporter to send slow-request records \
     to (see WSGITelemetryService); request-timeout= still ends stuck requests";
pub(crate) const TELEMETRY_OPTIONS: &str =
    "there is no telemetry reporter whose capture these options would select";
pub(crate) const LAZY_INITIALIZATION: &str = "removed in mod_wsgi 6.0: Python always starts after \
     fork, in Apache children and daemon processes (as with On)";
pub(crate) const VERBOSE_DEBUGGING: &str =
    "there are no extra debugging messages to switch on; use Apache's LogLevel instead";
pub(crate) const NEW_RELIC: &str = "removed in mod_wsgi 6.0 (built-in New Relic agent set-up); \
     initialise the agent in the WSGI script instead (newrelic.agent.initialize)";
