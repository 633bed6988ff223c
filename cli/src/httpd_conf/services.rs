//! `--service-script`: each service is a daemon process group of its own,
//! `service:NAME` (its processes named `(wsgi:HOST:PORT:UID):service:NAME`), that imports the script when it starts
//! (WSGIImportScript) and serves no requests (threads=0, as in
//! mod_wsgi-express: a request routed there gets a 503).

use std::fmt::Write as _;

use crate::quote::{q, qp};
use crate::settings::Settings;

pub fn services(c: &mut String, s: &Settings) {
    if s.services.is_empty() {
        return;
    }
    let _ = writeln!(c, "\n# Services (--service-script).");
    if s.embedded {
        let _ = writeln!(c, "WSGISocketPrefix {}", qp(&s.socket_prefix()));
    }
    for svc in &s.services {
        let group = format!("service:{}", svc.name);
        let mut d = format!(
            "WSGIDaemonProcess {} display-name={} threads=0",
            q(&group),
            // Named after the server's processes, so that start-server
            // finds any left behind.
            q(&format!("{}:{group}", s.display_name()))
        );
        if s.daemon_home {
            let _ = write!(d, " home={}", qp(&s.working_directory));
        }
        if let Some((home, _)) = &s.python_home {
            let _ = write!(d, " python-home={}", qp(home));
        }
        if s.run_as.is_some() {
            if let Some(u) = &svc.user {
                let _ = write!(d, " user={}", q(u));
            }
            if let Some(g) = &svc.group {
                let _ = write!(d, " group={}", q(g));
            }
        }
        for (n, v) in &s.daemon_options {
            if matches!(*n, "lang" | "locale") {
                let _ = write!(d, " {n}={}", q(v));
            }
        }
        let import = format!(
            "WSGIImportScript {} process-group={} application-group=%{{GLOBAL}}",
            qp(&svc.script),
            q(&group)
        );
        let _ = writeln!(c, "{d}\n{import}");
        super::documents::grant_file(c, &svc.script);
    }
}
