//! Every directive of the module with arbitrary arguments, applied to a
//! server and a directory configuration in sequence, then merged. Errors
//! are fine; a panic is a bug (a panic inside a directive handler would
//! abort Apache's configuration pass).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mod_wsgi_rs::fuzzing::{apply_dir, apply_server, DIRECTIVES};
use mod_wsgi_rs::fuzzing::{split_args, DirConfig, ServerConfig};

mod common;

fuzz_target!(|data: &[u8]| {
    let mut server = ServerConfig::default();
    let mut dir = DirConfig::default();
    for line in data.split(|&b| b == b'\n').take(32) {
        let Some((&sel, rest)) = line.split_first() else {
            continue;
        };
        let text = String::from_utf8_lossy(rest);
        // Either Apache-style words, or the module's own quoting splitter
        // (used for raw-argument directives).
        let split;
        let args: Vec<String> = if sel & 0x40 != 0 {
            match split_args(&text) {
                Ok(w) => {
                    split = w;
                    split.clone()
                }
                Err(e) => {
                    assert!(!e.is_empty());
                    continue;
                }
            }
        } else {
            common::words(&text)
                .into_iter()
                .map(|w| common::expand_option(w, common::DAEMON_OPTIONS))
                .collect()
        };
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let name = if sel & 0x80 != 0 && !argv.is_empty() {
            // an arbitrary (probably unknown) directive name
            argv[0]
        } else {
            DIRECTIVES[usize::from(sel & 0x3f) % DIRECTIVES.len()].name
        };
        let argv = if sel & 0x80 != 0 && !argv.is_empty() { &argv[1..] } else { &argv[..] };
        if let Err(e) = apply_server(&mut server, name, argv) {
            assert!(!e.is_empty(), "empty error message for {name} {argv:?}");
        }
        if let Err(e) = apply_dir(&mut dir, name, argv) {
            assert!(!e.is_empty(), "empty error message for {name} {argv:?}");
        }
    }
    let merged = ServerConfig::merge(&ServerConfig::default(), &server);
    let _ = ServerConfig::merge(&merged, &server);
    let merged = DirConfig::merge(&DirConfig::default(), &dir);
    let _ = DirConfig::merge(&merged, &dir);
    let _ = format!("{server:?}{dir:?}");
});
