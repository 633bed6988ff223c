//! Building the CGI part of the WSGI environ from the request.
//!
//! The variables are the ones Apache gives CGI scripts (as
//! ap_add_common_vars and ap_add_cgi_vars compute them) less those mod_wsgi
//! 6 leaves out (GATEWAY_INTERFACE, SERVER_SIGNATURE, REMOTE_IDENT, which
//! may cost an ident lookup, and HTTPS, which becomes wsgi.url_scheme),
//! written straight
//! into a `Sink` (a Python dict in embedded mode, the wire frame in daemon
//! mode) with no intermediate table. Values are raw bytes; sinks present
//! them as latin-1 `str`.

use super::proxy::{resolve, Policy};
use crate::httpd::request::Request;
use std::borrow::Cow;

/// Receives environ entries; a later `put` of a key replaces an earlier one.
pub(crate) trait Sink {
    fn put(&mut self, key: &[u8], value: &[u8]);
}

/// How a request header appears in environ.
#[derive(Debug, PartialEq, Eq)]
pub enum HeaderKey {
    /// Not passed at all (bad characters in the name, `Proxy`, ...).
    Dropped,
    /// `Authorization`: passed as HTTP_AUTHORIZATION only when allowed.
    Authorization,
    /// CONTENT_TYPE / CONTENT_LENGTH / HTTP_*; the key is in the buffer.
    Key,
}

/// Maps a request header name to its environ key (written into `out`).
/// Names holding anything but ASCII letters, digits and `-` are dropped,
/// so `X-Foo_Bar` can never pose as `X-Foo-Bar`; `Proxy` is dropped
/// (httpoxy), and so is `Proxy-Authorization`.
pub fn header_key(name: &[u8], out: &mut Vec<u8>) -> HeaderKey {
    out.clear();
    if name.is_empty() || !name.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-') {
        return HeaderKey::Dropped;
    }
    if name.eq_ignore_ascii_case(b"Content-Type") {
        out.extend_from_slice(b"CONTENT_TYPE");
        return HeaderKey::Key;
    }
    if name.eq_ignore_ascii_case(b"Content-Length") {
        out.extend_from_slice(b"CONTENT_LENGTH");
        return HeaderKey::Key;
    }
    if name.eq_ignore_ascii_case(b"Proxy") || name.eq_ignore_ascii_case(b"Proxy-Authorization") {
        return HeaderKey::Dropped;
    }
    out.extend_from_slice(b"HTTP_");
    out.extend(name.iter().map(|&b| {
        if b == b'-' {
            b'_'
        } else {
            b.to_ascii_uppercase()
        }
    }));
    if name.eq_ignore_ascii_case(b"Authorization") {
        HeaderKey::Authorization
    } else {
        HeaderKey::Key
    }
}

/// Splits a request URI into SCRIPT_NAME and PATH_INFO given the number of
/// URI bytes a WSGIScriptAlias consumed: the mount point loses a trailing
/// slash ("" at "/"), and PATH_INFO is the rest.
pub(crate) fn split_mount(uri: &[u8], consumed: usize) -> (&[u8], &[u8]) {
    let consumed = consumed.min(uri.len());
    let mut end = consumed;
    while end > 0 && uri[end - 1] == b'/' {
        end -= 1;
    }
    (&uri[..end], &uri[end..])
}

/// SCRIPT_NAME for a handler-mapped script: the URI without its path info
/// suffix (as ap_add_cgi_vars computes it).
pub(crate) fn script_name_without_path_info<'a>(uri: &'a [u8], path_info: &[u8]) -> &'a [u8] {
    if !path_info.is_empty() && uri.ends_with(path_info) {
        &uri[..uri.len() - path_info.len()]
    } else {
        uri
    }
}

/// Collapses runs of `/` into one, as mod_wsgi does for SCRIPT_NAME and
/// PATH_INFO (whatever Apache's MergeSlashes says).
pub(crate) fn collapse_slashes(path: &[u8]) -> Cow<'_, [u8]> {
    if !path.windows(2).any(|w| w == b"//") {
        return Cow::Borrowed(path);
    }
    let mut out = Vec::with_capacity(path.len());
    for &b in path {
        if b == b'/' && out.last() == Some(&b'/') {
            continue;
        }
        out.push(b);
    }
    Cow::Owned(out)
}

/// True for an `HTTPS` value that means on (mod_ssl's `on`, SetEnv's `1`).
fn https_on(value: &[u8]) -> bool {
    value.eq_ignore_ascii_case(b"on") || value == b"1"
}

/// Environ keys mod_wsgi keeps to itself: carried to the daemon, never
/// shown to the application (`mod_wsgi.x-…`).
pub(crate) const INTERNAL_PREFIX: &[u8] = b"mod_wsgi.x-";

/// Where the script is mounted and what it serves for this request.
pub(crate) struct Mount<'a> {
    pub(crate) script_name: &'a [u8],
    pub(crate) path_info: &'a [u8],
    pub(crate) script_filename: &'a [u8],
}

/// Writes the CGI variables (and wsgi.url_scheme) for `r` into `sink`.
/// With a trusted-proxy policy, proxy headers are filtered and applied.
pub(crate) fn cgi_variables(
    r: &Request,
    mount: &Mount<'_>,
    method: &[u8],
    pass_authorization: bool,
    proxy: Option<&Policy<'_>>,
    sink: &mut impl Sink,
) {
    // HTTPS (mod_ssl's, or a SetEnv) decides wsgi.url_scheme and is not
    // passed on itself; mod_wsgi.x-… keys are this module's own.
    let mut https = r.scheme() == b"https";
    for (k, v) in r.subprocess_env().entries() {
        if k == b"HTTPS" {
            https |= https_on(v);
        } else if !k.starts_with(INTERNAL_PREFIX) {
            sink.put(k, v);
        }
    }
    let mut key = Vec::with_capacity(64);
    let mut proxy_headers: Vec<(String, Vec<u8>)> = Vec::new();
    for (name, value) in r.headers_in().entries() {
        match header_key(name, &mut key) {
            HeaderKey::Key if proxy.is_some_and(|p| p.governs(&key)) => {
                proxy_headers.push((String::from_utf8_lossy(&key).into_owned(), value.to_vec()))
            }
            HeaderKey::Key => sink.put(&key, value),
            HeaderKey::Authorization if pass_authorization => sink.put(&key, value),
            _ => {}
        }
    }
    let mut num = itoa_buf();
    sink.put(b"SERVER_SOFTWARE", crate::httpd::server::banner());
    sink.put(b"SERVER_NAME", r.server_name());
    let (local_ip, _) = r.local_ip_port();
    sink.put(b"SERVER_ADDR", local_ip);
    sink.put(
        b"SERVER_PORT",
        fmt_u64(&mut num, u64::from(r.server_port())),
    );
    sink.put(b"REMOTE_ADDR", r.useragent_ip());
    sink.put(b"DOCUMENT_ROOT", r.document_root());
    sink.put(b"REQUEST_SCHEME", r.scheme());
    sink.put(b"CONTEXT_PREFIX", r.context_prefix());
    sink.put(b"CONTEXT_DOCUMENT_ROOT", r.context_document_root());
    sink.put(b"SERVER_ADMIN", r.server_admin());
    sink.put(b"SCRIPT_FILENAME", mount.script_filename);
    sink.put(
        b"REMOTE_PORT",
        fmt_u64(&mut num, u64::from(r.useragent_port())),
    );
    if let Some(user) = r.user() {
        sink.put(b"REMOTE_USER", user);
    }
    if let Some(auth) = r.auth_type() {
        sink.put(b"AUTH_TYPE", auth);
    }
    sink.put(b"SERVER_PROTOCOL", r.protocol());
    sink.put(b"REQUEST_METHOD", method);
    sink.put(b"QUERY_STRING", r.args().unwrap_or(b""));
    sink.put(b"REQUEST_URI", r.unparsed_uri());
    sink.put(b"SCRIPT_NAME", mount.script_name);
    sink.put(b"PATH_INFO", mount.path_info);
    if let Some(policy) = proxy {
        let resolved = resolve(
            policy,
            &String::from_utf8_lossy(r.client_ip()),
            &proxy_headers,
        );
        for (k, v) in &resolved.keep {
            sink.put(k.as_bytes(), v);
        }
        for (k, v) in &resolved.overrides {
            sink.put(k.as_bytes(), v);
        }
        https = resolved.https.unwrap_or(https);
    }
    let scheme: &[u8] = if https { b"https" } else { b"http" };
    sink.put(b"wsgi.url_scheme", scheme);
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// Formats `n` in decimal into `buf` without allocating.
pub(crate) fn fmt_u64(buf: &mut [u8; 20], mut n: u64) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Formats `v` in decimal into `buf` (with a sign when negative) without
/// allocating.
pub(crate) fn fmt_i64(buf: &mut [u8; 20], v: i64) -> &[u8] {
    let digits = fmt_u64(buf, v.unsigned_abs()).len();
    let mut start = buf.len() - digits;
    if v < 0 {
        start -= 1;
        buf[start] = b'-';
    }
    &buf[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> (HeaderKey, String) {
        let mut out = Vec::new();
        let k = header_key(name.as_bytes(), &mut out);
        (k, String::from_utf8(out).unwrap())
    }

    #[test]
    fn header_names_map_to_cgi_keys() {
        assert_eq!(
            key("X-Forwarded-For"),
            (HeaderKey::Key, "HTTP_X_FORWARDED_FOR".into())
        );
        assert_eq!(key("host"), (HeaderKey::Key, "HTTP_HOST".into()));
        assert_eq!(key("Content-Type"), (HeaderKey::Key, "CONTENT_TYPE".into()));
        assert_eq!(
            key("content-length"),
            (HeaderKey::Key, "CONTENT_LENGTH".into())
        );
        assert_eq!(key("Authorization").0, HeaderKey::Authorization);
        assert_eq!(key("Authorization").1, "HTTP_AUTHORIZATION");
    }

    #[test]
    fn spoofable_and_dangerous_headers_are_dropped() {
        for name in [
            "X-Auth_User",
            "X Foo",
            "X.Foo",
            "",
            "Proxy",
            "proxy",
            "Proxy-Authorization",
            "X-\u{e9}",
        ] {
            assert_eq!(key(name).0, HeaderKey::Dropped, "{name:?}");
        }
    }

    #[test]
    fn mounts_split_script_name_and_path_info() {
        assert_eq!(split_mount(b"/app/x/y", 4), (&b"/app"[..], &b"/x/y"[..]));
        assert_eq!(split_mount(b"/app", 4), (&b"/app"[..], &b""[..]));
        assert_eq!(split_mount(b"/", 1), (&b""[..], &b"/"[..]));
        assert_eq!(split_mount(b"/foo", 1), (&b""[..], &b"/foo"[..]));
        assert_eq!(split_mount(b"/app/x", 5), (&b"/app"[..], &b"/x"[..]));
        assert_eq!(split_mount(b"//app//x", 5), (&b"//app"[..], &b"//x"[..]));
    }

    #[test]
    fn handler_script_name() {
        assert_eq!(
            script_name_without_path_info(b"/d/a.wsgi/x", b"/x"),
            b"/d/a.wsgi"
        );
        assert_eq!(
            script_name_without_path_info(b"/d/a.wsgi", b""),
            b"/d/a.wsgi"
        );
    }

    #[test]
    fn slashes_collapse() {
        assert_eq!(&*collapse_slashes(b"/a//b///c/"), b"/a/b/c/");
        assert_eq!(&*collapse_slashes(b"//"), b"/");
        assert!(matches!(collapse_slashes(b"/a/b"), Cow::Borrowed(_)));
        assert_eq!(&*collapse_slashes(b""), b"");
    }

    #[test]
    fn https_values() {
        assert!(https_on(b"on") && https_on(b"On") && https_on(b"1"));
        assert!(!https_on(b"off") && !https_on(b"0") && !https_on(b""));
    }

    #[test]
    fn formats_numbers() {
        let mut b = [0; 20];
        assert_eq!(fmt_u64(&mut b, 0), b"0");
        assert_eq!(fmt_u64(&mut b, 8080), b"8080");
        assert_eq!(fmt_u64(&mut b, u64::MAX), b"18446744073709551615");
        for v in [0, 7, -7, 10, 1_733_000_000_123_456, i64::MAX, i64::MIN] {
            assert_eq!(fmt_i64(&mut b, v), v.to_string().as_bytes());
        }
    }
}
