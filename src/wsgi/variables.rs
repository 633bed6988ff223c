//! The request's variables, shared by both modes: what the handler
//! resolved (`Target`) and every `str` entry of environ computed from
//! Apache's `request_rec` (CGI variables, trusted proxy headers,
//! `mod_wsgi.*`), written into any `Sink`: a dict in embedded mode, the
//! wire's ENVIRON frame in daemon mode.
//!
//! The `mod_wsgi.*` keys are mod_wsgi 6.1's. Settings the daemon needs
//! but the application must not see travel as `mod_wsgi.x-…` keys (as in
//! mod_wsgi), which the dict sinks leave out; the timing instants
//! (`mod_wsgi.request_start` …) are floats the runner adds from them.

use super::environ::{cgi_variables, collapse_slashes, fmt_i64, fmt_u64, Mount, Sink};
use super::proxy::Policy;
use crate::config::{MapHeadToGet, RequestConfig};
use crate::httpd::request::Request;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// What to run and how it is mounted.
pub(crate) struct Target<'a> {
    /// SCRIPT_FILENAME: the file Apache mapped the request to.
    pub(crate) script: &'a Path,
    /// The `WSGIHandlerScript` that serves it, when a handler name (not
    /// `wsgi-script`) selected the script: that file is run instead
    /// (`mod_wsgi.handler_script`).
    pub(crate) handler_script: Option<&'a Path>,
    /// The running script's modification time as Apache's directory walk
    /// found it (microseconds since the epoch); None for a
    /// `WSGIHandlerScript`, which is stat()ed when reloading is checked.
    pub(crate) script_mtime_us: Option<i64>,
    pub(crate) script_name: &'a [u8],
    pub(crate) path_info: &'a [u8],
    pub(crate) callable: &'a str,
    pub(crate) application_group: &'a str,
    pub(crate) process_group: &'a str,
    pub(crate) config: &'a RequestConfig,
}

/// Output filters that do not need to see a body: with WSGIMapHEADToGET
/// Auto, HEAD is passed to the application as HEAD only when every filter
/// is one of these.
const BODYLESS_FILTERS: &[&[u8]] = &[
    b"byterange",
    b"content_length",
    b"http_header",
    b"http_outerror",
    b"core",
    b"old_write",
    b"ssl/tls filter",
    b"log_input_output",
    b"req_core",
];

fn request_method(r: &Request, map: MapHeadToGet) -> &[u8] {
    let method = r.method();
    if method != b"HEAD" {
        return method;
    }
    let to_get = match map {
        MapHeadToGet::On => true,
        MapHeadToGet::Off => false,
        MapHeadToGet::Auto => r
            .output_filter_names()
            .iter()
            .any(|n| !BODYLESS_FILTERS.iter().any(|b| n.eq_ignore_ascii_case(b))),
    };
    if to_get {
        b"GET"
    } else {
        method
    }
}

/// Microseconds since the epoch, now.
pub(crate) fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Internal keys (`mod_wsgi.x-…`), carried to a daemon, never shown.
pub(crate) const X_SCRIPT_RELOADING: &[u8] = b"mod_wsgi.x-script_reloading";
pub(crate) const X_ENABLE_SENDFILE: &[u8] = b"mod_wsgi.x-enable_sendfile";
/// WSGIIgnoreActivity: the request does not count for inactivity-timeout.
pub(crate) const X_IGNORE_ACTIVITY: &[u8] = b"mod_wsgi.x-ignore_activity";
pub(crate) const X_REQUEST_START_US: &[u8] = b"mod_wsgi.x-request_start_us";
/// When the Apache child took the request to relay it (daemon mode).
pub(crate) const X_QUEUE_START_US: &[u8] = b"mod_wsgi.x-queue_start_us";
/// The script's modification time as the Apache child's directory walk
/// found it (daemon mode; absent for a WSGIHandlerScript).
pub(crate) const X_SCRIPT_MTIME_US: &[u8] = b"mod_wsgi.x-script_mtime_us";

/// Every `str` entry of environ for this request: the CGI variables,
/// wsgi.url_scheme and the mod_wsgi.* strings (internal ones as
/// `mod_wsgi.x-…`).
pub(crate) fn request_variables(r: &Request, t: &Target<'_>, sink: &mut impl Sink) {
    let subnets;
    let policy = match &t.config.trusted_proxy_headers {
        Some(headers) => {
            subnets = t.config.trusted_proxy_subnets();
            if subnets.is_empty() {
                warn_any_peer_trusted(headers);
            }
            Some(Policy {
                headers,
                proxies: &subnets,
            })
        }
        None => None,
    };
    // Runs of slashes collapse, as in mod_wsgi, whatever MergeSlashes says.
    let script_name = collapse_slashes(t.script_name);
    let path_info = collapse_slashes(t.path_info);
    cgi_variables(
        r,
        &Mount {
            script_name: &script_name,
            path_info: &path_info,
            script_filename: t.script.as_os_str().as_bytes(),
        },
        request_method(r, t.config.map_head_to_get),
        t.config.pass_authorization,
        policy.as_ref(),
        sink,
    );
    let flag = |b: bool| if b { &b"1"[..] } else { &b"0"[..] };
    sink.put(b"mod_wsgi.process_group", t.process_group.as_bytes());
    sink.put(
        b"mod_wsgi.application_group",
        t.application_group.as_bytes(),
    );
    sink.put(b"mod_wsgi.callable_object", t.callable.as_bytes());
    sink.put(b"mod_wsgi.request_handler", r.handler());
    sink.put(
        b"mod_wsgi.handler_script",
        t.handler_script
            .map_or(&b""[..], |p| p.as_os_str().as_bytes()),
    );
    sink.put(X_SCRIPT_RELOADING, flag(t.config.script_reloading));
    sink.put(X_ENABLE_SENDFILE, flag(t.config.enable_sendfile));
    sink.put(X_IGNORE_ACTIVITY, flag(t.config.ignore_activity));
    let (ip, port) = r.local_ip_port();
    sink.put(b"mod_wsgi.listener_host", ip);
    let mut digits = [0u8; 20];
    sink.put(
        b"mod_wsgi.listener_port",
        fmt_u64(&mut digits, u64::from(port)),
    );
    sink.put(b"mod_wsgi.script_name", &script_name);
    sink.put(b"mod_wsgi.path_info", &path_info);
    sink.put(X_REQUEST_START_US, fmt_i64(&mut digits, r.request_time()));
    sink.put(
        b"mod_wsgi.server_pid",
        fmt_u64(&mut digits, u64::from(server_pid())),
    );
    match r.ensure_log_id() {
        Some(id) => sink.put(b"mod_wsgi.request_id", id),
        None => sink.put(b"mod_wsgi.request_id", request_id().as_bytes()),
    }
    if let Some(id) = r.connection_log_id() {
        sink.put(b"mod_wsgi.connection_id", id);
    }
}

/// WSGITrustedProxyHeaders without WSGITrustedProxies believes the headers
/// from any client: said once per process, at the first request that
/// uses such a configuration (the directives are per directory, so the
/// configuration is only known per request).
fn warn_any_peer_trusted(headers: &[String]) {
    use std::sync::atomic::{AtomicBool, Ordering};
    static SAID: AtomicBool = AtomicBool::new(false);
    if SAID.swap(true, Ordering::Relaxed) {
        return;
    }
    crate::httpd::log::server(
        crate::httpd::log::Level::Warn,
        &format!(
            "WSGITrustedProxyHeaders ({}) is set without WSGITrustedProxies: these headers \
             are believed from any client, as in mod_wsgi; add WSGITrustedProxies with the \
             addresses of your proxies unless every client reaches Apache through one",
            headers.join(" ")
        ),
    );
}

/// A request id unique across this server's processes and threads (used
/// when Apache has not assigned one for its log).
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = now_us();
    format!("{:x}-{:x}-{n:x}", now, server_pid())
}

/// This process's id, asked once per thread (a getpid() system call each
/// time otherwise). Requests are served only by threads of processes that
/// never fork again (Apache children, daemon processes): no thread serving
/// requests inherits a value from a parent.
fn server_pid() -> u32 {
    thread_local! {
        static PID: u32 = std::process::id();
    }
    PID.with(|p| *p)
}
