//! The directive table: one row per mod_wsgi directive, saying where it may
//! appear, how many arguments it takes and what applies it. This is the
//! only place a directive's name is written: the Apache glue
//! (src/httpd/directives.rs) builds its command table from `DIRECTIVES` and
//! calls [`apply_server`] / [`apply_dir`], which dispatch on the row's
//! [`Action`].
//!
//! Adding a directive is one row here plus, unless it is an On/Off flag or
//! has no effect, its setter method on [`ServerConfig`] or [`DirConfig`].
//! The argument checks and reasons of the rows without effect are in
//! [`super::no_effect`].

use super::dir::DirConfig;
use super::no_effect::{self as why, any_one, on_off};
use super::server::ServerConfig;
use super::values::flag;

/// Where a directive may appear (mod_wsgi's contexts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Context {
    /// Main server config only (not in a virtual host).
    Global,
    /// Server config and virtual hosts.
    Server,
    /// Server, virtual host, `<Directory>`/`<Location>`.
    Directory,
    /// As `Directory`, and in .htaccess (with AllowOverride FileInfo).
    Htaccess,
    /// `<Directory>`/`<Location>` and .htaccess (AllowOverride AuthConfig).
    Auth,
}

impl Context {
    /// Which configuration structure Apache hands a directive of this
    /// context: the server's for server-only contexts, else the
    /// per-directory one (at server level, the server's default dir config).
    pub(crate) const fn scope(self) -> Scope {
        match self {
            Context::Global | Context::Server => Scope::Server,
            Context::Directory | Context::Htaccess | Context::Auth => Scope::Dir,
        }
    }
}

/// Which configuration structure a directive writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scope {
    Server,
    Dir,
}

/// Sets a server-configuration value from the (arity-checked) arguments.
pub(crate) type ServerSetter = fn(&mut ServerConfig, &[&str]) -> Result<(), String>;
/// Sets a per-directory value from the (arity-checked) arguments.
pub(crate) type DirSetter = fn(&mut DirConfig, &[&str]) -> Result<(), String>;
/// Checks the arguments of a directive that stores nothing.
pub(crate) type ArgsCheck = fn(&[&str]) -> Result<(), String>;

/// What applying a directive does.
#[derive(Clone, Copy)]
pub(crate) enum Action {
    /// Runs a setter on the server configuration (context Global / Server).
    Server(ServerSetter),
    /// An On/Off directive: stores the flag in this server-config field.
    ServerFlag(fn(&mut ServerConfig) -> &mut Option<bool>),
    /// Runs a setter on the server configuration, which stores the value
    /// for the code that will use it; while nothing acts on it (at all, or
    /// for these arguments) `note` gives the reason, and the Apache glue
    /// logs "NAME has no effect in mod_wsgi_rs: WHY" once at start-up.
    ServerNoted {
        set: ServerSetter,
        note: fn(&[&str]) -> Option<&'static str>,
    },
    /// Runs a setter on the per-directory configuration (context
    /// Directory / Htaccess / Auth).
    Dir(DirSetter),
    /// An On/Off directive: stores the flag in this per-directory field.
    DirFlag(fn(&mut DirConfig) -> &mut Option<bool>),
    /// Accepted, but does nothing in mod_wsgi_rs (it cannot apply by this
    /// module's design, or mod_wsgi removed it): the arguments are checked
    /// as mod_wsgi checks them, nothing is stored, and the Apache glue logs
    /// "NAME has no effect in mod_wsgi_rs: WHY" once at start-up, unless
    /// the value is `unless`. Nothing is accepted silently.
    NoEffect {
        check: ArgsCheck,
        why: &'static str,
        /// The value (compared case-insensitively) with which mod_wsgi
        /// behaves as mod_wsgi_rs always does: then there is nothing to
        /// log.
        unless: Option<&'static str>,
    },
    /// Refused at configuration time: "NAME is not supported by mod_wsgi_rs
    /// yet; INSTEAD instead of NAME" (accepting and ignoring it would be
    /// unsafe, e.g. an access-control directive would leave a site open).
    // No row refuses today; kept for a directive that cannot work here and
    // must not be ignored (a security control fails configtest instead).
    #[allow(dead_code)]
    Refused { instead: &'static str },
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Server(_) => f.write_str("Server"),
            Action::ServerFlag(_) => f.write_str("ServerFlag"),
            Action::ServerNoted { .. } => f.write_str("ServerNoted"),
            Action::Dir(_) => f.write_str("Dir"),
            Action::DirFlag(_) => f.write_str("DirFlag"),
            Action::NoEffect { why, .. } => f.debug_struct("NoEffect").field("why", why).finish(),
            Action::Refused { instead } => {
                f.debug_struct("Refused").field("instead", instead).finish()
            }
        }
    }
}

/// A check the Apache glue makes on the arguments before the action runs,
/// with facilities only Apache has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GlueCheck {
    None,
    /// The first argument is a regular expression: compile it with Apache's
    /// own regex engine (the one that will match requests).
    ApacheRegex,
}

#[derive(Debug)]
pub struct Directive {
    pub name: &'static str,
    /// `name` as a C string, for Apache's command table.
    pub(crate) c_name: &'static std::ffi::CStr,
    /// `help` as a C string (Apache shows it in arity errors).
    pub(crate) c_help: &'static std::ffi::CStr,
    pub(crate) context: Context,
    pub(crate) min_args: usize,
    pub(crate) max_args: usize,
    pub(crate) help: &'static str,
    pub(crate) action: Action,
    pub(crate) glue_check: GlueCheck,
}

impl Directive {
    /// The configuration structure this directive is applied to (see
    /// [`Context::scope`]).
    pub(crate) const fn scope(&self) -> Scope {
        self.context.scope()
    }
}

const MANY: usize = usize::MAX;

const fn cstr(s: &'static str) -> &'static std::ffi::CStr {
    match std::ffi::CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("directive strings must not contain NUL"),
    }
}

macro_rules! glue_check {
    () => {
        GlueCheck::None
    };
    ($check:ident) => {
        GlueCheck::$check
    };
}

/// Rows: `name, context, min args, max args, action [, glue check], help;`
macro_rules! directives {
    ($( $name:literal, $ctx:ident, $min:expr, $max:expr, $action:expr, $(+$check:ident,)? $help:literal; )*) => {
        pub const DIRECTIVES: &[Directive] = &[$(Directive {
            name: $name,
            c_name: cstr(concat!($name, "\0")),
            c_help: cstr(concat!($help, "\0")),
            context: Context::$ctx,
            min_args: $min,
            max_args: $max,
            help: $help,
            action: $action,
            glue_check: glue_check!($($check)?),
        }),*];
    };
}

// Short names for the rows below (the second column is a `Context`, the
// fifth an `Action`).
use Action::{Dir, DirFlag, NoEffect, Server, ServerFlag, ServerNoted};
type S = ServerConfig;
type D = DirConfig;

directives! {
    "WSGIScriptAlias", Server, 2, MANY, Server(S::add_script_alias), "URL-path, script file, then options such as process-group=NAME";
    "WSGIScriptAliasMatch", Server, 2, MANY, Server(S::add_script_alias_match), +ApacheRegex, "URL regex, script file with $1.. substitutions, then options";
    "WSGIImportScript", Server, 1, MANY, Server(S::add_import_script), "script file, process-group=NAME application-group=NAME";
    "WSGIDaemonProcess", Server, 1, MANY, Server(S::add_daemon_process), "daemon process group name, then options such as processes=N threads=N";
    "WSGIPythonHome", Global, 1, 1, Server(S::set_python_home), "the Python prefix or virtualenv to use";
    "WSGIPythonPath", Global, 1, 1, Server(S::set_python_path), "':'-separated directories added to sys.path";
    "WSGIPythonOptimize", Global, 1, 1, Server(S::set_python_optimize), "Python optimisation level, 0, 1 or 2";
    "WSGIPythonHashSeed", Global, 1, 1, Server(S::set_python_hash_seed), "'random' or a hash seed from 0 to 4294967295";
    "WSGIPythonWarnings", Global, 1, 1, Server(S::add_python_warning), "a Python warnings filter, as for python -W";
    "WSGIDontWriteBytecode", Global, 1, 1, ServerFlag(|c| &mut c.dont_write_bytecode), "On or Off: do not write .pyc files";
    "WSGIRestrictEmbedded", Global, 1, 1, ServerFlag(|c| &mut c.restrict_embedded), "On or Off: no Python in Apache child processes";
    "WSGIRestrictStdin", Global, 1, 1, ServerFlag(|c| &mut c.restrict_stdin), "On or Off: reading sys.stdin raises an error";
    "WSGIRestrictStdout", Global, 1, 1, ServerFlag(|c| &mut c.restrict_stdout), "On or Off: writing sys.stdout raises an error";
    "WSGIRestrictSignal", Global, 1, 1, ServerFlag(|c| &mut c.restrict_signal), "On or Off: signal.signal() is ignored";
    "WSGISocketPrefix", Global, 1, 1, Server(S::set_socket_prefix), "path prefix of the daemon sockets";
    "WSGIPythonEggs", Global, 1, 1, Server(S::set_python_eggs), "Python egg cache directory (PYTHON_EGG_CACHE) for embedded mode";
    "WSGISwitchInterval", Global, 1, 1, Server(S::set_switch_interval), "Python's thread switch interval in seconds (sys.setswitchinterval) for embedded mode";
    "WSGICaseSensitivity", Global, 1, 1, NoEffect { check: on_off, why: why::CASE_SENSITIVITY, unless: Some("On") }, "On or Off: whether the file system is case-sensitive";
    "WSGIServerMetrics", Global, 1, 1, Server(S::set_server_metrics), "On or Off: allow mod_wsgi.server_metrics() in embedded mode";
    "WSGIFreeThreading", Global, 1, 1, ServerNoted { set: S::set_free_threading, note: |a| why::is_on(a).then_some(why::FREE_THREADING) }, "On or Off: run Python without the GIL (free-threaded builds only)";
    "WSGIPerInterpreterGIL", Global, 1, 1, NoEffect { check: on_off, why: why::PER_INTERPRETER_GIL, unless: Some("Off") }, "On or Off: give each sub-interpreter its own GIL";
    "<WSGIInterpreterOptions", Global, 0, MANY, NoEffect { check: why::interpreter_options, why: why::INTERPRETER_OPTIONS, unless: None }, "section of options for the interpreters of process-group=NAME and/or application-group=NAME";
    "WSGIDestroyInterpreter", Global, 1, 1, NoEffect { check: on_off, why: why::DESTROY_INTERPRETER, unless: Some("Off") }, "On or Off: finalise the interpreter at process exit";
    "WSGIAcceptMutex", Global, 1, 1, NoEffect { check: why::accept_mutex, why: why::ACCEPT_MUTEX, unless: None }, "accept mutex mechanism for daemon processes";
    "WSGISocketRotation", Global, 1, 1, NoEffect { check: on_off, why: why::SOCKET_ROTATION, unless: Some("Off") }, "On or Off: a new daemon socket path at each restart";
    "WSGIVerboseDebugging", Global, 1, 1, NoEffect { check: on_off, why: why::VERBOSE_DEBUGGING, unless: Some("Off") }, "On or Off: verbose debugging messages";
    "WSGILazyInitialization", Global, 1, 1, NoEffect { check: on_off, why: why::LAZY_INITIALIZATION, unless: None }, "On or Off (removed in mod_wsgi 6.0)";
    "WSGINewRelicConfigFile", Global, 1, 1, NoEffect { check: any_one, why: why::NEW_RELIC, unless: None }, "New Relic agent configuration file (removed in mod_wsgi 6.0)";
    "WSGINewRelicEnvironment", Global, 1, 1, NoEffect { check: any_one, why: why::NEW_RELIC, unless: None }, "New Relic agent environment (removed in mod_wsgi 6.0)";
    "WSGITelemetryService", Global, 1, 2, NoEffect { check: why::telemetry_service, why: why::TELEMETRY_SERVICE, unless: None }, "unix:/path [interval=N]: push telemetry to a metrics service";
    "WSGISlowRequests", Global, 1, 1, NoEffect { check: why::slow_requests, why: why::SLOW_REQUESTS, unless: None }, "threshold in seconds for slow-request reports";
    "WSGITelemetryOptions", Global, 1, MANY, NoEffect { check: why::telemetry_options, why: why::TELEMETRY_OPTIONS, unless: None }, "[+|-]CaptureUserAgent, None or All";
    "WSGIProcessGroup", Directory, 1, 1, Dir(D::set_process_group), "daemon process group name, or %{GLOBAL} for embedded mode";
    "WSGIApplicationGroup", Directory, 1, 1, Dir(D::set_application_group), "application group: %{GLOBAL}, %{RESOURCE}, %{SERVER}, %{HOST}, %{ENV:name} or a name";
    "WSGIRestrictProcess", Directory, 1, MANY, Dir(D::set_restrict_process), "daemon process groups that may be selected here";
    "WSGIHandlerScript", Directory, 2, MANY, Dir(D::add_handler_script), "handler name, script file, then options";
    "WSGIDispatchScript", Directory, 1, MANY, Dir(D::set_dispatch_script), "dispatch script file, then application-group=NAME";
    "WSGIPassApacheRequest", Directory, 1, 1, NoEffect { check: on_off, why: why::PASS_APACHE_REQUEST, unless: Some("Off") }, "On or Off: pass the Apache request object in the environ";
    "WSGICallableObject", Htaccess, 1, 1, Dir(D::set_callable_object), "name of the WSGI application object in the script";
    "WSGIPassAuthorization", Htaccess, 1, 1, DirFlag(|c| &mut c.pass_authorization), "On or Off: pass the Authorization header as HTTP_AUTHORIZATION";
    "WSGIScriptReloading", Htaccess, 1, 1, DirFlag(|c| &mut c.script_reloading), "On or Off: reload a script when its file changes";
    "WSGIChunkedRequest", Htaccess, 1, 1, DirFlag(|c| &mut c.chunked_request), "On or Off: accept chunked request bodies";
    "WSGIMapHEADToGET", Htaccess, 1, 1, Dir(D::set_map_head_to_get), "On, Off or Auto: present HEAD requests as GET";
    "WSGIErrorOverride", Htaccess, 1, 1, DirFlag(|c| &mut c.error_override), "On or Off: let ErrorDocument replace the application's error pages";
    "WSGIEnableSendfile", Htaccess, 1, 1, DirFlag(|c| &mut c.enable_sendfile), "On or Off: use sendfile for wsgi.file_wrapper";
    "WSGIIgnoreActivity", Htaccess, 1, 1, DirFlag(|c| &mut c.ignore_activity), "On or Off: requests here do not reset a daemon's inactivity-timeout";
    "WSGIBufferRequestBody", Htaccess, 1, 1, DirFlag(|c| &mut c.buffer_request_body), "On or Off: in daemon mode, receive the whole request body before a daemon thread is taken";
    "WSGITrustedProxyHeaders", Htaccess, 1, MANY, Dir(D::add_trusted_proxy_headers), "request headers set by trusted proxies";
    "WSGITrustedProxies", Htaccess, 1, MANY, Dir(D::add_trusted_proxies), "addresses of trusted proxies";
    "WSGIAccessScript", Auth, 1, MANY, Dir(D::set_access_script), "script with allow_access(environ, host), then application-group=NAME";
    "WSGIAuthUserScript", Auth, 1, MANY, Dir(D::set_auth_user_script), "script with check_password(environ, user, password) and/or get_realm_hash(environ, user, realm), then application-group=NAME";
    "WSGIAuthGroupScript", Auth, 1, MANY, Dir(D::set_auth_group_script), "script with groups_for_user(environ, user), then application-group=NAME";
    "WSGIGroupAuthoritative", Auth, 1, 1, NoEffect { check: on_off, why: why::GROUP_AUTHORITATIVE, unless: Some("On") }, "On or Off: WSGIAuthGroupScript is authoritative for Require group";
}

/// Looks a directive up by name (case-insensitive, as Apache does).
pub(crate) fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Checks the argument count against the table.
pub(crate) fn check_arity(d: &Directive, args: &[&str]) -> Result<(), String> {
    if args.len() < d.min_args || args.len() > d.max_args {
        let count = if d.min_args == d.max_args {
            format!("exactly {}", d.min_args)
        } else if d.max_args == MANY {
            format!("at least {}", d.min_args)
        } else {
            format!("{} to {}", d.min_args, d.max_args)
        };
        return Err(format!(
            "takes {count} argument(s) ({}), got {}",
            d.help,
            args.len()
        ));
    }
    Ok(())
}

/// The row for `name`, with the argument count checked.
fn lookup(name: &str, args: &[&str]) -> Result<&'static Directive, String> {
    let d = find(name).ok_or_else(|| format!("unknown directive {name}"))?;
    check_arity(d, args)?;
    Ok(d)
}

/// The message of a [`Action::Refused`] row.
fn refusal(d: &Directive, instead: &str) -> String {
    format!(
        "is not supported by mod_wsgi_rs yet; {instead} instead of {}",
        d.name
    )
}

/// The start-up line a directive applied with `args` calls for: the reason
/// it has no effect in mod_wsgi_rs (see [`Action::NoEffect`] and
/// [`Action::ServerNoted`]), or None.
pub(crate) fn no_effect_note(d: &Directive, args: &[&str]) -> Option<&'static str> {
    match d.action {
        Action::NoEffect { why, unless, .. } => {
            let same = matches!((unless, args), (Some(u), [a]) if a.eq_ignore_ascii_case(u));
            (!same).then_some(why)
        }
        Action::ServerNoted { note, .. } => note(args),
        _ => None,
    }
}

/// Applies a server-scoped directive.
pub fn apply_server(cfg: &mut ServerConfig, name: &str, args: &[&str]) -> Result<(), String> {
    let d = lookup(name, args)?;
    match d.action {
        _ if d.scope() != Scope::Server => Err(format!(
            "internal error: {} is a per-directory directive and belongs to the directory configuration, not the server's",
            d.name
        )),
        Action::Server(set) => set(cfg, args),
        Action::ServerFlag(field) => {
            *field(cfg) = Some(flag(args)?);
            Ok(())
        }
        Action::ServerNoted { set, .. } => set(cfg, args),
        Action::NoEffect { check, .. } => check(args),
        Action::Refused { instead } => Err(refusal(d, instead)),
        Action::Dir(_) | Action::DirFlag(_) => Err(format!(
            "internal error: {} is a per-directory directive with a server-level context in the directive table",
            d.name
        )),
    }
}

/// Applies a directory-scoped directive (also used at server and virtual
/// host level, where Apache hands over the server's default dir config).
pub fn apply_dir(cfg: &mut DirConfig, name: &str, args: &[&str]) -> Result<(), String> {
    let d = lookup(name, args)?;
    match d.action {
        Action::Refused { instead } => Err(refusal(d, instead)),
        _ if d.scope() != Scope::Dir => Err(format!(
            "{} cannot be used in a <Directory>, <Location>, <Files> or .htaccess context",
            d.name
        )),
        Action::Dir(set) => set(cfg, args),
        Action::DirFlag(field) => {
            *field(cfg) = Some(flag(args)?);
            Ok(())
        }
        Action::NoEffect { check, .. } => check(args),
        Action::Server(_) | Action::ServerFlag(_) | Action::ServerNoted { .. } => Err(format!(
            "internal error: {} is a server-level directive with a per-directory context in the directive table",
            d.name
        )),
    }
}

#[cfg(test)]
#[path = "directives_tests.rs"]
mod tests;
