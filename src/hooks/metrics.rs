//! The `wsgi-metrics` handler (`SetHandler wsgi-metrics`): every figure of
//! this Apache's children and daemon processes (`crate::metrics`) in
//! Prometheus's text format, or OpenMetrics when the scraper's Accept asks
//! for it. Access is whatever the location's `Require` allows.

use crate::httpd::brigade::Brigade;
use crate::httpd::ffi;
use crate::httpd::request::Request;
use crate::metrics::exposition;
use std::os::raw::c_int;

/// The handler name.
pub(crate) const HANDLER: &[u8] = b"wsgi-metrics";

pub(crate) fn serve(r: &Request) -> c_int {
    let method = r.method();
    if method != b"GET" && method != b"HEAD" {
        r.add_header_out(true, b"Allow", b"GET, HEAD");
        return ffi::HTTP_METHOD_NOT_ALLOWED;
    }
    let Some(groups) = crate::metrics::read() else {
        return ffi::HTTP_SERVICE_UNAVAILABLE;
    };
    let openmetrics = r
        .headers_in()
        .get(c"Accept")
        .is_some_and(exposition::wants_openmetrics);
    let body = exposition::format(&groups, openmetrics);
    r.set_content_type(if openmetrics {
        exposition::OPENMETRICS_TYPE.as_bytes()
    } else {
        exposition::TEXT_TYPE.as_bytes()
    });
    r.add_header_out(false, b"Cache-Control", b"no-store");
    r.add_header_out(false, b"Content-Length", body.len().to_string().as_bytes());
    if r.header_only() {
        return ffi::OK;
    }
    let mut bb = Brigade::new(r);
    bb.push_copy(body.as_bytes());
    bb.push_eos();
    let _ = bb.pass();
    ffi::OK
}
