//! Validation of what an application hands to start_response (pure).
//!
//! PEP 3333: the status is a str "NNN reason"; headers are a list of
//! (str, str) tuples; both are latin-1 and free of control characters.
//! Anything else is refused (500 and one log line), which also closes the
//! response-splitting hole (CR/LF injected into a header).

/// Encodes `s` as latin-1, or None when a character is above U+00FF.
pub fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

/// Latin-1 bytes as a Rust string (every byte is one char).
pub fn from_latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Bytes as UTF-8 text, borrowed when valid (the usual case, checked by
/// `str::from_utf8`'s fast path), else with U+FFFD for the invalid parts
/// (`String::from_utf8_lossy`, which walks the bytes more slowly).
pub(crate) fn utf8_lossy(b: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => std::borrow::Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(b),
    }
}

/// RFC 9110 `tchar`, one entry per byte value.
const TCHAR: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'!' | b'#'
                    | b'$'
                    | b'%'
                    | b'&'
                    | b'\''
                    | b'*'
                    | b'+'
                    | b'-'
                    | b'.'
                    | b'^'
                    | b'_'
                    | b'`'
                    | b'|'
                    | b'~'
            );
        b += 1;
    }
    t
};

fn is_tchar(b: u8) -> bool {
    TCHAR[usize::from(b)]
}

/// A byte not allowed in a header value: a control character other than
/// tab, or DEL.
fn is_bad_in_value(b: u8) -> bool {
    (b < 0x20 && b != b'\t') || b == 0x7f
}

/// A validated status: the code and the full line ("404 Not Found").
#[derive(Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    pub line: Vec<u8>,
}

pub fn parse_status(status: &str) -> Result<Status, String> {
    let bytes = latin1(status).ok_or_else(|| format!("status {status:?} is not latin-1"))?;
    let code = parse_status_latin1(&bytes)?;
    Ok(Status { code, line: bytes })
}

/// Checks a status line given as latin-1 bytes; returns its code.
pub fn parse_status_latin1(bytes: &[u8]) -> Result<u16, String> {
    if bytes.len() < 5 || bytes[3] != b' ' || !bytes[..3].iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "status {:?} is not a three-digit code, a space and a reason phrase (e.g. \"200 OK\")",
            from_latin1(bytes)
        ));
    }
    if let Some(c) = bytes.iter().find(|&&b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "status {:?} contains the control character {c:#04x}",
            from_latin1(bytes)
        ));
    }
    let code = bytes[..3]
        .iter()
        .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0'));
    // A final response is 2xx-5xx: an informational 1xx would be followed
    // by the body, which clients would read as another response.
    if !(200..=599).contains(&code) {
        return Err(format!(
            "status code {code} cannot end a request (a WSGI response status is 200 to 599)"
        ));
    }
    Ok(code)
}

/// Validates one header; returns its latin-1 name and value.
pub fn check_header(name: &str, value: &str) -> Result<(Vec<u8>, Vec<u8>), String> {
    let n = latin1(name).ok_or_else(|| format!("header name {name:?} is not latin-1"))?;
    let v = latin1(value)
        .ok_or_else(|| format!("value of header {name:?} is not latin-1: {value:?}"))?;
    check_header_latin1(n, v)
}

/// Validates one header given as latin-1 bytes (the text of a message is
/// only built for an error).
pub(crate) fn check_header_latin1(n: Vec<u8>, v: Vec<u8>) -> Result<(Vec<u8>, Vec<u8>), String> {
    check_header_bytes(&n, &v)?;
    Ok((n, v))
}

/// Validates one header given as latin-1 bytes, where they are.
pub fn check_header_bytes(n: &[u8], v: &[u8]) -> Result<(), String> {
    if n.is_empty() || !n.iter().all(|&b| is_tchar(b)) {
        return Err(format!(
            "header name {:?} is empty or contains characters not allowed in a header name",
            from_latin1(n)
        ));
    }
    if let Some(c) = v.iter().find(|&&b| is_bad_in_value(b)) {
        return Err(format!(
            "value of header {:?} contains the control character {c:#04x} (CR/LF would split the response)",
            from_latin1(n)
        ));
    }
    Ok(())
}

/// Parses a Content-Length value the application set.
pub fn content_length(value: &[u8]) -> Option<u64> {
    let s = std::str::from_utf8(value).ok()?.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_statuses() {
        assert_eq!(parse_status("200 OK").unwrap().code, 200);
        assert_eq!(
            parse_status("404 Not Found").unwrap().line,
            b"404 Not Found"
        );
        assert_eq!(
            parse_status("599 Weird \u{e9}").unwrap().line.last(),
            Some(&0xe9)
        );
    }

    #[test]
    fn bad_statuses() {
        for s in [
            "200",
            "200 ",
            "20 OK",
            "2000 OK",
            "abc OK",
            "200OK",
            "200 O\r\nX: y",
            "200 \u{100}",
            "099 Low",
            "200 a\x7f",
            "100 Continue",
            "101 Switching Protocols",
            "199 Odd",
            "600 Weird",
            "999 Max",
        ] {
            assert!(parse_status(s).is_err(), "{s:?} accepted");
            if let Some(b) = latin1(s) {
                assert!(parse_status_latin1(&b).is_err(), "{s:?} accepted as bytes");
            }
        }
        assert_eq!(parse_status_latin1(b"404 Not Found"), Ok(404));
        assert_eq!(parse_status_latin1(b"599 Weird \xe9"), Ok(599));
    }

    #[test]
    fn headers() {
        assert!(check_header("Content-Type", "text/plain").is_ok());
        assert!(check_header("X-Tab", "a\tb").is_ok());
        assert_eq!(check_header("X-L", "caf\u{e9}").unwrap().1, b"caf\xe9");
        for (n, v) in [
            ("X-Bad", "a\r\nSet-Cookie: x"),
            ("X-Bad", "a\nb"),
            ("X-Bad", "a\0"),
            ("Bad Name", "v"),
            ("", "v"),
            ("X:Y", "v"),
            ("X-U", "\u{20ac}"),
            ("N\u{e9}", "v"),
        ] {
            assert!(check_header(n, v).is_err(), "{n:?}: {v:?} accepted");
            if let (Some(n), Some(v)) = (latin1(n), latin1(v)) {
                assert!(check_header_bytes(&n, &v).is_err(), "{n:?}: {v:?} accepted");
            }
        }
        assert!(check_header_bytes(b"X-L", b"caf\xe9\tx").is_ok());
    }

    #[test]
    fn tchar_table_matches_rfc_9110() {
        for b in 0..=255u8 {
            let want = b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
            assert_eq!(is_tchar(b), want, "{b:#04x}");
        }
    }

    #[test]
    fn content_lengths() {
        assert_eq!(content_length(b"12"), Some(12));
        assert_eq!(content_length(b" 7 "), Some(7));
        assert_eq!(content_length(b"-1"), None);
        assert_eq!(content_length(b"abc"), None);
        assert_eq!(content_length(b""), None);
    }

    #[test]
    fn utf8_lossy_borrows_valid_text() {
        assert!(matches!(
            utf8_lossy(b"/a/caf\xc3\xa9"),
            std::borrow::Cow::Borrowed("/a/caf\u{e9}")
        ));
        assert_eq!(utf8_lossy(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn latin1_round_trip() {
        let s = "a\u{ff}\u{80}";
        assert_eq!(from_latin1(&latin1(s).unwrap()), s);
        assert!(latin1("\u{100}").is_none());
    }
}
