//! Values of the trusted-proxy directives: request header names as
//! environ keys (`WSGITrustedProxyHeaders`) and IP addresses / subnets
//! (`WSGITrustedProxies`).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The CGI/WSGI environ name of a request header: `X-Forwarded-For` gives
/// `HTTP_X_FORWARDED_FOR`. Header names may hold only letters, digits and
/// `-` (anything else is refused, as the environ builder drops such
/// headers). A name already in `HTTP_…` form is accepted as is.
pub(crate) fn header_env_name(header: &str) -> Result<String, String> {
    let h = header.trim();
    if h.len() > 5 && h.as_bytes()[..5].eq_ignore_ascii_case(b"HTTP_") {
        let rest = &h.as_bytes()[5..];
        if rest.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_') {
            return Ok(h.to_ascii_uppercase());
        }
    }
    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return Err(format!(
            "invalid header name '{header}': expected a name such as X-Forwarded-For (letters, digits and '-' only)"
        ));
    }
    Ok(format!("HTTP_{}", h.to_ascii_uppercase().replace('-', "_")))
}

/// An IP address or subnet as accepted by `WSGITrustedProxies` (and by
/// APR's `apr_ipsubnet_create`): `10.0.0.1`, `10.0.0.0/8`,
/// `10.0.0.0/255.0.0.0`, a partial IPv4 network such as `192.168`
/// (= 192.168.0.0/16), `::1`, `2001:db8::/32`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct IpSubnet {
    /// The network address (host bits cleared).
    pub(crate) addr: IpAddr,
    /// The prefix length in bits.
    pub(crate) prefix: u8,
}

impl IpSubnet {
    /// Parses an address or subnet.
    pub fn parse(text: &str) -> Result<IpSubnet, String> {
        let err = || {
            format!(
                "invalid trusted proxy '{text}': expected an IP address or subnet such as 10.0.0.1, 10.0.0.0/8, 192.168 or 2001:db8::/32"
            )
        };
        let t = text.trim();
        let (ip, mask) = match t.split_once('/') {
            Some((a, m)) => (a, Some(m)),
            None => (t, None),
        };
        if ip.contains(':') {
            let a: Ipv6Addr = ip.parse().map_err(|_| err())?;
            let prefix = match mask {
                None => 128,
                Some(m) => parse_prefix(m, 128).ok_or_else(err)?,
            };
            return Ok(IpSubnet::new(IpAddr::V6(a), prefix));
        }
        if ip.is_empty() || !ip.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            return Err(err());
        }
        let parts: Vec<&str> = ip.split('.').collect();
        if parts.len() == 4 {
            let a: Ipv4Addr = ip.parse().map_err(|_| err())?;
            let prefix = match mask {
                None => 32,
                Some(m) if m.contains('.') => {
                    let nm: Ipv4Addr = m.parse().map_err(|_| err())?;
                    let bits = u32::from(nm);
                    let ones = bits.leading_ones();
                    if bits.checked_shl(ones).unwrap_or(0) != 0 {
                        return Err(err());
                    }
                    ones as u8
                }
                Some(m) => parse_prefix(m, 32).ok_or_else(err)?,
            };
            return Ok(IpSubnet::new(IpAddr::V4(a), prefix));
        }
        // A partial IPv4 network: 1 to 3 leading octets, no mask.
        if mask.is_some() || parts.len() > 3 {
            return Err(err());
        }
        let mut octets = [0u8; 4];
        for (i, p) in parts.iter().enumerate() {
            octets[i] = p.parse::<u8>().map_err(|_| err())?;
        }
        Ok(IpSubnet::new(
            IpAddr::V4(Ipv4Addr::from(octets)),
            (parts.len() * 8) as u8,
        ))
    }

    fn new(addr: IpAddr, prefix: u8) -> IpSubnet {
        let addr = match addr {
            IpAddr::V4(a) => {
                let m = mask32(prefix);
                IpAddr::V4(Ipv4Addr::from(u32::from(a) & m))
            }
            IpAddr::V6(a) => {
                let m = mask128(prefix);
                IpAddr::V6(Ipv6Addr::from(u128::from(a) & m))
            }
        };
        IpSubnet { addr, prefix }
    }

    /// Whether `ip` is inside this subnet. An IPv4-mapped IPv6 peer
    /// (`::ffff:10.0.0.1`) matches an IPv4 subnet.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) if self.addr.is_ipv4() => IpAddr::V4(v4),
                _ => IpAddr::V6(v6),
            },
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                u32::from(a) & mask32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => {
                u128::from(a) & mask128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

impl fmt::Display for IpSubnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

fn parse_prefix(m: &str, max: u8) -> Option<u8> {
    if m.is_empty() || !m.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    m.parse::<u8>().ok().filter(|&p| p <= max)
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix.min(128)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_header_names_are_errors_not_panics() {
        assert!(header_env_name("HTTP\u{e9}X").is_err());
        assert!(header_env_name("\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}\u{e9}").is_err());
        assert!(header_env_name("HTTP_\u{e9}").is_err());
        assert_eq!(header_env_name("http_x_a").unwrap(), "HTTP_X_A");
    }

    #[test]
    fn header_names() {
        assert_eq!(
            header_env_name("X-Forwarded-For").unwrap(),
            "HTTP_X_FORWARDED_FOR"
        );
        assert_eq!(header_env_name("x-real-ip").unwrap(), "HTTP_X_REAL_IP");
        assert_eq!(
            header_env_name("HTTP_X_CLIENT_IP").unwrap(),
            "HTTP_X_CLIENT_IP"
        );
        assert!(header_env_name("X_Forwarded_For").is_err());
        assert!(header_env_name("X Forwarded").is_err());
        assert!(header_env_name("").is_err());
    }

    #[test]
    fn subnets() {
        let s = IpSubnet::parse("10.0.0.0/8").unwrap();
        assert!(s.contains("10.1.2.3".parse().unwrap()));
        assert!(!s.contains("11.0.0.1".parse().unwrap()));
        assert!(s.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert_eq!(s.to_string(), "10.0.0.0/8");

        let s = IpSubnet::parse("192.168.1.7").unwrap();
        assert_eq!(s.prefix, 32);
        assert!(s.contains("192.168.1.7".parse().unwrap()));
        assert!(!s.contains("192.168.1.8".parse().unwrap()));

        let s = IpSubnet::parse("172.16.0.0/255.240.0.0").unwrap();
        assert_eq!(s.prefix, 12);
        assert!(s.contains("172.31.255.255".parse().unwrap()));
        assert!(!s.contains("172.32.0.0".parse().unwrap()));

        let s = IpSubnet::parse("192.168").unwrap();
        assert_eq!(s.to_string(), "192.168.0.0/16");
        let s = IpSubnet::parse("10").unwrap();
        assert_eq!(s.prefix, 8);

        let s = IpSubnet::parse("10.1.2.3/8").unwrap();
        assert_eq!(s.addr, "10.0.0.0".parse::<IpAddr>().unwrap());

        let s = IpSubnet::parse("0.0.0.0/0").unwrap();
        assert!(s.contains("1.2.3.4".parse().unwrap()));
        assert!(!s.contains("::1".parse().unwrap()));

        let s = IpSubnet::parse("2001:db8::/32").unwrap();
        assert!(s.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!s.contains("2001:db9::1".parse().unwrap()));
        assert!(!s.contains("10.0.0.1".parse().unwrap()));
        let s = IpSubnet::parse("::1").unwrap();
        assert_eq!(s.prefix, 128);
        assert!(s.contains("::1".parse().unwrap()));

        for bad in [
            "",
            "abc",
            "10.0.0.0/33",
            "10.0.0.0/255.0.255.0",
            "10.0.0.0/",
            "256.1.1.1",
            "1.2.3.4.5",
            "192.168/16",
            "::1/129",
            "example.com",
            "10.0.0.0/x",
        ] {
            let e = IpSubnet::parse(bad).unwrap_err();
            assert!(e.contains("invalid trusted proxy"), "{bad}: {e}");
        }
    }
}
