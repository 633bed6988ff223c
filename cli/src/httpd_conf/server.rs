//! The server itself: its files, where it listens, who it runs as, the
//! modules it loads and how it treats connections.

use std::fmt::Write as _;

use crate::quote::{q, qp};
use crate::settings::{Mpm, Settings};

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
    let mut modules = vec![
        "unixd",
        "authz_core",
        "log_config",
        "mime",
        "dir",
        "alias",
        "reqtimeout",
    ];
    let w = &s.web;
    let proxy = !w.proxy_mount_point.is_empty() || !w.proxy_virtual_host.is_empty();
    let user_auth = |kind: &str| s.auth.user.as_ref().is_some_and(|u| u.auth_type == kind);
    let wanted = [
        (
            "rewrite",
            (s.document_root.is_some() && s.mount_point == "/")
                || s.https.is_some()
                || !s.server_aliases.is_empty()
                || s.rewrite_rules.is_some()
                || proxy,
        ),
        (
            "authz_host",
            w.server_status || w.server_metrics || !s.server_aliases.is_empty(),
        ),
        ("authn_core", s.auth.user.is_some()),
        ("auth_basic", user_auth("Basic")),
        ("auth_digest", user_auth("Digest")),
        ("authz_user", s.auth.user.is_some()),
        ("ssl", s.https.is_some()),
        ("socache_shmcb", s.https.is_some()),
        ("http2", s.http2),
        (
            "headers",
            proxy || s.https.as_ref().is_some_and(|h| h.hsts_policy.is_some()),
        ),
        ("proxy", proxy),
        ("proxy_http", proxy),
        ("env", !s.env.setenv.is_empty() || !s.env.passenv.is_empty()),
        ("status", w.server_status),
        ("filter", w.compress_responses),
        ("deflate", w.compress_responses),
        ("autoindex", w.directory_listing),
        (
            if s.mpm == Mpm::Prefork { "cgi" } else { "cgid" },
            w.with_cgi,
        ),
    ];
    modules.extend(wanted.iter().filter(|(_, on)| *on).map(|(m, _)| *m));
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
    let w = &s.web;
    let keep_alive = if w.keep_alive_timeout == 0 {
        "KeepAlive Off".to_string()
    } else {
        format!(
            "KeepAlive On\nKeepAliveTimeout {}\nMaxKeepAliveRequests 100",
            w.keep_alive_timeout
        )
    };
    let _ = writeln!(
        c,
        "\nTimeout {socket_timeout}\n{keep_alive}\nListenBacklog {}\n\
         LimitRequestBody {}\nHostnameLookups Off\nTraceEnable Off\nServerSignature Off\nServerTokens Prod",
        w.server_backlog, s.limit_request_body
    );
    let rate = |n: u32| {
        if n == 0 {
            String::new()
        } else {
            format!(",MinRate={n}")
        }
    };
    let range = |t: u32, max: u32| {
        if max > t {
            format!("{t}-{max}")
        } else {
            t.to_string()
        }
    };
    let _ = writeln!(
        c,
        "RequestReadTimeout header={}{} body={}{}",
        range(w.header_timeout, w.header_max_timeout),
        rate(w.header_min_rate),
        range(w.body_timeout, w.body_max_timeout),
        rate(w.body_min_rate),
    );
}

/// With --server-alias: name-based virtual hosts. Requests for the names
/// (or, with --allow-localhost, from this machine) reach the site, which
/// the virtual hosts inherit from the main server; any other is refused.
pub fn virtual_hosts(c: &mut String, s: &Settings) {
    if s.server_aliases.is_empty() {
        return;
    }
    let deny = if s.allow_localhost {
        "Require local"
    } else {
        "Require all denied"
    };
    let mut ports = vec![s.port];
    ports.extend(s.https.as_ref().map(|h| h.port));
    let _ = writeln!(c, "\n# Name-based virtual hosts (--server-alias).");
    for port in ports {
        let ssl = super::https::vhost_ssl(s, port);
        let _ = writeln!(
            c,
            "<VirtualHost _default_:{port}>\nServerName _default_.invalid\n<Location />\n    {deny}\n</Location>\n{ssl}</VirtualHost>\n\
             <VirtualHost *:{port}>\nServerName {}\nServerAlias {}\n{ssl}</VirtualHost>",
            s.server_name,
            s.server_aliases.join(" ")
        );
    }
}
