//! The daemon wire protocol decoder, as the daemon reads what an Apache
//! child sends and as the Apache child reads what a daemon sends: a stream
//! of frames, each payload decoded as every kind. Decoded HEADERS and
//! ENVIRON payloads must re-encode to the same bytes, and whatever the
//! Apache child's validators accept from a HEADERS frame must be free of
//! the characters that would split a response.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_wsgi_rs::fuzzing::{
    check_hello, decode_environ, decode_file, decode_headers, decode_status, decode_text,
    decode_u32, encode_headers, read_frame, EnvironWriter, SECRET_LEN,
};
use mod_wsgi_rs::fuzzing::{check_header, from_latin1, parse_status};

fn decode_all(payload: &[u8]) {
    let secret = [7u8; SECRET_LEN];
    if let Ok(start) = check_hello(payload, &secret) {
        // only the exact secret may pass
        assert_eq!(&payload[6..6 + SECRET_LEN], &secret[..]);
        let _ = start;
    }
    if let Ok(pairs) = decode_environ(payload) {
        let mut w = EnvironWriter::new();
        for (k, v) in &pairs {
            w.put(k, v);
        }
        let frame = w.finish();
        assert_eq!(&frame[5..], payload, "environ does not round-trip");
    }
    if let Ok((status, headers)) = decode_headers(payload) {
        let owned: Vec<(Vec<u8>, Vec<u8>)> =
            headers.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect();
        assert_eq!(encode_headers(status, &owned), payload, "headers do not round-trip");
        // What the Apache child does with a daemon's HEADERS frame.
        if let Ok(st) = parse_status(&from_latin1(status)) {
            assert!(st.line.iter().all(|&b| b >= 0x20 && b != 0x7f));
            assert!((200..=599).contains(&st.code), "{:?}", st);
        }
        for (n, v) in headers {
            if let Ok((name, value)) = check_header(&from_latin1(n), &from_latin1(v)) {
                assert!(!name.is_empty());
                assert!(!name.iter().any(|&b| b <= 0x20 || b == b':' || b >= 0x7f));
                assert!(!value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f));
                assert_eq!(name, n);
                assert_eq!(value, v);
            }
        }
    }
    if let Ok((code, _msg)) = decode_status(payload) {
        assert!((100..=599).contains(&code));
    }
    let _ = decode_text(payload);
    let _ = decode_file(payload);
    let _ = decode_u32(payload);
}

fuzz_target!(|data: &[u8]| {
    // The first two bytes pick header-buffer-size (as a daemon group sets it).
    let (limit, stream) = match data {
        [a, b, rest @ ..] => (u32::from(u16::from_be_bytes([*a, *b])) * 4, rest),
        _ => return,
    };
    let mut r: &[u8] = stream;
    for _ in 0..256 {
        let before = r.len();
        match read_frame(&mut r, limit) {
            Ok((kind, payload)) => {
                assert!(payload.len() as u32 <= kind.max_len(limit));
                assert_eq!(before - r.len(), 5 + payload.len());
                decode_all(&payload);
            }
            Err(e) => {
                let _ = e.to_string();
                break;
            }
        }
    }
    // Payload decoders on raw bytes too (they see any payload a peer sends).
    decode_all(stream);
});
