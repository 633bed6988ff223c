//! What the auth scripts decide, as mod_wsgi 6.1 has it:
//! - `WSGIAccessScript`: `allow_access(environ, host)` in the access_checker
//!   hook: True allows, False answers 403, None leaves it to the other
//!   access rules;
//! - `WSGIAuthUserScript`, the `wsgi` authn provider: Basic calls
//!   `check_password(environ, user, password)` (True, False, None for an
//!   unknown user, or a user name that replaces r->user); Digest calls
//!   `get_realm_hash(environ, user, realm)` (the hex MD5 of
//!   "user:realm:password", or None);
//! - `WSGIAuthGroupScript`, the `wsgi-group` authz provider:
//!   `groups_for_user(environ, user)` gives the user's groups; one of them
//!   must be named on the `Require wsgi-group` line.
//!
//! Every script runs in the Apache child ([`super::child_script`]). An
//! exception or a result of the wrong type is logged and answered with 500
//! (mod_wsgi answers 401/403 for some of these; a broken script is a
//! server error, not a wrong password).
//!
//! `WSGIGroupAuthoritative` is stored but changes nothing, as in mod_wsgi
//! 6.1 on Apache 2.4: there, combining authorisation providers is done by
//! `<RequireAny>`/`<RequireAll>`, where a `wsgi-group` denial already lets
//! the other requirements decide.

use super::child_script::{self, latin1_bytes, HookScript};
use crate::config::scripts::ScriptFile;
use crate::httpd::auth::{self as glue, Authn, Authz};
use crate::httpd::ffi;
use crate::httpd::log::{self, Level};
use crate::httpd::request::Request;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyString};
use std::os::raw::c_int;

fn hook<'a>(s: &'a ScriptFile, directive: &'static str) -> HookScript<'a> {
    HookScript {
        file: &s.file,
        group: s.application_group_or_global(),
        directive,
    }
}

/// The script of `pick` in the request's directory configuration.
fn script_of(
    r: &Request,
    pick: fn(&crate::config::DirConfig) -> &Option<ScriptFile>,
) -> Option<&ScriptFile> {
    r.dir_config().and_then(|d| pick(d).as_ref())
}

fn latin1_str<'py>(py: Python<'py>, b: &[u8]) -> Bound<'py, PyString> {
    crate::python::strings::latin1(py, b)
}

/// Calls `name` of the user auth script, or logs that it has none.
fn call_user_script(
    r: &Request,
    name: &'static str,
    args: impl for<'py> FnOnce(Python<'py>) -> (Bound<'py, PyString>, Bound<'py, PyString>),
    interpret: impl FnOnce(&HookScript<'_>, &Bound<'_, PyAny>) -> Authn,
) -> Authn {
    let Some(script) = script_of(r, |d| &d.auth_user_script) else {
        log::request(
            r,
            Level::Err,
            "AuthBasicProvider/AuthDigestProvider 'wsgi' is used here but no WSGIAuthUserScript \
             is set for this location: add WSGIAuthUserScript /path/to/auth.wsgi",
        );
        return Authn::Error;
    };
    let hook = hook(script, "WSGIAuthUserScript");
    child_script::call(r, &hook, |py, module, environ| {
        let Ok(f) = module.getattr(name) else {
            child_script::log_error(
                r,
                &hook,
                &format!("the script does not define {name}(); Apache's auth module needs it"),
            );
            return Ok(Authn::Error);
        };
        let (a, b) = args(py);
        let result = f.call1((environ, a, b))?;
        Ok(interpret(&hook, &result))
    })
    .unwrap_or(Authn::Error)
}

/// Basic authentication: `check_password(environ, user, password)`.
pub(crate) fn check_password(r: &Request, user: &[u8], password: &[u8]) -> Authn {
    call_user_script(
        r,
        "check_password",
        |py| (latin1_str(py, user), latin1_str(py, password)),
        |hook, result| {
            if result.is_none() {
                Authn::UserNotFound
            } else if let Ok(b) = result.cast::<PyBool>() {
                if b.is_true() {
                    Authn::Granted
                } else {
                    Authn::Denied
                }
            } else if let Ok(name) = result.extract::<String>() {
                if name.is_empty() {
                    child_script::log_error(
                        r,
                        hook,
                        "check_password() returned an empty user name",
                    );
                    return Authn::Error;
                }
                glue::set_user(r, name.as_bytes());
                Authn::Granted
            } else {
                child_script::log_error(
                    r,
                    hook,
                    "check_password() must return True, False, None or a user name string",
                );
                Authn::Error
            }
        },
    )
}

/// Digest authentication: `get_realm_hash(environ, user, realm)`.
pub(crate) fn get_realm_hash(r: &Request, user: &[u8], realm: &[u8]) -> Authn {
    call_user_script(
        r,
        "get_realm_hash",
        |py| (latin1_str(py, user), latin1_str(py, realm)),
        |hook, result| {
            if result.is_none() {
                return Authn::UserNotFound;
            }
            match latin1_bytes(result) {
                Some(h) if !h.is_empty() && !h.contains(&0) => Authn::Hash(h),
                _ => {
                    child_script::log_error(
                        r,
                        hook,
                        "get_realm_hash() must return None or the non-empty hex MD5 of \
                         'user:realm:password' as a latin-1 string",
                    );
                    Authn::Error
                }
            }
        },
    )
}

/// `Require wsgi-group NAME…`: `groups_for_user(environ, user)`.
pub(crate) fn check_authorization(r: &Request, require_args: &[u8]) -> Authz {
    let Some(user) = r.user().map(<[u8]>::to_vec) else {
        return Authz::DeniedNoUser;
    };
    let Some(script) = script_of(r, |d| &d.auth_group_script) else {
        log::request(
            r,
            Level::Err,
            "'Require wsgi-group' is used here but no WSGIAuthGroupScript is set for this \
             location: add WSGIAuthGroupScript /path/to/groups.wsgi",
        );
        return Authz::Error;
    };
    let hook = hook(script, "WSGIAuthGroupScript");
    let groups = child_script::call(r, &hook, |py, module, environ| {
        let Ok(f) = module.getattr("groups_for_user") else {
            child_script::log_error(r, &hook, "the script does not define groups_for_user()");
            return Ok(None);
        };
        let result = f.call1((environ, latin1_str(py, &user)))?;
        let mut groups = Vec::new();
        for item in result.try_iter()? {
            match latin1_bytes(&item?) {
                Some(g) => groups.push(g),
                None => {
                    child_script::log_error(
                        r,
                        &hook,
                        "groups_for_user() must give group names as latin-1 strings",
                    );
                    return Ok(None);
                }
            }
        }
        Ok(Some(groups))
    })
    .flatten();
    let Some(groups) = groups else {
        return Authz::Error;
    };
    let user = String::from_utf8_lossy(&user);
    let uri = String::from_utf8_lossy(r.uri());
    if groups.is_empty() {
        log::request(
            r,
            Level::Err,
            &format!(
                "Authorization of user '{user}' to access '{uri}' failed. User is not a member \
                 of any groups."
            ),
        );
        return Authz::Denied;
    }
    if require_words(require_args)
        .iter()
        .any(|w| groups.iter().any(|g| g == w))
    {
        return Authz::Granted;
    }
    log::request(
        r,
        Level::Err,
        &format!(
            "Authorization of user '{user}' to access '{uri}' failed. User is not a member of \
             designated groups."
        ),
    );
    Authz::Denied
}

/// The words of a Require line, as ap_getword_conf splits them (quotes
/// group words; a backslash escapes the quote character).
fn require_words(line: &[u8]) -> Vec<Vec<u8>> {
    let mut words = Vec::new();
    let mut rest = line;
    loop {
        while let [b, tail @ ..] = rest {
            if !b.is_ascii_whitespace() {
                break;
            }
            rest = tail;
        }
        let Some(&first) = rest.first() else {
            return words;
        };
        let mut word = Vec::new();
        if first == b'"' || first == b'\'' {
            let mut i = 1;
            while i < rest.len() && rest[i] != first {
                if rest[i] == b'\\' && rest.get(i + 1) == Some(&first) {
                    i += 1;
                }
                word.push(rest[i]);
                i += 1;
            }
            rest = rest.get(i + 1..).unwrap_or_default();
        } else {
            let end = rest
                .iter()
                .position(u8::is_ascii_whitespace)
                .unwrap_or(rest.len());
            word.extend_from_slice(&rest[..end]);
            rest = &rest[end..];
        }
        words.push(word);
    }
}

/// The access_checker hook: `allow_access(environ, host)`.
pub(crate) fn access_checker(r: &Request) -> c_int {
    let Some(script) = script_of(r, |d| &d.access_script) else {
        return ffi::DECLINED;
    };
    let host = glue::remote_host(r);
    let hook = hook(script, "WSGIAccessScript");
    let allow = child_script::call(r, &hook, |py, module, environ| {
        let Ok(f) = module.getattr("allow_access") else {
            child_script::log_error(r, &hook, "the script does not define allow_access()");
            return Ok(Err(()));
        };
        let result = f.call1((environ, latin1_str(py, &host)))?;
        if result.is_none() {
            return Ok(Ok(None));
        }
        match result.cast::<PyBool>() {
            Ok(b) => Ok(Ok(Some(b.is_true()))),
            Err(_) => {
                child_script::log_error(r, &hook, "allow_access() must return True, False or None");
                Ok(Err(()))
            }
        }
    });
    match allow {
        Some(Ok(None)) => ffi::DECLINED,
        Some(Ok(Some(true))) => ffi::OK,
        Some(Ok(Some(false))) => {
            if glue::denial_is_final(r) {
                log::request(
                    r,
                    Level::Err,
                    &format!(
                        "Client denied by server configuration: '{}'.",
                        String::from_utf8_lossy(r.filename())
                    ),
                );
            }
            ffi::HTTP_FORBIDDEN
        }
        Some(Err(())) | None => ffi::HTTP_INTERNAL_SERVER_ERROR,
    }
}

#[cfg(test)]
mod tests {
    use super::require_words;

    #[test]
    fn require_line_words() {
        let w = |s: &str| -> Vec<String> {
            require_words(s.as_bytes())
                .into_iter()
                .map(|v| String::from_utf8(v).unwrap())
                .collect()
        };
        assert_eq!(w("admins  staff"), ["admins", "staff"]);
        assert_eq!(w(" \"a b\" c "), ["a b", "c"]);
        assert_eq!(w("'x\\'y'"), ["x'y"]);
        assert!(w("   ").is_empty());
    }
}
