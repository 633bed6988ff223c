//! WSGITrustedProxyHeaders / WSGITrustedProxies (pure logic).
//!
//! Headers set by a front-end proxy (X-Forwarded-For, X-Real-IP, ...) are
//! believed only when the connection comes from a trusted proxy, and only
//! the header kinds the configuration names. Every header of a proxy kind
//! that is not believed is removed from environ, so an application that
//! reads, say, HTTP_X_REAL_IP itself cannot be fooled by a client that
//! sends one (the CVE-2022-2255 class).

use crate::config::IpSubnet;
use std::net::IpAddr;

/// What a believed header overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    ClientAddr,
    Host,
    Server,
    Port,
    Scheme,
    Https,
    ScriptName,
}

/// Every proxy header this module knows, as environ keys.
const KINDS: &[(&str, Purpose)] = &[
    ("HTTP_X_FORWARDED_FOR", Purpose::ClientAddr),
    ("HTTP_X_CLIENT_IP", Purpose::ClientAddr),
    ("HTTP_X_REAL_IP", Purpose::ClientAddr),
    ("HTTP_X_FORWARDED_HOST", Purpose::Host),
    ("HTTP_X_FORWARDED_SERVER", Purpose::Server),
    ("HTTP_X_FORWARDED_PORT", Purpose::Port),
    ("HTTP_X_FORWARDED_PROTO", Purpose::Scheme),
    ("HTTP_X_FORWARDED_SCHEME", Purpose::Scheme),
    ("HTTP_X_SCHEME", Purpose::Scheme),
    ("HTTP_X_FORWARDED_HTTPS", Purpose::Https),
    ("HTTP_X_FORWARDED_SSL", Purpose::Https),
    ("HTTP_X_HTTPS", Purpose::Https),
    ("HTTP_X_SCRIPT_NAME", Purpose::ScriptName),
];

/// True for environ keys of headers a proxy may set.
pub fn is_proxy_header(key: &[u8]) -> bool {
    KINDS.iter().any(|(k, _)| k.as_bytes() == key)
}

fn purpose(key: &str) -> Option<Purpose> {
    KINDS.iter().find(|(k, _)| *k == key).map(|(_, p)| *p)
}

/// The configured policy for a request.
pub struct Policy<'a> {
    /// Believed header kinds, as environ keys (HTTP_X_FORWARDED_FOR...).
    pub headers: &'a [String],
    /// Trusted peers; empty means every peer is trusted.
    pub proxies: &'a [IpSubnet],
}

/// The outcome: headers to keep in environ and variables to override.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub keep: Vec<(String, Vec<u8>)>,
    pub overrides: Vec<(&'static str, Vec<u8>)>,
}

/// An address from a proxy header, if it is one: an IP, optionally with
/// a port (`1.2.3.4:80`, `[::1]:80`), which is dropped.
fn address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (ip, port) = hop.rsplit_once(':')?;
    if port.bytes().all(|b| b.is_ascii_digit()) {
        ip.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
    } else {
        None
    }
}

/// A host name (and port) as HTTP allows it in Host.
fn valid_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:[]".contains(&b))
}

fn trusted(proxies: &[IpSubnet], addr: &str) -> bool {
    addr.trim()
        .parse::<IpAddr>()
        .is_ok_and(|ip| proxies.iter().any(|s| s.contains(ip)))
}

/// Decides, for the proxy headers present in a request, which stay in
/// environ and what they override. `present` holds (environ key, value).
pub fn resolve(policy: &Policy<'_>, peer: &str, present: &[(String, Vec<u8>)]) -> Resolved {
    let mut out = Resolved::default();
    let peer_trusted = policy.proxies.is_empty() || trusted(policy.proxies, peer);
    if !peer_trusted {
        return out;
    }
    // For each purpose, the first configured header kind that is present
    // wins; the others of that purpose are dropped.
    let mut done: Vec<Purpose> = Vec::new();
    for name in policy.headers {
        let Some(p) = purpose(name) else { continue };
        // X-Forwarded-SSL and X-Forwarded-Proto decide the same thing.
        let category = if p == Purpose::Https {
            Purpose::Scheme
        } else {
            p
        };
        if done.contains(&category) {
            continue;
        }
        let Some((_, value)) = present.iter().find(|(k, _)| k == name) else {
            continue;
        };
        done.push(category);
        out.keep.push((name.clone(), value.clone()));
        let text = String::from_utf8_lossy(value);
        let value = text.trim();
        match p {
            Purpose::ClientAddr => {
                // X-Forwarded-For: client, proxy1, proxy2. Walk from the
                // right past trusted proxies; the first other is the client.
                // Anything that is not an address ends the walk: nothing
                // past it can be believed.
                let hops: Vec<&str> = value
                    .split(',')
                    .map(str::trim)
                    .filter(|h| !h.is_empty())
                    .collect();
                let mut client = None;
                for hop in hops.iter().rev() {
                    let Some(ip) = address(hop) else { break };
                    client = Some(ip);
                    if !policy.proxies.iter().any(|s| s.contains(ip)) {
                        break;
                    }
                }
                if let Some(ip) = client {
                    out.overrides
                        .push(("REMOTE_ADDR", ip.to_string().into_bytes()));
                }
            }
            Purpose::Host => {
                let host = value.split(',').next().unwrap_or("").trim();
                if valid_host(host) {
                    out.overrides.push(("HTTP_HOST", host.as_bytes().to_vec()));
                }
            }
            Purpose::Server => {
                if valid_host(value) {
                    out.overrides
                        .push(("SERVER_NAME", value.as_bytes().to_vec()));
                }
            }
            Purpose::Port => {
                if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
                    out.overrides
                        .push(("SERVER_PORT", value.as_bytes().to_vec()));
                }
            }
            Purpose::Scheme => {
                let v = value.to_ascii_lowercase();
                if v == "https" || v == "http" {
                    out.overrides.push(("wsgi.url_scheme", v.into_bytes()));
                }
            }
            Purpose::Https => {
                let on = matches!(
                    value.to_ascii_lowercase().as_str(),
                    "on" | "1" | "true" | "yes"
                );
                out.overrides.push((
                    "wsgi.url_scheme",
                    if on {
                        b"https".to_vec()
                    } else {
                        b"http".to_vec()
                    },
                ));
            }
            Purpose::ScriptName => {
                // An absolute path without spaces or control characters.
                if value.starts_with('/') && value.bytes().all(|b| b > b' ' && b != 0x7f) {
                    let path = value.trim_end_matches('/');
                    out.overrides
                        .push(("SCRIPT_NAME", path.as_bytes().to_vec()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(k: &str, v: &str) -> (String, Vec<u8>) {
        (k.to_string(), v.as_bytes().to_vec())
    }

    fn subnets(list: &[&str]) -> Vec<IpSubnet> {
        list.iter().map(|s| IpSubnet::parse(s).unwrap()).collect()
    }

    #[test]
    fn untrusted_peer_loses_every_proxy_header() {
        let headers = vec!["HTTP_X_FORWARDED_FOR".to_string()];
        let proxies = subnets(&["10.0.0.1"]);
        let policy = Policy {
            headers: &headers,
            proxies: &proxies,
        };
        let present = vec![
            h("HTTP_X_FORWARDED_FOR", "1.2.3.4"),
            h("HTTP_X_CLIENT_IP", "6.6.6.6"),
        ];
        assert_eq!(
            resolve(&policy, "192.168.1.9", &present),
            Resolved::default()
        );
    }

    #[test]
    fn trusted_peer_sets_remote_addr_and_drops_other_kinds() {
        let headers = vec!["HTTP_X_FORWARDED_FOR".to_string()];
        let proxies = subnets(&["10.0.0.0/8"]);
        let policy = Policy {
            headers: &headers,
            proxies: &proxies,
        };
        let present = vec![
            h("HTTP_X_FORWARDED_FOR", "203.0.113.7, 10.1.1.1"),
            h("HTTP_X_REAL_IP", "6.6.6.6"),
        ];
        let r = resolve(&policy, "10.0.0.2", &present);
        assert_eq!(r.overrides, vec![("REMOTE_ADDR", b"203.0.113.7".to_vec())]);
        assert_eq!(
            r.keep,
            vec![h("HTTP_X_FORWARDED_FOR", "203.0.113.7, 10.1.1.1")]
        );
    }

    #[test]
    fn spoofed_leftmost_entry_is_not_believed() {
        // The client sent "X-Forwarded-For: 1.1.1.1"; the proxy appended
        // the real client. Only the proxy's entry is believed.
        let headers = vec!["HTTP_X_FORWARDED_FOR".to_string()];
        let proxies = subnets(&["127.0.0.1"]);
        let policy = Policy {
            headers: &headers,
            proxies: &proxies,
        };
        let present = vec![h("HTTP_X_FORWARDED_FOR", "1.1.1.1, 198.51.100.4")];
        let r = resolve(&policy, "127.0.0.1", &present);
        assert_eq!(r.overrides, vec![("REMOTE_ADDR", b"198.51.100.4".to_vec())]);
    }

    #[test]
    fn scheme_host_port_and_script_name() {
        let headers: Vec<String> = [
            "HTTP_X_FORWARDED_PROTO",
            "HTTP_X_FORWARDED_HOST",
            "HTTP_X_FORWARDED_PORT",
            "HTTP_X_SCRIPT_NAME",
            "HTTP_X_FORWARDED_SSL",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let policy = Policy {
            headers: &headers,
            proxies: &[],
        };
        let present = vec![
            h("HTTP_X_FORWARDED_PROTO", "HTTPS"),
            h("HTTP_X_FORWARDED_HOST", "example.com, other"),
            h("HTTP_X_FORWARDED_PORT", "8443"),
            h("HTTP_X_SCRIPT_NAME", "/prefix"),
            h("HTTP_X_FORWARDED_SSL", "off"),
        ];
        let r = resolve(&policy, "127.0.0.1", &present);
        assert!(r
            .overrides
            .contains(&("wsgi.url_scheme", b"https".to_vec())));
        assert!(r
            .overrides
            .contains(&("HTTP_HOST", b"example.com".to_vec())));
        assert!(r.overrides.contains(&("SERVER_PORT", b"8443".to_vec())));
        assert!(r.overrides.contains(&("SCRIPT_NAME", b"/prefix".to_vec())));
        // The scheme was decided by the first configured kind.
        assert_eq!(
            r.overrides
                .iter()
                .filter(|(k, _)| *k == "wsgi.url_scheme")
                .count(),
            1
        );
    }

    #[test]
    fn values_that_are_not_addresses_or_hosts_are_not_believed() {
        let headers: Vec<String> = [
            "HTTP_X_FORWARDED_FOR",
            "HTTP_X_FORWARDED_HOST",
            "HTTP_X_SCRIPT_NAME",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let policy = Policy {
            headers: &headers,
            proxies: &[],
        };
        let r = resolve(
            &policy,
            "127.0.0.1",
            &[
                h("HTTP_X_FORWARDED_FOR", "1.2.3.4, <script>alert(1)</script>"),
                h("HTTP_X_FORWARDED_HOST", "evil.com/path with space"),
                h("HTTP_X_SCRIPT_NAME", "relative"),
            ],
        );
        assert!(r.overrides.is_empty(), "{:?}", r.overrides);
        let r = resolve(
            &policy,
            "127.0.0.1",
            &[h("HTTP_X_FORWARDED_FOR", "5.6.7.8:80")],
        );
        assert_eq!(r.overrides, vec![("REMOTE_ADDR", b"5.6.7.8".to_vec())]);
        let r = resolve(
            &policy,
            "127.0.0.1",
            &[h("HTTP_X_FORWARDED_FOR", "[2001:db8::1]:443")],
        );
        assert_eq!(r.overrides, vec![("REMOTE_ADDR", b"2001:db8::1".to_vec())]);
    }

    #[test]
    fn bad_port_is_ignored_and_kinds_are_known() {
        let headers = vec!["HTTP_X_FORWARDED_PORT".to_string()];
        let policy = Policy {
            headers: &headers,
            proxies: &[],
        };
        let r = resolve(
            &policy,
            "127.0.0.1",
            &[h("HTTP_X_FORWARDED_PORT", "80; rm -rf")],
        );
        assert!(r.overrides.is_empty());
        assert!(is_proxy_header(b"HTTP_X_REAL_IP"));
        assert!(!is_proxy_header(b"HTTP_HOST"));
    }
}
