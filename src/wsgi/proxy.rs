//! WSGITrustedProxyHeaders / WSGITrustedProxies (pure logic), as
//! mod_wsgi 6 documents them.
//!
//! Proxy headers come in kinds, one per purpose (the client address, the
//! host, the server name, the port, the mount point, the scheme), each
//! with several spellings. Naming one spelling in WSGITrustedProxyHeaders
//! makes its purpose *governed*: from a trusted peer (every peer when
//! WSGITrustedProxies is not set) the first configured spelling present is
//! believed and kept, and the other spellings of that purpose are removed;
//! from an untrusted peer every spelling of that purpose is removed, so an
//! application that reads, say, HTTP_X_REAL_IP itself cannot be fooled by
//! a client that sends one (the CVE-2022-2255 rule). Headers of purposes
//! the configuration does not name pass through as ordinary HTTP_*
//! variables, for frameworks that do their own proxy handling.

use crate::config::IpSubnet;
use std::net::IpAddr;

/// What a believed header overrides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    ClientAddr,
    Host,
    Server,
    Port,
    ScriptName,
    Scheme,
}

/// How a believed header's value is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Apply {
    /// X-Forwarded-For: a list of hops.
    ForwardedFor,
    /// X-Client-IP / X-Real-IP: one address.
    ClientIp,
    Host,
    Server,
    Port,
    ScriptName,
    /// `http` or `https`.
    SchemeName,
    /// `On`/`Off`, `true`/`false`, `1`/`0`.
    SchemeFlag,
}

/// Every proxy header this module knows, as environ keys (mod_wsgi 6.1's
/// registry).
const KINDS: &[(&str, Purpose, Apply)] = &[
    (
        "HTTP_X_FORWARDED_FOR",
        Purpose::ClientAddr,
        Apply::ForwardedFor,
    ),
    ("HTTP_X_CLIENT_IP", Purpose::ClientAddr, Apply::ClientIp),
    ("HTTP_X_REAL_IP", Purpose::ClientAddr, Apply::ClientIp),
    ("HTTP_X_FORWARDED_HOST", Purpose::Host, Apply::Host),
    ("HTTP_X_HOST", Purpose::Host, Apply::Host),
    ("HTTP_X_FORWARDED_SERVER", Purpose::Server, Apply::Server),
    ("HTTP_X_FORWARDED_PORT", Purpose::Port, Apply::Port),
    ("HTTP_X_SCRIPT_NAME", Purpose::ScriptName, Apply::ScriptName),
    (
        "HTTP_X_FORWARDED_SCRIPT_NAME",
        Purpose::ScriptName,
        Apply::ScriptName,
    ),
    ("HTTP_X_FORWARDED_PROTO", Purpose::Scheme, Apply::SchemeName),
    (
        "HTTP_X_FORWARDED_SCHEME",
        Purpose::Scheme,
        Apply::SchemeName,
    ),
    ("HTTP_X_SCHEME", Purpose::Scheme, Apply::SchemeName),
    ("HTTP_X_FORWARDED_HTTPS", Purpose::Scheme, Apply::SchemeFlag),
    ("HTTP_X_FORWARDED_SSL", Purpose::Scheme, Apply::SchemeFlag),
    ("HTTP_X_HTTPS", Purpose::Scheme, Apply::SchemeFlag),
];

fn kind(key: &[u8]) -> Option<(Purpose, Apply)> {
    KINDS
        .iter()
        .find(|(k, _, _)| k.as_bytes() == key)
        .map(|(_, p, a)| (*p, *a))
}

/// The configured policy for a request.
pub struct Policy<'a> {
    /// Believed header kinds, as environ keys (HTTP_X_FORWARDED_FOR...).
    pub headers: &'a [String],
    /// Trusted peers; empty means every peer is trusted.
    pub proxies: &'a [IpSubnet],
}

impl Policy<'_> {
    /// True when `key` (an environ key) is a proxy header of a purpose the
    /// configuration names: such headers are kept only as `resolve` says.
    /// Other headers, proxy kinds included, pass through unchanged.
    pub(crate) fn governs(&self, key: &[u8]) -> bool {
        let Some((purpose, _)) = kind(key) else {
            return false;
        };
        self.headers
            .iter()
            .any(|h| kind(h.as_bytes()).is_some_and(|(p, _)| p == purpose))
    }
}

/// The outcome: governed headers to keep in environ (their value possibly
/// rewritten), variables to override, and the scheme if a header decided it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub keep: Vec<(String, Vec<u8>)>,
    pub overrides: Vec<(&'static str, Vec<u8>)>,
    /// Some(true) for https, Some(false) for http.
    pub https: Option<bool>,
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

/// X-Forwarded-For: `client, proxy1, proxy2`. Returns the client address
/// and the list to keep. With trusted proxies, the walk goes from the
/// right past trusted proxies; the hop before the leftmost trusted one is
/// the client, and the list keeps it and what follows (as mod_wsgi 6). With
/// none configured (every peer trusted) the leftmost hop is the client and
/// the list is kept as sent. Anything that is not an address is never
/// believed as the client (mod_wsgi would take it verbatim).
fn forwarded_for(proxies: &[IpSubnet], value: &str) -> (Option<IpAddr>, Option<String>) {
    let hops: Vec<&str> = value
        .split(',')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .collect();
    let Some(last) = hops.last() else {
        return (None, None);
    };
    if proxies.is_empty() {
        return (address(hops[0]), None);
    }
    let mut first = None;
    for (i, hop) in hops.iter().enumerate().rev() {
        match address(hop) {
            Some(ip) if proxies.iter().any(|s| s.contains(ip)) => first = Some(i),
            _ => break,
        }
    }
    match first {
        Some(i) => {
            let i = i.saturating_sub(1);
            (address(hops[i]), Some(hops[i..].join(", ")))
        }
        None => (address(last), Some((*last).to_string())),
    }
}

/// Decides, for the governed proxy headers present in a request, which
/// stay in environ and what they override. `present` holds (environ key,
/// value) of the headers `Policy::governs`.
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
        let Some((purpose, apply)) = kind(name.as_bytes()) else {
            continue;
        };
        if done.contains(&purpose) {
            continue;
        }
        let Some((_, raw)) = present.iter().find(|(k, _)| k == name) else {
            continue;
        };
        done.push(purpose);
        let text = String::from_utf8_lossy(raw);
        let value = text.trim();
        let mut kept = raw.clone();
        match apply {
            Apply::ForwardedFor => {
                let (client, list) = forwarded_for(policy.proxies, value);
                if let Some(ip) = client {
                    out.overrides
                        .push(("REMOTE_ADDR", ip.to_string().into_bytes()));
                }
                if let Some(list) = list {
                    kept = list.into_bytes();
                }
            }
            Apply::ClientIp => {
                if let Some(ip) = address(value) {
                    out.overrides
                        .push(("REMOTE_ADDR", ip.to_string().into_bytes()));
                }
            }
            Apply::Host => {
                let host = value.split(',').next().unwrap_or("").trim();
                if valid_host(host) {
                    out.overrides.push(("HTTP_HOST", host.as_bytes().to_vec()));
                }
            }
            Apply::Server => {
                if valid_host(value) {
                    out.overrides
                        .push(("SERVER_NAME", value.as_bytes().to_vec()));
                }
            }
            Apply::Port => {
                if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
                    out.overrides
                        .push(("SERVER_PORT", value.as_bytes().to_vec()));
                }
            }
            Apply::ScriptName => {
                // An absolute path without spaces or control characters.
                if value.starts_with('/') && value.bytes().all(|b| b > b' ' && b != 0x7f) {
                    let path = value.trim_end_matches('/').as_bytes().to_vec();
                    out.overrides.push(("SCRIPT_NAME", path.clone()));
                    out.overrides.push(("mod_wsgi.mount_point", path));
                }
            }
            Apply::SchemeName => {
                if value.eq_ignore_ascii_case("https") {
                    out.https = Some(true);
                } else if value.eq_ignore_ascii_case("http") {
                    out.https = Some(false);
                }
            }
            Apply::SchemeFlag => {
                let v = value.to_ascii_lowercase();
                if matches!(v.as_str(), "on" | "true" | "1") {
                    out.https = Some(true);
                } else if matches!(v.as_str(), "off" | "false" | "0") {
                    out.https = Some(false);
                }
            }
        }
        out.keep.push((name.clone(), kept));
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
        // The scheme was decided by the first configured kind present.
        assert_eq!(r.https, Some(true));
        assert!(r
            .overrides
            .contains(&("HTTP_HOST", b"example.com".to_vec())));
        assert!(r.overrides.contains(&("SERVER_PORT", b"8443".to_vec())));
        assert!(r.overrides.contains(&("SCRIPT_NAME", b"/prefix".to_vec())));
        assert!(r
            .overrides
            .contains(&("mod_wsgi.mount_point", b"/prefix".to_vec())));
        assert!(!r.keep.iter().any(|(k, _)| k == "HTTP_X_FORWARDED_SSL"));
    }

    #[test]
    fn scheme_values_as_mod_wsgi_6() {
        for (header, value, https) in [
            ("HTTP_X_FORWARDED_PROTO", "HTTPS", Some(true)),
            ("HTTP_X_FORWARDED_PROTO", "http", Some(false)),
            ("HTTP_X_FORWARDED_PROTO", "javascript", None),
            ("HTTP_X_FORWARDED_SSL", "On", Some(true)),
            ("HTTP_X_FORWARDED_SSL", "true", Some(true)),
            ("HTTP_X_HTTPS", "1", Some(true)),
            ("HTTP_X_HTTPS", "0", Some(false)),
            ("HTTP_X_FORWARDED_HTTPS", "off", Some(false)),
            ("HTTP_X_FORWARDED_HTTPS", "yes", None),
        ] {
            let headers = vec![header.to_string()];
            let policy = Policy {
                headers: &headers,
                proxies: &[],
            };
            let r = resolve(&policy, "127.0.0.1", &[h(header, value)]);
            assert_eq!(r.https, https, "{header}: {value}");
        }
    }

    #[test]
    fn only_configured_purposes_are_governed() {
        let headers = vec!["HTTP_X_FORWARDED_FOR".to_string()];
        let policy = Policy {
            headers: &headers,
            proxies: &[],
        };
        assert!(policy.governs(b"HTTP_X_FORWARDED_FOR"));
        assert!(policy.governs(b"HTTP_X_REAL_IP"));
        assert!(policy.governs(b"HTTP_X_CLIENT_IP"));
        assert!(!policy.governs(b"HTTP_X_FORWARDED_PROTO"));
        assert!(!policy.governs(b"HTTP_X_FORWARDED_HOST"));
        assert!(!policy.governs(b"HTTP_HOST"));
        let headers = vec!["HTTP_X_FORWARDED_SCRIPT_NAME".to_string()];
        let policy = Policy {
            headers: &headers,
            proxies: &[],
        };
        assert!(policy.governs(b"HTTP_X_SCRIPT_NAME"));
        assert!(!policy.governs(b"HTTP_X_FORWARDED_FOR"));
    }

    #[test]
    fn forwarded_for_without_trusted_proxies_takes_the_leftmost() {
        let (ip, list) = forwarded_for(&[], " , 203.0.113.9, 10.0.0.1");
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(list, None);
        let proxies = subnets(&["10.0.0.0/8"]);
        let (ip, list) = forwarded_for(&proxies, "6.6.6.6, 203.0.113.9, 10.0.0.1, 10.0.0.2");
        assert_eq!(ip, Some("203.0.113.9".parse().unwrap()));
        assert_eq!(list.as_deref(), Some("203.0.113.9, 10.0.0.1, 10.0.0.2"));
        let (ip, list) = forwarded_for(&proxies, "10.0.0.3, 10.0.0.1");
        assert_eq!(ip, Some("10.0.0.3".parse().unwrap()));
        assert_eq!(list.as_deref(), Some("10.0.0.3, 10.0.0.1"));
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
                h("HTTP_X_FORWARDED_FOR", "<script>alert(1)</script>, 1.2.3.4"),
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
    }
}
