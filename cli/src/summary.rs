//! The summary start-server and setup-server print: where everything is
//! and how the application runs.

use crate::httpd_conf::mpm::MpmLimits;
use crate::settings::{Entry, Settings};

/// One `Name: value` line per fact.
pub fn summary(s: &Settings) -> String {
    let mut lines = vec![("Server URL", s.url())];
    if let Some(h) = &s.https {
        lines.push(("HTTPS URL", s.url_on("https", h.port)));
    }
    lines.extend([
        ("Server Root", s.server_root.display().to_string()),
        ("Server Conf", s.conf_path().display().to_string()),
        (
            "Error Log File",
            format!("{} ({})", s.error_log().display(), s.log_level),
        ),
    ]);
    if s.access_log {
        lines.push(("Access Log File", s.access_log_path().display().to_string()));
    }
    let app = match &s.entry {
        Entry::Script(p) => p.display().to_string(),
        Entry::Module { module, callable } => format!("{module}:{callable} (module)"),
        Entry::Paste(p) => format!("{} (Paste)", p.display()),
        Entry::Static(p) => format!("{} (static files only)", p.display()),
    };
    lines.push(("Application", app));
    lines.push((
        "Operating Mode",
        if s.embedded {
            format!(
                "embedded ({} process(es) x {} thread(s))",
                s.processes, s.threads
            )
        } else {
            format!(
                "daemon group {} ({} process(es) x {} thread(s))",
                s.group_name(),
                s.processes,
                s.threads
            )
        },
    ));
    let max = MpmLimits::of(s).max_request_workers;
    lines.push(("Max Clients", max.to_string()));
    if !s.embedded {
        let t: Vec<String> = s
            .timeouts
            .iter()
            .map(|(n, v)| format!("{}={v}", n.trim_end_matches("-timeout")))
            .collect();
        lines.push(("Timeouts (s)", t.join(" ")));
    }
    if s.reload {
        lines.push(("Reloading", "on changes to imported modules".to_string()));
    }
    if let Some((home, _)) = &s.python_home {
        lines.push(("Python Home", home.display().to_string()));
    }
    lines.push((
        "Module",
        match &s.python_version {
            Some(v) => format!("{} (Python {v})", s.module_so.display()),
            None => s.module_so.display().to_string(),
        },
    ));
    lines.push(("Apache", s.httpd.display().to_string()));
    if let Some((u, g)) = &s.run_as {
        lines.push(("Runs As", format!("{u}:{g}")));
    }
    lines
        .into_iter()
        .map(|(k, v)| format!("{k:<16}: {v}\n"))
        .collect()
}
