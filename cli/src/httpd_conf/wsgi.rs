//! The application: mod_wsgi_rs, its Python, the daemon process group (or
//! embedded mode), the WSGIScriptAlias and the module's request settings.

use std::fmt::Write as _;

use crate::quote::{q, qp};
use crate::settings::{Entry, Settings};

use super::documents::grant_file;

pub fn application(c: &mut String, s: &Settings) {
    let _ = writeln!(c, "\n# The application.");
    if let Some(lib) = &s.libpython {
        let _ = writeln!(c, "LoadFile {}", qp(lib));
    }
    let _ = writeln!(c, "LoadModule wsgi_module {}", qp(&s.module_so));
    if let Some((home, _)) = &s.python_home {
        let _ = writeln!(c, "WSGIPythonHome {}", qp(home));
    }
    module_settings(c, s);
    if !s.has_application() {
        return;
    }
    let app_group = &s.application_group;
    let group = if s.embedded {
        if !s.python_paths.is_empty() {
            let _ = writeln!(c, "WSGIPythonPath {}", q(&python_path(s)));
        }
        "%{GLOBAL}".to_string()
    } else {
        daemon_process(c, s);
        s.group_name()
    };
    let _ = writeln!(c, "WSGIProcessGroup {group}");
    let _ = writeln!(c, "WSGIApplicationGroup {app_group}");
    let callable = match &s.entry {
        Entry::Script(_) => s.callable_object.as_str(),
        _ => "application",
    };
    let _ = writeln!(c, "WSGICallableObject {}", q(callable));
    let script = s.script_path();
    // Giving both groups preloads the application when its process starts.
    let _ = writeln!(
        c,
        "WSGIScriptAlias {} {} process-group={group} application-group={app_group}",
        q(&s.mount_point),
        qp(&script)
    );
    grant_file(c, &script);
    if !s.embedded {
        for url in &s.ignore_activity {
            let _ = writeln!(
                c,
                "<Location {}>\n    WSGIIgnoreActivity On\n</Location>",
                q(url)
            );
        }
    }
    if s.reload {
        let _ = writeln!(
            c,
            "# --reload-on-changes\nWSGIImportScript {} process-group={group} application-group={app_group}",
            qp(&s.monitor_path())
        );
    }
}

/// The module's settings that do not depend on the application.
fn module_settings(c: &mut String, s: &Settings) {
    let w = &s.web;
    let flags = [
        ("WSGIScriptReloading Off", w.disable_reloading),
        ("WSGIChunkedRequest On", w.chunked_request),
        ("WSGIEnableSendfile On", w.enable_sendfile),
        ("WSGIErrorOverride On", w.error_override),
        ("WSGIVerboseDebugging On", s.logs.verbose_debugging),
    ];
    for (line, on) in flags {
        if on {
            let _ = writeln!(c, "{line}");
        }
    }
    if s.children_run_python() {
        // What the daemon processes take as switch-interval= and
        // python-eggs=, for the Python of Apache's children.
        if let Some(seconds) = &s.switch_interval {
            let _ = writeln!(c, "WSGISwitchInterval {seconds}");
        }
        if let Some(eggs) = &s.python_eggs {
            let _ = writeln!(c, "WSGIPythonEggs {}", qp(eggs));
        }
    }
    if w.map_head_to_get != "Auto" {
        let _ = writeln!(c, "WSGIMapHEADToGET {}", w.map_head_to_get);
    }
    for spec in &s.env.python_warnings {
        let _ = writeln!(c, "WSGIPythonWarnings {}", q(spec));
    }
    if !w.trust_proxy_header.is_empty() {
        let _ = writeln!(
            c,
            "WSGITrustedProxyHeaders {}",
            w.trust_proxy_header.join(" ")
        );
        if !w.trust_proxy.is_empty() {
            let _ = writeln!(c, "WSGITrustedProxies {}", w.trust_proxy.join(" "));
        }
    }
}

fn python_path(s: &Settings) -> String {
    s.python_paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":")
}

/// WSGIRestrictEmbedded, WSGISocketPrefix and WSGIDaemonProcess.
fn daemon_process(c: &mut String, s: &Settings) {
    // The access and authentication scripts run in Apache's children, which
    // mod_wsgi_rs gives no Python under WSGIRestrictEmbedded On.
    if !s.children_run_python() {
        let _ = writeln!(c, "WSGIRestrictEmbedded On");
    }
    let _ = writeln!(c, "WSGISocketPrefix {}", qp(&s.socket_prefix()));
    // processes= is left out for a single process: giving it at all makes
    // wsgi.multiprocess True, as in mod_wsgi.
    let pool = if s.processes > 1 {
        format!("processes={} threads={}", s.processes, s.threads)
    } else {
        format!("threads={}", s.threads)
    };
    let mut d = format!(
        "WSGIDaemonProcess {} \\\n    display-name={} \\\n    {pool}",
        s.group_name(),
        q(&s.display_name()),
    );
    if s.daemon_home {
        let _ = write!(d, " \\\n    home={}", qp(&s.working_directory));
    }
    if let Some((home, _)) = &s.python_home {
        let _ = write!(d, " \\\n    python-home={}", qp(home));
    }
    if !s.python_paths.is_empty() {
        let _ = write!(d, " \\\n    python-path={}", q(&python_path(s)));
    }
    let timeouts: Vec<String> = s.timeouts.iter().map(|(n, v)| format!("{n}={v}")).collect();
    for chunk in timeouts.chunks(4) {
        let _ = write!(d, " \\\n    {}", chunk.join(" "));
    }
    if let Some(m) = s.maximum_requests {
        let _ = write!(d, " \\\n    maximum-requests={m}");
    }
    if s.web.server_metrics {
        let _ = write!(d, " \\\n    server-metrics=On");
    }
    if let Some(eggs) = &s.python_eggs {
        let _ = write!(d, " \\\n    python-eggs={}", qp(eggs));
    }
    let extra: Vec<String> = s
        .daemon_options
        .iter()
        .map(|(n, v)| format!("{n}={}", q(v)))
        .collect();
    for chunk in extra.chunks(3) {
        let _ = write!(d, " \\\n    {}", chunk.join(" "));
    }
    let _ = writeln!(c, "{d}");
}
