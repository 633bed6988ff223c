//! WSGITrustedProxies / WSGITrustedProxyHeaders resolution with arbitrary
//! proxies, header kinds, peers and header values. Properties: nothing is
//! kept or overridden for an untrusted peer; only configured kinds are
//! kept, with their values unchanged or (X-Forwarded-For) a tail of the
//! hops sent; each environ key is overridden at most once; SERVER_PORT is
//! digits; REMOTE_ADDR comes from one of the hops of the believed header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_wsgi_rs::fuzzing::IpSubnet;
use mod_wsgi_rs::fuzzing::{resolve, Policy};

mod common;

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let proxies: Vec<IpSubnet> = lines
        .next()
        .map(|l| {
            String::from_utf8_lossy(l)
                .split_ascii_whitespace()
                .filter_map(|w| IpSubnet::parse(w).ok())
                .collect()
        })
        .unwrap_or_default();
    let kinds: Vec<String> = lines
        .next()
        .map(|l| {
            l.iter()
                .map(|&b| common::PROXY_KINDS[usize::from(b) % common::PROXY_KINDS.len()].to_string())
                .collect()
        })
        .unwrap_or_default();
    let peer = lines.next().map(|l| String::from_utf8_lossy(l).into_owned()).unwrap_or_default();
    let present: Vec<(String, Vec<u8>)> = lines
        .take(32)
        .filter_map(|l| {
            let (&k, v) = l.split_first()?;
            Some((common::PROXY_KINDS[usize::from(k) % common::PROXY_KINDS.len()].to_string(), v.to_vec()))
        })
        .collect();
    let policy = Policy { headers: &kinds, proxies: &proxies };
    let r = resolve(&policy, &peer, &present);

    let peer_trusted = proxies.is_empty()
        || peer.trim().parse::<std::net::IpAddr>().is_ok_and(|ip| proxies.iter().any(|s| s.contains(ip)));
    if !peer_trusted {
        assert!(
            r.keep.is_empty() && r.overrides.is_empty() && r.https.is_none(),
            "untrusted peer {peer:?} believed: {r:?}"
        );
    }
    for (k, v) in &r.keep {
        assert!(kinds.contains(k), "kept {k} which is not configured");
        let tail = |pv: &[u8]| {
            let sent = String::from_utf8_lossy(pv);
            let hops: Vec<&str> = sent.split(',').map(str::trim).filter(|h| !h.is_empty()).collect();
            let kept = String::from_utf8_lossy(v);
            (1..=hops.len()).any(|n| hops[hops.len() - n..].join(", ") == kept)
        };
        assert!(present
            .iter()
            .any(|(pk, pv)| pk == k && (pv == v || (k == "HTTP_X_FORWARDED_FOR" && tail(pv)))));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (k, v) in &r.overrides {
        assert!(!seen.contains(k), "{k} overridden twice: {r:?}");
        seen.push(k);
        match *k {
            "SERVER_PORT" => assert!(!v.is_empty() && v.iter().all(u8::is_ascii_digit)),
            "REMOTE_ADDR" => {
                // Always an IP address, and the address of one of the hops
                // (ports and brackets dropped, normalised).
                let ip: std::net::IpAddr = std::str::from_utf8(v)
                    .ok()
                    .and_then(|t| t.parse().ok())
                    .unwrap_or_else(|| panic!("REMOTE_ADDR {v:?} is not an IP address: {r:?}"));
                let ok = r.keep.iter().any(|(_, kv)| {
                    String::from_utf8_lossy(kv).split(',').any(|h| hop_ip(h) == Some(ip))
                });
                assert!(ok, "REMOTE_ADDR {v:?} is none of the hops: {r:?}");
            }
            "HTTP_HOST" | "SERVER_NAME" | "SCRIPT_NAME" | "mod_wsgi.mount_point" => {}
            other => panic!("unexpected override {other}"),
        }
    }
});

/// The address in one X-Forwarded-For hop: an IP, `[v6]:port` or `v4:port`.
fn hop_ip(hop: &str) -> Option<std::net::IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    let (ip, port) = hop.rsplit_once(':')?;
    if port.bytes().all(|b| b.is_ascii_digit()) {
        ip.parse::<std::net::Ipv4Addr>().ok().map(std::net::IpAddr::V4)
    } else {
        None
    }
}
