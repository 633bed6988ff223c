//! The response validators (status line, header name/value, an app's
//! Content-Length) and the request header name mapping, with the
//! properties that make response splitting and header spoofing impossible.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_wsgi_rs::fuzzing::{header_key, HeaderKey};
use mod_wsgi_rs::fuzzing::{check_header, content_length, from_latin1, latin1, parse_status};

fn text(b: &[u8], as_utf8: bool) -> String {
    if as_utf8 {
        String::from_utf8_lossy(b).into_owned()
    } else {
        from_latin1(b)
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, data)) = data.split_first() else {
        return;
    };
    let (a, b) = match data.iter().position(|&c| c == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let s = text(a, sel & 1 == 1);
    let v = text(b, sel & 2 == 2);

    if let Some(l1) = latin1(&s) {
        assert_eq!(from_latin1(&l1), s);
    } else {
        assert!(s.chars().any(|c| u32::from(c) > 0xff));
    }

    match parse_status(&s) {
        Ok(st) => {
            assert!(st.line.len() >= 5);
            assert!(st.line[..3].iter().all(u8::is_ascii_digit));
            assert_eq!(st.line[3], b' ');
            assert!(st.line.iter().all(|&c| c >= 0x20 && c != 0x7f), "{s:?}");
            let code: u16 = std::str::from_utf8(&st.line[..3]).unwrap().parse().unwrap();
            assert_eq!(code, st.code);
            assert!((200..=599).contains(&st.code), "{:?}", st);
            assert_eq!(latin1(&s).as_deref(), Some(&st.line[..]));
        }
        Err(e) => assert!(!e.is_empty()),
    }

    match check_header(&s, &v) {
        Ok((name, value)) => {
            assert!(!name.is_empty());
            for c in &name {
                assert!(c.is_ascii_graphic() && *c != b':' && !b"()<>@,;\\\"/[]?={}".contains(c), "{s:?}");
            }
            assert!(value.iter().all(|&c| c == b'\t' || (c >= 0x20 && c != 0x7f)), "{v:?}");
            assert_eq!(from_latin1(&name), s);
            assert_eq!(from_latin1(&value), v);
        }
        Err(e) => assert!(!e.is_empty()),
    }

    if let Some(n) = content_length(a) {
        let t = std::str::from_utf8(a).unwrap().trim();
        assert_eq!(t.parse::<u64>().ok(), Some(n));
    }

    let mut out = Vec::new();
    match header_key(a, &mut out) {
        HeaderKey::Dropped => {}
        HeaderKey::Authorization => {
            assert_eq!(out, b"HTTP_AUTHORIZATION");
            assert!(a.eq_ignore_ascii_case(b"authorization"));
        }
        HeaderKey::Key => {
            // Only letters, digits and '-' map to a key, and the mapping is
            // one-to-one up to case: no other name can pose as this one.
            assert!(a.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-'));
            assert!(out.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_'));
            assert!(!a.eq_ignore_ascii_case(b"proxy"));
            if out == b"CONTENT_TYPE" || out == b"CONTENT_LENGTH" {
                assert!(a.eq_ignore_ascii_case(b"content-type") || a.eq_ignore_ascii_case(b"content-length"));
            } else {
                assert!(out.starts_with(b"HTTP_"));
                assert_eq!(out.len(), a.len() + 5);
            }
        }
    }
});
