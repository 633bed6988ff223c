//! The directive table: each mod_wsgi directive, where it may appear, how
//! many arguments it takes, and how its arguments change the typed config.
//! The Apache glue (src/httpd/directives.rs) builds its command table from
//! `DIRECTIVES` and calls `apply_server` / `apply_dir`.

use super::dir::DirConfig;
use super::server::ServerConfig;

/// Where a directive may appear (mod_wsgi's contexts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
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

/// Which configuration structure a directive writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Server,
    Dir,
}

#[derive(Debug)]
pub struct Directive {
    pub name: &'static str,
    /// `name` as a C string, for Apache's command table.
    pub c_name: &'static std::ffi::CStr,
    /// `help` as a C string (Apache shows it in arity errors).
    pub c_help: &'static std::ffi::CStr,
    pub context: Context,
    pub scope: Scope,
    pub min_args: usize,
    pub max_args: usize,
    pub help: &'static str,
}

const MANY: usize = usize::MAX;

const fn cstr(s: &'static str) -> &'static std::ffi::CStr {
    match std::ffi::CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("directive strings must not contain NUL"),
    }
}

macro_rules! directives {
    ($( $name:literal, $ctx:ident, $scope:ident, $min:expr, $max:expr, $help:literal; )*) => {
        pub const DIRECTIVES: &[Directive] = &[$(Directive {
            name: $name,
            c_name: cstr(concat!($name, "\0")),
            c_help: cstr(concat!($help, "\0")),
            context: Context::$ctx,
            scope: Scope::$scope,
            min_args: $min,
            max_args: $max,
            help: $help,
        }),*];
    };
}

directives! {
    "WSGIScriptAlias", Server, Server, 2, MANY, "URL-path, script file, then options such as process-group=NAME";
    "WSGIScriptAliasMatch", Server, Server, 2, MANY, "URL regex, script file with $1.. substitutions, then options";
    "WSGIImportScript", Server, Server, 1, MANY, "script file, process-group=NAME application-group=NAME";
    "WSGIDaemonProcess", Server, Server, 1, MANY, "daemon process group name, then options such as processes=N threads=N";
    "WSGIPythonHome", Global, Server, 1, 1, "the Python prefix or virtualenv to use";
    "WSGIPythonPath", Global, Server, 1, 1, "':'-separated directories added to sys.path";
    "WSGIPythonOptimize", Global, Server, 1, 1, "Python optimisation level, 0, 1 or 2";
    "WSGIPythonHashSeed", Global, Server, 1, 1, "'random' or a hash seed from 0 to 4294967295";
    "WSGIPythonWarnings", Global, Server, 1, 1, "a Python warnings filter, as for python -W";
    "WSGIDontWriteBytecode", Global, Server, 1, 1, "On or Off: do not write .pyc files";
    "WSGIRestrictEmbedded", Global, Server, 1, 1, "On or Off: no Python in Apache child processes";
    "WSGIRestrictStdin", Global, Server, 1, 1, "On or Off: reading sys.stdin raises an error";
    "WSGIRestrictStdout", Global, Server, 1, 1, "On or Off: writing sys.stdout raises an error";
    "WSGIRestrictSignal", Global, Server, 1, 1, "On or Off: signal.signal() is ignored";
    "WSGISocketPrefix", Global, Server, 1, 1, "path prefix of the daemon sockets";
    "WSGILazyInitialization", Global, Server, 1, 1, "On or Off (accepted; Python always starts after fork)";
    "WSGIVerboseDebugging", Global, Server, 1, 1, "On or Off";
    "WSGIAcceptMutex", Global, Server, 1, 1, "accepted for compatibility";
    "WSGISocketRotation", Global, Server, 1, 1, "accepted for compatibility";
    "WSGIDestroyInterpreter", Global, Server, 1, 1, "accepted for compatibility";
    "WSGIProcessGroup", Directory, Dir, 1, 1, "daemon process group name, or %{GLOBAL} for embedded mode";
    "WSGIApplicationGroup", Directory, Dir, 1, 1, "application group: %{GLOBAL}, %{RESOURCE}, %{SERVER}, %{HOST}, %{ENV:name} or a name";
    "WSGIRestrictProcess", Directory, Dir, 1, MANY, "daemon process groups that may be selected here";
    "WSGIHandlerScript", Directory, Dir, 2, MANY, "handler name, script file, then options";
    "WSGICallableObject", Htaccess, Dir, 1, 1, "name of the WSGI application object in the script";
    "WSGIPassAuthorization", Htaccess, Dir, 1, 1, "On or Off: pass the Authorization header as HTTP_AUTHORIZATION";
    "WSGIScriptReloading", Htaccess, Dir, 1, 1, "On or Off: reload a script when its file changes";
    "WSGIChunkedRequest", Htaccess, Dir, 1, 1, "On or Off: accept chunked request bodies";
    "WSGIMapHEADToGET", Htaccess, Dir, 1, 1, "On, Off or Auto: present HEAD requests as GET";
    "WSGIErrorOverride", Htaccess, Dir, 1, 1, "On or Off: let ErrorDocument replace the application's error pages";
    "WSGIEnableSendfile", Htaccess, Dir, 1, 1, "On or Off: use sendfile for wsgi.file_wrapper";
    "WSGIBufferRequestBody", Htaccess, Dir, 1, 1, "On or Off: in daemon mode, receive the whole request body before a daemon thread is taken";
    "WSGITrustedProxyHeaders", Htaccess, Dir, 1, MANY, "request headers set by trusted proxies";
    "WSGITrustedProxies", Htaccess, Dir, 1, MANY, "addresses of trusted proxies";
    "WSGIAccessScript", Auth, Dir, 1, MANY, "script with allow_access(environ, host)";
    "WSGIAuthUserScript", Auth, Dir, 1, MANY, "script with check_password(environ, user, password)";
    "WSGIAuthGroupScript", Auth, Dir, 1, MANY, "script with groups_for_user(environ, user)";
}

/// Looks a directive up by name (case-insensitive, as Apache does).
pub fn find(name: &str) -> Option<&'static Directive> {
    DIRECTIVES
        .iter()
        .find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Checks the argument count against the table.
pub fn check_arity(d: &Directive, args: &[&str]) -> Result<(), String> {
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

/// Directives accepted by mod_wsgi that this module does not implement yet.
/// They are refused at configuration time: accepting and ignoring an
/// access-control directive would leave a site open.
const NOT_IMPLEMENTED: &[&str] = &[
    "WSGIAccessScript",
    "WSGIAuthUserScript",
    "WSGIAuthGroupScript",
];

fn refuse_unimplemented(d: &Directive) -> Result<(), String> {
    if NOT_IMPLEMENTED.contains(&d.name) {
        return Err(format!(
            "is not supported by mod_wsgi_rs yet; protect this location with Apache's own \
             authentication (mod_auth_basic with AuthUserFile, Require ...) instead of {}",
            d.name
        ));
    }
    Ok(())
}

/// Applies a server-scoped directive.
pub fn apply_server(cfg: &mut ServerConfig, name: &str, args: &[&str]) -> Result<(), String> {
    let d = find(name).ok_or_else(|| format!("unknown directive {name}"))?;
    check_arity(d, args)?;
    cfg.apply(d.name, args)
}

/// Applies a directory-scoped directive (also used at server and virtual
/// host level, where Apache hands over the server's default dir config).
pub fn apply_dir(cfg: &mut DirConfig, name: &str, args: &[&str]) -> Result<(), String> {
    let d = find(name).ok_or_else(|| format!("unknown directive {name}"))?;
    check_arity(d, args)?;
    refuse_unimplemented(d)?;
    cfg.apply(d.name, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_directive_is_unique_and_found() {
        for d in DIRECTIVES {
            assert_eq!(find(&d.name.to_lowercase()).unwrap().name, d.name);
            assert_eq!(DIRECTIVES.iter().filter(|x| x.name == d.name).count(), 1);
        }
        assert!(find("WSGINope").is_none());
    }

    #[test]
    fn script_alias_with_options() {
        let mut s = ServerConfig::default();
        apply_server(
            &mut s,
            "WSGIScriptAlias",
            &[
                "/app",
                "/srv/app.wsgi",
                "process-group=g",
                "callable-object=app",
            ],
        )
        .unwrap();
        assert_eq!(s.aliases.len(), 1);
        assert_eq!(s.aliases[0].url, "/app");
        assert_eq!(s.aliases[0].file, "/srv/app.wsgi");
        assert!(!s.aliases[0].is_regex);
        assert_eq!(s.aliases[0].options.callable_object.as_deref(), Some("app"));
        apply_server(
            &mut s,
            "WSGIScriptAliasMatch",
            &["^/m/([^/]+)", "/srv/$1.wsgi"],
        )
        .unwrap();
        assert!(s.aliases[1].is_regex);
    }

    #[test]
    fn arity_errors_explain() {
        let mut s = ServerConfig::default();
        let e = apply_server(&mut s, "WSGIScriptAlias", &["/x"]).unwrap_err();
        assert!(e.contains("at least 2"), "{e}");
        let e = apply_server(&mut s, "WSGIPythonHome", &["/a", "/b"]).unwrap_err();
        assert!(e.contains("exactly 1"), "{e}");
    }

    #[test]
    fn bad_values_are_errors() {
        let mut d = DirConfig::default();
        assert!(apply_dir(&mut d, "WSGIPassAuthorization", &["maybe"]).is_err());
        assert!(apply_dir(&mut d, "WSGIApplicationGroup", &["%{BOGUS}"]).is_err());
        assert!(apply_dir(&mut d, "WSGIMapHEADToGET", &["sometimes"]).is_err());
        assert!(apply_dir(&mut d, "WSGITrustedProxyHeaders", &["X_Bad"]).is_err());
        let mut s = ServerConfig::default();
        assert!(apply_server(&mut s, "WSGIPythonOptimize", &["3"]).is_err());
        assert!(apply_server(&mut s, "WSGIDaemonProcess", &["g", "bogus=1"]).is_err());
        assert!(apply_server(&mut s, "WSGIDaemonProcess", &["g", "processes=abc"]).is_err());
    }

    #[test]
    fn duplicate_daemon_group_is_an_error() {
        let mut s = ServerConfig::default();
        apply_server(&mut s, "WSGIDaemonProcess", &["g"]).unwrap();
        let e = apply_server(&mut s, "WSGIDaemonProcess", &["g"]).unwrap_err();
        assert!(e.contains("already defined"), "{e}");
    }

    #[test]
    fn dir_values_are_stored() {
        let mut d = DirConfig::default();
        apply_dir(&mut d, "WSGIPassAuthorization", &["On"]).unwrap();
        apply_dir(&mut d, "WSGICallableObject", &["app"]).unwrap();
        apply_dir(&mut d, "WSGIChunkedRequest", &["on"]).unwrap();
        apply_dir(
            &mut d,
            "WSGITrustedProxyHeaders",
            &["X-Forwarded-For", "X-Real-IP"],
        )
        .unwrap();
        assert_eq!(d.pass_authorization, Some(true));
        assert_eq!(d.callable_object.as_deref(), Some("app"));
        assert_eq!(d.chunked_request, Some(true));
        assert_eq!(
            d.trusted_proxy_headers.as_deref(),
            Some(
                &[
                    "HTTP_X_FORWARDED_FOR".to_string(),
                    "HTTP_X_REAL_IP".to_string()
                ][..]
            )
        );
    }

    #[test]
    fn unimplemented_auth_scripts_are_refused() {
        let mut d = DirConfig::default();
        let e = apply_dir(&mut d, "WSGIAccessScript", &["/x.wsgi"]).unwrap_err();
        assert!(e.contains("not supported"), "{e}");
    }

    #[test]
    fn python_settings() {
        let mut s = ServerConfig::default();
        apply_server(&mut s, "WSGIPythonPath", &["/a:/b"]).unwrap();
        apply_server(&mut s, "WSGIPythonOptimize", &["2"]).unwrap();
        apply_server(&mut s, "WSGIPythonHashSeed", &["random"]).unwrap();
        apply_server(&mut s, "WSGIDontWriteBytecode", &["On"]).unwrap();
        assert_eq!(s.python_path, vec!["/a", "/b"]);
        assert_eq!(s.python_optimize, Some(2));
        assert_eq!(s.python_hash_seed, Some(None));
        assert_eq!(s.dont_write_bytecode, Some(true));
    }
}
