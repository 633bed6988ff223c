//! What Apache adds to responses or serves about itself: gzip compression
//! of text (--compress-responses), the status page (--server-status) and
//! the metrics (--server-metrics).

use std::fmt::Write as _;

use crate::settings::Settings;

/// The MIME types --compress-responses compresses.
const COMPRESSED_TYPES: &str = "text/plain text/html text/xml text/css text/javascript \
                                application/xhtml+xml application/javascript application/json";

pub fn compression(c: &mut String, s: &Settings) {
    if s.web.compress_responses {
        let _ = writeln!(
            c,
            "\n# --compress-responses\nAddOutputFilterByType DEFLATE {COMPRESSED_TYPES}"
        );
    }
}

pub fn server_status(c: &mut String, s: &Settings) {
    if s.web.server_status {
        // A <Location> is looked at after the WSGIScriptAlias of / has
        // mapped the URL; SetHandler replaces the WSGI handler there.
        let _ = writeln!(
            c,
            "\n# --server-status (this machine only)\nExtendedStatus On\n\
             <Location /server-status>\n    SetHandler server-status\n    Require local\n</Location>"
        );
    }
}

pub fn server_metrics(c: &mut String, s: &Settings) {
    if s.web.server_metrics {
        // As for /server-status: SetHandler replaces the WSGI handler of a
        // WSGIScriptAlias of /. WSGIServerMetrics lets the application read
        // the same figures (mod_wsgi.server_metrics()).
        let _ = writeln!(
            c,
            "\n# --server-metrics (this machine only)\nWSGIServerMetrics On\n\
             <Location /server-metrics>\n    SetHandler wsgi-metrics\n    Require local\n</Location>"
        );
    }
}
