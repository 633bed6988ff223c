//! Reverse proxying with mod_proxy: `--proxy-mount-point` (a sub URL of
//! this site) and `--proxy-virtual-host` (a whole host name), with the
//! X-Forwarded-* headers a backend needs to build its URLs.

use std::fmt::Write as _;

use crate::quote::q;
use crate::server_args::pairs;
use crate::settings::Settings;

pub fn proxies(c: &mut String, s: &Settings) {
    let w = &s.web;
    if w.proxy_mount_point.is_empty() && w.proxy_virtual_host.is_empty() {
        return;
    }
    let _ = writeln!(c, "\n# Reverse proxies.");
    let timeout = w.proxy_timeout.unwrap_or_else(|| {
        s.timeouts
            .iter()
            .find(|(n, _)| *n == "socket-timeout")
            .map_or(60, |(_, v)| *v)
    });
    let _ = writeln!(c, "ProxyTimeout {timeout}");
    let mut mounts: Vec<(&str, &str)> = pairs(&w.proxy_mount_point).collect();
    // The longest URL first, so that /a/b is not taken by /a.
    mounts.sort_by_key(|m| std::cmp::Reverse(m.0.len()));
    for (mount, url) in mounts {
        let prefix = match mount.trim_end_matches('/') {
            "" => "/",
            p => p,
        };
        let (from, to) = if prefix == "/" {
            ("/".to_string(), format!("{}/", url.trim_end_matches('/')))
        } else {
            (
                format!("{prefix}/"),
                format!("{}/", url.trim_end_matches('/')),
            )
        };
        let _ = writeln!(
            c,
            "ProxyPass {f} {t} upgrade=websocket\nProxyPassReverse {f} {t}\n\
             <Location {f}>\n    RequestHeader set X-Forwarded-Port \"expr=%{{SERVER_PORT}}\"\n    \
             RequestHeader set X-Forwarded-Scheme \"expr=%{{REQUEST_SCHEME}}\"\n    \
             RequestHeader set X-Forwarded-Prefix {p}\n</Location>",
            f = q(&from),
            t = q(&to),
            p = q(prefix),
        );
        if prefix != "/" {
            // /prefix without its slash: redirect to /prefix/.
            let _ = writeln!(
                c,
                "RedirectMatch 302 {} {}",
                q(&format!("^{prefix}$")),
                q(&from)
            );
        }
    }
    for (host, url) in pairs(&w.proxy_virtual_host) {
        let to = format!("{}/", url.trim_end_matches('/'));
        let _ = writeln!(
            c,
            "<VirtualHost {}>\nServerName {host}\nProxyPass / {t} upgrade=websocket\n\
             ProxyPassReverse / {t}\nRequestHeader set X-Forwarded-Port \"expr=%{{SERVER_PORT}}\"\n\
             RequestHeader set X-Forwarded-Scheme \"expr=%{{REQUEST_SCHEME}}\"\n</VirtualHost>",
            s.listen(),
            t = q(&to),
        );
    }
}
