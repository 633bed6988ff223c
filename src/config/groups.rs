//! Application groups (which Python interpreter) and process groups (which
//! daemon process group, or embedded) as written in `WSGIApplicationGroup`,
//! `WSGIProcessGroup` and the `application-group=` / `process-group=`
//! options, and their per-request expansion with mod_wsgi's rules.

use std::borrow::Cow;
use std::fmt;

/// An application group specification.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AppGroup {
    /// `%{GLOBAL}` (or the empty string): the main interpreter, named `""`.
    Global,
    /// `%{RESOURCE}`: `host[:port]|SCRIPT_NAME` (mod_wsgi's default).
    Resource,
    /// `%{SERVER}`: `server_hostname[:port]`.
    Server,
    /// `%{HOST}`: the request's host name (from the `Host` header)
    /// `[:port]`.
    Host,
    /// `%{ENV:name}`: the value of a request environment variable.
    Env(String),
    /// Any other text: used as the interpreter name as is.
    Literal(String),
}

/// A process group specification.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum ProcessGroup {
    /// `%{GLOBAL}` (or the empty string): embedded mode, in the Apache
    /// child processes.
    Global,
    /// `%{ENV:name}`: the value of a request environment variable.
    Env(String),
    /// The name of a `WSGIDaemonProcess` group.
    Named(String),
}

/// What `%{…}` a specification may use, for error messages.
const APP_VARIABLES: &[&str] = &["%{GLOBAL}", "%{RESOURCE}", "%{SERVER}", "%{HOST}", "%{ENV:"];

/// Splits `%{ENV:name}` into `name`; `Err` for a malformed ENV reference.
fn env_reference(s: &str) -> Option<Result<&str, String>> {
    let rest = s.strip_prefix("%{ENV:")?;
    let Some(name) = rest.strip_suffix('}') else {
        return Some(Err(format!(
            "'{s}' is missing its closing '}}': write %{{ENV:NAME}}"
        )));
    };
    if name.is_empty() || name.contains(['{', '}']) || name.chars().any(char::is_whitespace) {
        return Some(Err(format!(
            "'{s}' does not name an environment variable: write %{{ENV:NAME}}"
        )));
    }
    Some(Ok(name))
}

fn unknown_variable(s: &str, allowed: &[&str]) -> String {
    let upper = s.to_ascii_uppercase();
    let hint = allowed
        .iter()
        .find(|a| {
            if a.ends_with(':') {
                upper.starts_with(*a)
            } else {
                upper == **a
            }
        })
        .map(|a| {
            if a.ends_with(':') {
                " (variable names are case-sensitive: write %{ENV:NAME})".to_string()
            } else {
                format!(" (did you mean '{a}'? variable names are case-sensitive)")
            }
        });
    let list = allowed
        .iter()
        .map(|a| {
            if a.ends_with(':') {
                "%{ENV:NAME}".to_string()
            } else {
                a.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    match hint {
        Some(h) => format!("unknown variable '{s}'{h}"),
        None => format!("unknown variable '{s}': expected one of {list}, or a plain name"),
    }
}

/// Parses an application group specification: `%{GLOBAL}`, `%{RESOURCE}`,
/// `%{SERVER}`, `%{HOST}`, `%{ENV:name}` or a literal name. The empty
/// string means `%{GLOBAL}`, as in mod_wsgi. Any other `%{…}` is an error.
pub(crate) fn parse_application_group(s: &str) -> Result<AppGroup, String> {
    match s {
        "" | "%{GLOBAL}" => return Ok(AppGroup::Global),
        "%{RESOURCE}" => return Ok(AppGroup::Resource),
        "%{SERVER}" => return Ok(AppGroup::Server),
        "%{HOST}" => return Ok(AppGroup::Host),
        _ => {}
    }
    if let Some(r) = env_reference(s) {
        return r.map(|name| AppGroup::Env(name.to_string()));
    }
    if s.starts_with("%{") {
        return Err(unknown_variable(s, APP_VARIABLES));
    }
    Ok(AppGroup::Literal(s.to_string()))
}

/// Parses a process group specification: `%{GLOBAL}` or `""` (embedded),
/// `%{ENV:name}`, or a daemon process group name. Any other `%{…}` is an
/// error.
pub(crate) fn parse_process_group(s: &str) -> Result<ProcessGroup, String> {
    match s {
        "" | "%{GLOBAL}" => return Ok(ProcessGroup::Global),
        "%{RESOURCE}" | "%{SERVER}" | "%{HOST}" => {
            return Err(format!(
                "'{s}' can only be used for an application group; a process group is %{{GLOBAL}}, %{{ENV:NAME}} or the name of a WSGIDaemonProcess"
            ))
        }
        _ => {}
    }
    if let Some(r) = env_reference(s) {
        return r.map(|name| ProcessGroup::Env(name.to_string()));
    }
    if s.starts_with("%{") {
        return Err(unknown_variable(s, &["%{GLOBAL}", "%{ENV:"]));
    }
    Ok(ProcessGroup::Named(s.to_string()))
}

impl fmt::Display for AppGroup {
    /// The configuration syntax (`%{RESOURCE}`, `%{ENV:X}`, `name`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppGroup::Global => f.write_str("%{GLOBAL}"),
            AppGroup::Resource => f.write_str("%{RESOURCE}"),
            AppGroup::Server => f.write_str("%{SERVER}"),
            AppGroup::Host => f.write_str("%{HOST}"),
            AppGroup::Env(n) => write!(f, "%{{ENV:{n}}}"),
            AppGroup::Literal(s) => f.write_str(s),
        }
    }
}

impl fmt::Display for ProcessGroup {
    /// The configuration syntax (`%{GLOBAL}`, `%{ENV:X}`, `name`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessGroup::Global => f.write_str("%{GLOBAL}"),
            ProcessGroup::Env(n) => write!(f, "%{{ENV:{n}}}"),
            ProcessGroup::Named(s) => f.write_str(s),
        }
    }
}

impl AppGroup {
    /// True when the name does not depend on the request (`%{GLOBAL}` or a
    /// literal), so a script can be preloaded into it at process start.
    pub(crate) fn is_static(&self) -> bool {
        matches!(self, AppGroup::Global | AppGroup::Literal(_))
    }
}

impl ProcessGroup {
    /// True when the group does not depend on the request.
    pub(crate) fn is_static(&self) -> bool {
        !matches!(self, ProcessGroup::Env(_))
    }
}

/// What a request provides for expanding an application group.
pub(crate) struct GroupContext<'a> {
    /// The virtual host's `ServerName` (`r->server->server_hostname`).
    pub(crate) server_hostname: &'a str,
    /// The port as `ap_get_server_port(r)` gives it (with the default
    /// `UseCanonicalName Off` that is the port of the `Host` header when it
    /// has one).
    pub(crate) port: u16,
    /// The `Host` header (or `r->hostname`), if any; a port in it is
    /// ignored in favour of `port`, as mod_wsgi uses `r->hostname`.
    pub(crate) host_header: Option<&'a str>,
    /// The mount point (SCRIPT_NAME) as mod_wsgi computes it for
    /// `%{RESOURCE}`.
    pub(crate) script_name: &'a str,
    /// Looks up a request variable for `%{ENV:name}` (mod_wsgi looks in
    /// `r->notes`, then `r->subprocess_env`, then the process environment).
    pub(crate) env: &'a dyn Fn(&str) -> Option<String>,
}

fn with_port(host: &str, port: u16) -> String {
    if port == 80 || port == 443 {
        host.to_string()
    } else {
        format!("{host}:{port}")
    }
}

/// The host part of a `Host` header: lower-cased, without a port or a
/// trailing dot; IPv6 literals keep their brackets.
fn host_without_port(h: &str) -> String {
    let h = h.trim();
    let host = if h.starts_with('[') {
        match h.find(']') {
            Some(end) => &h[..=end],
            None => h,
        }
    } else {
        match h.rfind(':') {
            Some(i) if h[i + 1..].bytes().all(|b| b.is_ascii_digit()) => &h[..i],
            _ => h,
        }
    };
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

fn server_name(cx: &GroupContext) -> String {
    with_port(cx.server_hostname, cx.port)
}

fn host_name(cx: &GroupContext) -> String {
    let host = cx.host_header.map(host_without_port).unwrap_or_default();
    if host.is_empty() {
        with_port(cx.server_hostname, cx.port)
    } else {
        with_port(&host, cx.port)
    }
}

/// The interpreter name for a request, by mod_wsgi's rules:
/// - `%{GLOBAL}` → `""`;
/// - `%{SERVER}` → `server_hostname`, plus `:port` unless the port is 80 or
///   443;
/// - `%{RESOURCE}` → `%{SERVER}|SCRIPT_NAME`;
/// - `%{HOST}` → the `Host` header's host (lower-cased), or
///   `server_hostname` when absent or empty, with the same port rule;
/// - `%{ENV:x}` → the variable's value (an unset variable gives `""`); a
///   value that is itself one of the `%{…}` forms above (other than
///   `%{ENV:…}`) is expanded in turn, as mod_wsgi does;
/// - a literal → itself.
pub(crate) fn expand_application_group(g: &AppGroup, cx: &GroupContext) -> String {
    match g {
        AppGroup::Global => String::new(),
        AppGroup::Server => server_name(cx),
        AppGroup::Resource => format!("{}|{}", server_name(cx), cx.script_name),
        AppGroup::Host => host_name(cx),
        AppGroup::Literal(s) => s.clone(),
        AppGroup::Env(name) => match (cx.env)(name) {
            None => String::new(),
            Some(v) => {
                if v.starts_with('%') && !v.starts_with("%{ENV:") {
                    match parse_application_group(&v) {
                        Ok(inner) if !matches!(inner, AppGroup::Env(_)) => {
                            expand_application_group(&inner, cx)
                        }
                        _ => v,
                    }
                } else {
                    v
                }
            }
        },
    }
}

/// The daemon process group a request goes to; `None` means embedded mode.
///
/// `%{ENV:x}` takes the variable's value (empty or `%{GLOBAL}` → embedded).
/// When the variable is unset the result is the literal text `%{ENV:x}`,
/// as in mod_wsgi: no daemon group has that name, so the request fails
/// with a clear "no such daemon process group" error instead of silently
/// running embedded.
/// Borrowed from `g` when it names the group (no copy per request).
pub(crate) fn resolve_process_group<'a>(
    g: &'a ProcessGroup,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<Cow<'a, str>> {
    match g {
        ProcessGroup::Global => None,
        ProcessGroup::Named(n) if n.is_empty() => None,
        ProcessGroup::Named(n) => Some(Cow::Borrowed(n)),
        ProcessGroup::Env(name) => match env(name) {
            None => Some(Cow::Owned(format!("%{{ENV:{name}}}"))),
            Some(v) if v.is_empty() || v == "%{GLOBAL}" => None,
            Some(v) => Some(Cow::Owned(v)),
        },
    }
}

/// The callable object name for a request: `WSGICallableObject` /
/// `callable-object=` may be `%{ENV:x}` in mod_wsgi; an unset variable (or
/// any other `%…` form) gives `application`. Borrowed from `spec` where
/// it is a plain name.
pub(crate) fn expand_callable_object<'a>(
    spec: &'a str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Cow<'a, str> {
    if !spec.starts_with('%') {
        return Cow::Borrowed(spec);
    }
    if let Some(Ok(name)) = env_reference(spec) {
        if let Some(v) = env(name) {
            return Cow::Owned(v);
        }
    }
    Cow::Borrowed("application")
}

/// Parses `WSGIRestrictProcess group…`: the daemon process groups a
/// context may select. `%{GLOBAL}` (embedded mode) is stored as `""`, as
/// mod_wsgi does.
pub(crate) fn parse_restrict_process(args: &[&str]) -> Result<Vec<String>, String> {
    if args.is_empty() {
        return Err(
            "needs at least one process group name (or %{GLOBAL} for embedded mode)".to_string(),
        );
    }
    args.iter()
        .map(|a| match *a {
            "%{GLOBAL}" | "" => Ok(String::new()),
            s if s.starts_with("%{") => Err(format!(
                "'{s}' cannot be used here: list daemon process group names, or %{{GLOBAL}} for embedded mode"
            )),
            s => Ok(s.to_string()),
        })
        .collect()
}

/// Whether a request may use the resolved process group (`None` =
/// embedded) under `WSGIRestrictProcess` (`None` = no restriction).
pub(crate) fn process_group_permitted(restrict: Option<&[String]>, group: Option<&str>) -> bool {
    match restrict {
        None => true,
        Some(list) => {
            let g = group.unwrap_or("");
            list.iter().any(|r| r == g)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn cx<'a>(
        host: &'a str,
        port: u16,
        header: Option<&'a str>,
        script: &'a str,
        env: &'a dyn Fn(&str) -> Option<String>,
    ) -> GroupContext<'a> {
        GroupContext {
            server_hostname: host,
            port,
            host_header: header,
            script_name: script,
            env,
        }
    }

    #[test]
    fn parse_app_groups() {
        assert_eq!(parse_application_group("%{GLOBAL}"), Ok(AppGroup::Global));
        assert_eq!(parse_application_group(""), Ok(AppGroup::Global));
        assert_eq!(
            parse_application_group("%{RESOURCE}"),
            Ok(AppGroup::Resource)
        );
        assert_eq!(parse_application_group("%{SERVER}"), Ok(AppGroup::Server));
        assert_eq!(parse_application_group("%{HOST}"), Ok(AppGroup::Host));
        assert_eq!(
            parse_application_group("%{ENV:APP}"),
            Ok(AppGroup::Env("APP".into()))
        );
        assert_eq!(
            parse_application_group("myapp"),
            Ok(AppGroup::Literal("myapp".into()))
        );
        assert_eq!(
            parse_application_group("a|b:c"),
            Ok(AppGroup::Literal("a|b:c".into()))
        );
        // A '%' that does not start a %{...} variable is literal text.
        assert_eq!(
            parse_application_group("%percent"),
            Ok(AppGroup::Literal("%percent".into()))
        );
        assert_eq!(
            parse_application_group("x%{GLOBAL}"),
            Ok(AppGroup::Literal("x%{GLOBAL}".into()))
        );
    }

    #[test]
    fn parse_app_group_errors() {
        let e = parse_application_group("%{FOO}").unwrap_err();
        assert!(e.contains("unknown variable '%{FOO}'"), "{e}");
        assert!(e.contains("%{RESOURCE}"), "{e}");
        let e = parse_application_group("%{global}").unwrap_err();
        assert!(e.contains("did you mean '%{GLOBAL}'"), "{e}");
        let e = parse_application_group("%{env:X}").unwrap_err();
        assert!(e.contains("%{ENV:NAME}"), "{e}");
        let e = parse_application_group("%{ENV:X").unwrap_err();
        assert!(e.contains("closing"), "{e}");
        let e = parse_application_group("%{ENV:}").unwrap_err();
        assert!(e.contains("does not name"), "{e}");
        assert!(parse_application_group("%{ENV:a b}").is_err());
        assert!(parse_application_group("%{").is_err());
    }

    #[test]
    fn parse_process_groups() {
        assert_eq!(parse_process_group("%{GLOBAL}"), Ok(ProcessGroup::Global));
        assert_eq!(parse_process_group(""), Ok(ProcessGroup::Global));
        assert_eq!(
            parse_process_group("%{ENV:PG}"),
            Ok(ProcessGroup::Env("PG".into()))
        );
        assert_eq!(
            parse_process_group("bob:1"),
            Ok(ProcessGroup::Named("bob:1".into()))
        );
        let e = parse_process_group("%{RESOURCE}").unwrap_err();
        assert!(e.contains("only be used for an application group"), "{e}");
        assert!(parse_process_group("%{SERVER}").is_err());
        assert!(parse_process_group("%{HOST}").is_err());
        let e = parse_process_group("%{NOPE}").unwrap_err();
        assert!(e.contains("unknown variable"), "{e}");
        assert!(parse_process_group("%{ENV:}").is_err());
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "%{GLOBAL}",
            "%{RESOURCE}",
            "%{SERVER}",
            "%{HOST}",
            "%{ENV:X}",
            "lit",
        ] {
            assert_eq!(parse_application_group(s).unwrap().to_string(), s);
        }
        for s in ["%{GLOBAL}", "%{ENV:X}", "name"] {
            assert_eq!(parse_process_group(s).unwrap().to_string(), s);
        }
    }

    #[test]
    fn static_groups() {
        assert!(AppGroup::Global.is_static());
        assert!(AppGroup::Literal("x".into()).is_static());
        assert!(!AppGroup::Resource.is_static());
        assert!(!AppGroup::Server.is_static());
        assert!(!AppGroup::Host.is_static());
        assert!(!AppGroup::Env("x".into()).is_static());
        assert!(ProcessGroup::Global.is_static());
        assert!(ProcessGroup::Named("x".into()).is_static());
        assert!(!ProcessGroup::Env("x".into()).is_static());
    }

    #[test]
    fn expand_global_literal_server_resource() {
        let c = cx("www.example.com", 80, None, "/app", &no_env);
        assert_eq!(expand_application_group(&AppGroup::Global, &c), "");
        assert_eq!(
            expand_application_group(&AppGroup::Literal("x".into()), &c),
            "x"
        );
        assert_eq!(
            expand_application_group(&AppGroup::Server, &c),
            "www.example.com"
        );
        assert_eq!(
            expand_application_group(&AppGroup::Resource, &c),
            "www.example.com|/app"
        );
        let c = cx("www.example.com", 443, None, "", &no_env);
        assert_eq!(
            expand_application_group(&AppGroup::Resource, &c),
            "www.example.com|"
        );
        let c = cx("www.example.com", 8080, None, "/app", &no_env);
        assert_eq!(
            expand_application_group(&AppGroup::Server, &c),
            "www.example.com:8080"
        );
        assert_eq!(
            expand_application_group(&AppGroup::Resource, &c),
            "www.example.com:8080|/app"
        );
    }

    #[test]
    fn expand_host() {
        let c = cx("srv", 80, Some("WWW.Example.COM"), "/", &no_env);
        assert_eq!(
            expand_application_group(&AppGroup::Host, &c),
            "www.example.com"
        );
        let c = cx("srv", 8000, Some("Example.com:8000"), "/", &no_env);
        assert_eq!(
            expand_application_group(&AppGroup::Host, &c),
            "example.com:8000"
        );
        // The port comes from the server port, not the header.
        let c = cx("srv", 443, Some("example.com:443"), "/", &no_env);
        assert_eq!(expand_application_group(&AppGroup::Host, &c), "example.com");
        let c = cx("srv", 8080, Some("example.com"), "/", &no_env);
        assert_eq!(
            expand_application_group(&AppGroup::Host, &c),
            "example.com:8080"
        );
        let c = cx("srv", 80, Some("example.com."), "/", &no_env);
        assert_eq!(expand_application_group(&AppGroup::Host, &c), "example.com");
        let c = cx("srv", 8080, Some("[::1]:8080"), "/", &no_env);
        assert_eq!(expand_application_group(&AppGroup::Host, &c), "[::1]:8080");
        let c = cx("srv", 80, Some("[::1]"), "/", &no_env);
        assert_eq!(expand_application_group(&AppGroup::Host, &c), "[::1]");
        // Absent or empty Host header: the server name.
        let c = cx("srv", 80, None, "/", &no_env);
        assert_eq!(expand_application_group(&AppGroup::Host, &c), "srv");
        let c = cx("srv", 81, Some(""), "/", &no_env);
        assert_eq!(expand_application_group(&AppGroup::Host, &c), "srv:81");
    }

    #[test]
    fn expand_env() {
        let env = |k: &str| match k {
            "APP" => Some("myapp".to_string()),
            "G" => Some("%{GLOBAL}".to_string()),
            "R" => Some("%{RESOURCE}".to_string()),
            "E" => Some("%{ENV:APP}".to_string()),
            "P" => Some("%weird".to_string()),
            "BAD" => Some("%{NOPE}".to_string()),
            _ => None,
        };
        let c = cx("h", 80, None, "/s", &env);
        let g = |n: &str| expand_application_group(&AppGroup::Env(n.into()), &c);
        assert_eq!(g("APP"), "myapp");
        assert_eq!(g("UNSET"), "");
        assert_eq!(g("G"), "");
        assert_eq!(g("R"), "h|/s");
        // No ENV-in-ENV recursion, as mod_wsgi.
        assert_eq!(g("E"), "%{ENV:APP}");
        assert_eq!(g("P"), "%weird");
        assert_eq!(g("BAD"), "%{NOPE}");
    }

    #[test]
    fn resolve_process_groups() {
        let env = |k: &str| match k {
            "PG" => Some("daemon1".to_string()),
            "EMPTY" => Some(String::new()),
            "G" => Some("%{GLOBAL}".to_string()),
            _ => None,
        };
        assert_eq!(resolve_process_group(&ProcessGroup::Global, &env), None);
        assert_eq!(
            resolve_process_group(&ProcessGroup::Named("d".into()), &env),
            Some("d".into())
        );
        assert_eq!(
            resolve_process_group(&ProcessGroup::Named(String::new()), &env),
            None
        );
        assert_eq!(
            resolve_process_group(&ProcessGroup::Env("PG".into()), &env),
            Some("daemon1".into())
        );
        assert_eq!(
            resolve_process_group(&ProcessGroup::Env("EMPTY".into()), &env),
            None
        );
        assert_eq!(
            resolve_process_group(&ProcessGroup::Env("G".into()), &env),
            None
        );
        assert_eq!(
            resolve_process_group(&ProcessGroup::Env("UNSET".into()), &env),
            Some("%{ENV:UNSET}".into())
        );
    }

    #[test]
    fn restrict_process() {
        assert_eq!(
            parse_restrict_process(&["a", "%{GLOBAL}", "b:1"]).unwrap(),
            vec!["a", "", "b:1"]
        );
        assert!(parse_restrict_process(&[])
            .unwrap_err()
            .contains("at least one"));
        assert!(parse_restrict_process(&["%{ENV:X}"])
            .unwrap_err()
            .contains("cannot be used"));
        let list = vec!["a".to_string(), String::new()];
        assert!(process_group_permitted(None, Some("x")));
        assert!(process_group_permitted(None, None));
        assert!(process_group_permitted(Some(&list), Some("a")));
        assert!(process_group_permitted(Some(&list), None));
        assert!(!process_group_permitted(Some(&list), Some("b")));
        let only_a = vec!["a".to_string()];
        assert!(!process_group_permitted(Some(&only_a), None));
        assert!(!process_group_permitted(Some(&[]), Some("a")));
    }

    #[test]
    fn callable_objects() {
        let env = |k: &str| (k == "CO").then(|| "app".to_string());
        assert_eq!(expand_callable_object("application", &env), "application");
        assert_eq!(expand_callable_object("main", &env), "main");
        assert_eq!(expand_callable_object("%{ENV:CO}", &env), "app");
        assert_eq!(expand_callable_object("%{ENV:NO}", &env), "application");
        assert_eq!(expand_callable_object("%{FOO}", &env), "application");
        assert_eq!(expand_callable_object("%", &env), "application");
    }
}
