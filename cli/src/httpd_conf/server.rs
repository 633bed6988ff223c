//! The server itself: its files, where it listens, who it runs as, the
//! modules it loads and how it treats connections.

use std::fmt::Write as _;

use crate::quote::{q, qp};
use crate::settings::Settings;

pub fn server_files_and_listen(c: &mut String, s: &Settings) {
    let _ = writeln!(c, "ServerRoot {}", qp(&s.server_root));
    let _ = writeln!(c, "PidFile {}", qp(&s.pid_file()));
    let _ = writeln!(c, "DefaultRuntimeDir {}", qp(&s.runtime_dir()));
    let _ = writeln!(
        c,
        "Mutex {} default",
        q(&format!("file:{}", s.runtime_dir().display()))
    );
    let _ = writeln!(c, "ServerName {}", s.server_name);
    let _ = writeln!(c, "Listen {}", s.listen());
    if let Some((user, group)) = &s.run_as {
        let _ = writeln!(c, "User {}\nGroup {}", q(user), q(group));
    }
}

fn load_module(c: &mut String, s: &Settings, name: &str) {
    let file = s.modules_dir.join(format!("mod_{name}.so"));
    if s.static_modules.iter().any(|m| m == &format!("mod_{name}")) {
        return;
    }
    let _ = writeln!(
        c,
        "<IfModule !{name}_module>\n    LoadModule {name}_module {}\n</IfModule>",
        qp(&file)
    );
}

/// The MPM and the standard modules this configuration uses (not
/// mod_wsgi_rs: see `wsgi`).
pub fn modules(c: &mut String, s: &Settings) {
    let _ = writeln!(c, "\n# Modules (only those this configuration uses).");
    let mpm = s.mpm.name();
    let _ = writeln!(
        c,
        "<IfModule !mpm_event_module>\n<IfModule !mpm_worker_module>\n<IfModule !mpm_prefork_module>\n    LoadModule mpm_{mpm}_module {}\n</IfModule>\n</IfModule>\n</IfModule>",
        qp(&s.modules_dir.join(format!("mod_mpm_{mpm}.so")))
    );
    let mut modules = vec!["unixd", "authz_core", "log_config", "mime", "dir", "alias"];
    if s.document_root.is_some() && s.mount_point == "/" {
        modules.push("rewrite");
    }
    for m in modules {
        load_module(c, s, m);
    }
}

/// Timeouts, keep-alive, request size and what the server tells about itself.
pub fn connections(c: &mut String, s: &Settings) {
    let socket_timeout = s
        .timeouts
        .iter()
        .find(|(n, _)| *n == "socket-timeout")
        .map_or(60, |(_, v)| *v);
    let _ = writeln!(
        c,
        "\nTimeout {socket_timeout}\nKeepAlive On\nKeepAliveTimeout 2\nMaxKeepAliveRequests 100\n\
         LimitRequestBody {}\nHostnameLookups Off\nTraceEnable Off\nServerSignature Off\nServerTokens Prod",
        s.limit_request_body
    );
}
