//! The error log and, with --access-log, the access log.

use std::fmt::Write as _;

use crate::quote::qp;
use crate::settings::Settings;

pub fn logs(c: &mut String, s: &Settings) {
    let _ = writeln!(
        c,
        "\nErrorLog {}\nLogLevel {}",
        qp(&s.error_log()),
        s.log_level
    );
    if s.access_log {
        let _ = writeln!(
            c,
            "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{{Referer}}i\\\" \\\"%{{User-Agent}}i\\\"\" combined\nCustomLog {} combined",
            qp(&s.access_log_path())
        );
    }
}
