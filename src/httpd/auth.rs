//! Apache's authentication and authorisation interfaces, as mod_wsgi uses
//! them: the authn provider `wsgi` (`AuthBasicProvider wsgi`,
//! `AuthDigestProvider wsgi`), the authz provider `wsgi-group`
//! (`Require wsgi-group NAME…`) and the access_checker hook
//! (`WSGIAccessScript`). The C structs, their registration and the
//! `extern "C"` callbacks live here; what they do is `crate::hooks::auth`.

use super::ffi;
use super::guard::ffi_guard;
use super::pool::{cstr_bytes, opt_cstr_bytes};
use super::request::Request;
use super::NameList;
use crate::hooks::auth as logic;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr::null;

/// What an authn provider found (Apache's `authn_status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Authn {
    /// `check_password`: the password is right.
    Granted,
    /// `check_password`: the password is wrong.
    Denied,
    /// `get_realm_hash`: the user's MD5("user:realm:password"), in hex.
    Hash(Vec<u8>),
    /// The provider does not know the user.
    UserNotFound,
    /// The script failed (logged): Apache answers 500.
    Error,
}

/// What an authz provider decided (Apache's `authz_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Authz {
    Granted,
    Denied,
    /// No authenticated user yet: Apache asks for credentials.
    DeniedNoUser,
    Error,
}

unsafe extern "C" fn check_password(
    r: *mut ffi::request_rec,
    user: *const c_char,
    password: *const c_char,
) -> ffi::authn_status {
    ffi_guard(ffi::authn_status_AUTH_GENERAL_ERROR, || {
        // SAFETY: Apache passes the live request and two NUL-terminated
        // strings that outlive the call.
        let (r, user, password) =
            unsafe { (Request::from_raw(r), cstr_bytes(user), cstr_bytes(password)) };
        match logic::check_password(r, user, password) {
            Authn::Granted => ffi::authn_status_AUTH_GRANTED,
            Authn::Denied => ffi::authn_status_AUTH_DENIED,
            Authn::UserNotFound => ffi::authn_status_AUTH_USER_NOT_FOUND,
            Authn::Hash(_) | Authn::Error => ffi::authn_status_AUTH_GENERAL_ERROR,
        }
    })
}

unsafe extern "C" fn get_realm_hash(
    r: *mut ffi::request_rec,
    user: *const c_char,
    realm: *const c_char,
    rethash: *mut *mut c_char,
) -> ffi::authn_status {
    ffi_guard(ffi::authn_status_AUTH_GENERAL_ERROR, || {
        // SAFETY: Apache passes the live request and NUL-terminated
        // strings (the realm may be NULL) that outlive the call.
        let (r, user, realm) = unsafe {
            (
                Request::from_raw(r),
                cstr_bytes(user),
                opt_cstr_bytes(realm).unwrap_or_default(),
            )
        };
        match logic::get_realm_hash(r, user, realm) {
            Authn::Hash(hash) => {
                // SAFETY: Apache hands a writable slot for the result; the
                // copy lives in the request pool, as mod_auth_digest needs.
                unsafe { *rethash = r.pool().strdup(&hash) };
                ffi::authn_status_AUTH_USER_FOUND
            }
            Authn::UserNotFound => ffi::authn_status_AUTH_USER_NOT_FOUND,
            Authn::Denied => ffi::authn_status_AUTH_DENIED,
            Authn::Granted | Authn::Error => ffi::authn_status_AUTH_GENERAL_ERROR,
        }
    })
}

unsafe extern "C" fn check_authorization(
    r: *mut ffi::request_rec,
    require_args: *const c_char,
    _parsed: *const c_void,
) -> ffi::authz_status {
    ffi_guard(ffi::authz_status_AUTHZ_GENERAL_ERROR, || {
        // SAFETY: Apache passes the live request and the Require line's
        // arguments (NUL-terminated, possibly NULL).
        let (r, args) = unsafe {
            (
                Request::from_raw(r),
                opt_cstr_bytes(require_args).unwrap_or_default(),
            )
        };
        match logic::check_authorization(r, args) {
            Authz::Granted => ffi::authz_status_AUTHZ_GRANTED,
            Authz::Denied => ffi::authz_status_AUTHZ_DENIED,
            Authz::DeniedNoUser => ffi::authz_status_AUTHZ_DENIED_NO_USER,
            Authz::Error => ffi::authz_status_AUTHZ_GENERAL_ERROR,
        }
    })
}

unsafe extern "C" fn access_checker(r: *mut ffi::request_rec) -> c_int {
    ffi_guard(ffi::HTTP_INTERNAL_SERVER_ERROR, || {
        // SAFETY: Apache passes the live request.
        logic::access_checker(unsafe { Request::from_raw(r) })
    })
}

static AUTHN_PROVIDER: ffi::authn_provider = ffi::authn_provider {
    check_password: Some(check_password),
    get_realm_hash: Some(get_realm_hash),
};

static AUTHZ_PROVIDER: ffi::authz_provider = ffi::authz_provider {
    check_authorization: Some(check_authorization),
    parse_require_line: None,
};

/// Registers the `wsgi` authn provider, the `wsgi-group` authz provider
/// and the access_checker hook (after mod_ssl, before mod_authz_host, as
/// mod_wsgi does). Called from `register_hooks`.
pub(crate) fn register(p: *mut ffi::apr_pool_t) {
    static BEFORE: NameList<2> = NameList([c"mod_ssl.c".as_ptr(), null()]);
    static AFTER: NameList<2> = NameList([c"mod_authz_host.c".as_ptr(), null()]);
    // SAFETY: registering static provider structs (never written) and a
    // hook function with NULL-terminated static name lists, during
    // Apache's hook registration phase, with its pool.
    unsafe {
        ffi::ap_register_auth_provider(
            p,
            c"authn".as_ptr(),
            c"wsgi".as_ptr(),
            c"0".as_ptr(),
            (&raw const AUTHN_PROVIDER).cast(),
            ffi::AP_AUTH_INTERNAL_PER_CONF as c_int,
        );
        ffi::ap_register_auth_provider(
            p,
            c"authz".as_ptr(),
            c"wsgi-group".as_ptr(),
            c"0".as_ptr(),
            (&raw const AUTHZ_PROVIDER).cast(),
            ffi::AP_AUTH_INTERNAL_PER_CONF as c_int,
        );
        ffi::ap_hook_access_checker(
            Some(access_checker),
            BEFORE.0.as_ptr(),
            AFTER.0.as_ptr(),
            ffi::APR_HOOK_MIDDLE,
        );
    }
}

/// The client's host name for `allow_access`: the DNS name when
/// `HostnameLookups` allows one, else the address (as mod_wsgi does).
pub(crate) fn remote_host(r: &Request) -> Vec<u8> {
    // SAFETY: the request and its connection are live; REMOTE_HOST never
    // forces a lookup, and the result is NULL or a connection-pool string.
    let host = unsafe {
        let rec = &*r.raw();
        opt_cstr_bytes(ffi::ap_get_remote_host(
            rec.connection,
            rec.per_dir_config.cast(),
            ffi::REMOTE_HOST as c_int,
            std::ptr::null_mut(),
        ))
    };
    host.map(<[u8]>::to_vec)
        .unwrap_or_else(|| r.useragent_ip().to_vec())
}

/// Whether a denial by the access script is worth a log line: not when
/// `Satisfy Any` lets authentication still grant the request.
pub(crate) fn denial_is_final(r: &Request) -> bool {
    // SAFETY: plain queries on the live request.
    unsafe {
        ffi::ap_satisfies(r.raw()) != ffi::SATISFY_ANY as c_int
            || ffi::ap_some_auth_required(r.raw()) == 0
    }
}

/// Sets r->user (a `check_password` that returns a user name).
pub(crate) fn set_user(r: &Request, user: &[u8]) {
    let copy = r.pool().strdup(user);
    // SAFETY: the request is live and owned by this thread; the string is
    // in its pool.
    unsafe { (*r.raw()).user = copy }
}
