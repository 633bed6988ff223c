//! The error log and, with --access-log, the access log: their formats and
//! rotation (rotatelogs).

use std::fmt::Write as _;
use std::path::Path;

use crate::quote::qp;
use crate::settings::Settings;

/// The ErrorLog / CustomLog target: the file, or a pipe to rotatelogs.
fn target(s: &Settings, file: &Path) -> String {
    match &s.rotatelogs {
        Some(rotatelogs) if !s.log_to_terminal => format!(
            "\"|{} {}.%Y-%m-%d-%H_%M_%S {}M\"",
            rotatelogs.display(),
            file.display(),
            s.logs.max_log_size
        ),
        _ => qp(file),
    }
}

/// A log format inside double quotes.
fn quoted_format(f: &str) -> String {
    format!("\"{}\"", f.replace('"', "\\\""))
}

pub fn logs(c: &mut String, s: &Settings) {
    let _ = writeln!(
        c,
        "\nErrorLog {}\nLogLevel {}",
        target(s, &s.error_log()),
        s.log_level
    );
    if let Some(f) = &s.logs.error_log_format {
        let _ = writeln!(c, "ErrorLogFormat {}", quoted_format(f));
    }
    if s.access_log {
        let _ = writeln!(
            c,
            "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b\" common\n\
             LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{{Referer}}i\\\" \\\"%{{User-Agent}}i\\\"\" combined"
        );
        let nickname = match s.logs.access_log_format.as_deref() {
            None => "combined",
            Some(n @ ("common" | "combined")) => n,
            Some(f) => {
                let _ = writeln!(c, "LogFormat {} custom", quoted_format(f));
                "custom"
            }
        };
        let _ = writeln!(
            c,
            "CustomLog {} {nickname}",
            target(s, &s.access_log_path())
        );
    }
}
