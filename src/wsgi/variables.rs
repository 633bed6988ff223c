//! The request's variables, shared by both modes: what the handler
//! resolved (`Target`) and every `str` entry of environ computed from
//! Apache's `request_rec` (CGI variables, trusted proxy headers,
//! `mod_wsgi.*`), written into any `Sink`: a dict in embedded mode, the
//! wire's ENVIRON frame in daemon mode.

use super::environ::{cgi_variables, Mount, Sink};
use super::proxy::Policy;
use crate::config::{MapHeadToGet, RequestConfig};
use crate::httpd::request::Request;
use std::path::Path;

/// What to run and how it is mounted.
pub struct Target<'a> {
    /// SCRIPT_FILENAME: the file Apache mapped the request to.
    pub script: &'a Path,
    /// The `WSGIHandlerScript` that serves it, when a handler name (not
    /// `wsgi-script`) selected the script: that file is run instead
    /// (`mod_wsgi.handler_script`).
    pub handler_script: Option<&'a Path>,
    pub script_name: &'a [u8],
    pub path_info: &'a [u8],
    pub callable: &'a str,
    pub application_group: &'a str,
    pub process_group: &'a str,
    pub config: &'a RequestConfig,
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

/// Every `str` entry of environ for this request: the CGI variables,
/// wsgi.url_scheme and the mod_wsgi.* strings.
pub fn request_variables(r: &Request, t: &Target<'_>, sink: &mut impl Sink) {
    let script_filename = t.script.to_string_lossy();
    let subnets;
    let policy = match &t.config.trusted_proxy_headers {
        Some(headers) => {
            subnets = t.config.trusted_proxy_subnets();
            Some(Policy {
                headers,
                proxies: &subnets,
            })
        }
        None => None,
    };
    cgi_variables(
        r,
        &Mount {
            script_name: t.script_name,
            path_info: t.path_info,
            script_filename: script_filename.as_bytes(),
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
    let handler_script = t.handler_script.map(|p| p.to_string_lossy());
    sink.put(
        b"mod_wsgi.handler_script",
        handler_script.as_deref().unwrap_or("").as_bytes(),
    );
    sink.put(
        b"mod_wsgi.script_reloading",
        flag(t.config.script_reloading),
    );
    sink.put(b"mod_wsgi.enable_sendfile", flag(t.config.enable_sendfile));
    sink.put(b"mod_wsgi.ignore_activity", flag(t.config.ignore_activity));
    let (ip, port) = r.local_ip_port();
    sink.put(b"mod_wsgi.listener_host", ip);
    sink.put(b"mod_wsgi.listener_port", port.to_string().as_bytes());
    sink.put(b"mod_wsgi.script_name", t.script_name);
    sink.put(b"mod_wsgi.path_info", t.path_info);
    sink.put(
        b"mod_wsgi.request_start",
        r.request_time().to_string().as_bytes(),
    );
    match r.log_id() {
        Some(id) => sink.put(b"mod_wsgi.request_id", id),
        None => sink.put(b"mod_wsgi.request_id", request_id().as_bytes()),
    }
}

/// A request id unique across this server's processes and threads (used
/// when Apache has not assigned one for its log).
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    thread_local! {
        // Apache children never fork again: one getpid() per thread.
        static PID: u32 = std::process::id();
    }
    format!("{:x}-{:x}-{n:x}", now, PID.with(|p| *p))
}
