//! WSGIDaemonProcess option parsing: a group name and arbitrary options
//! (known names with arbitrary values, or arbitrary words), plus the
//! accessors the supervisor calls on a parsed group.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_wsgi_rs::fuzzing::{parse_daemon_process, split_args};

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let raw: Vec<String> = if sel & 1 == 1 {
        match split_args(&text) {
            Ok(w) => w,
            Err(_) => return,
        }
    } else {
        common::words(&text).into_iter().map(String::from).collect()
    };
    let args: Vec<String> = raw
        .iter()
        .enumerate()
        .map(|(i, w)| if i == 0 { w.clone() } else { common::expand_option(w, common::DAEMON_OPTIONS) })
        .collect();
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    match parse_daemon_process(&argv) {
        Ok(d) => {
            assert_eq!(Some(d.name.as_str()), argv.first().copied());
            let _ = d.display_name();
            let _ = d.eviction_timeout();
            let _ = d.socket_timeout_or(300);
            let _ = d.response_socket_timeout_or(0);
            let _ = format!("{d:?}");
        }
        Err(e) => assert!(!e.is_empty()),
    }
});
