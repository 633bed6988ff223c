//! Shared helpers for the fuzz targets: turning raw bytes into the shapes
//! the parsers take (directive argument lists, header lists).

#![allow(dead_code)]

/// Every WSGIDaemonProcess option name mod_wsgi documents (the fuzzer
/// combines them with arbitrary values).
pub const DAEMON_OPTIONS: &[&str] = &[
    "processes", "threads", "display-name", "home", "python-home", "python-path",
    "python-eggs", "lang", "locale", "stack-size", "cpu-priority", "user", "group",
    "supplementary-groups", "umask", "chroot", "socket-user", "maximum-requests",
    "restart-interval", "inactivity-timeout", "request-timeout", "deadlock-timeout",
    "startup-timeout", "graceful-timeout", "eviction-timeout", "shutdown-timeout",
    "cpu-time-limit", "memory-limit", "virtual-memory-limit", "connect-timeout",
    "socket-timeout", "queue-timeout", "listen-backlog", "send-buffer-size",
    "receive-buffer-size", "header-buffer-size", "response-buffer-size",
    "response-socket-timeout", "server-metrics", "script-user", "error-log-name",
];

/// Header kinds a proxy may set, as environ keys.
pub const PROXY_KINDS: &[&str] = &[
    "HTTP_X_FORWARDED_FOR", "HTTP_X_CLIENT_IP", "HTTP_X_REAL_IP", "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_SERVER", "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_SCHEME", "HTTP_X_SCHEME", "HTTP_X_FORWARDED_HTTPS",
    "HTTP_X_FORWARDED_SSL", "HTTP_X_HTTPS", "HTTP_X_SCRIPT_NAME", "HTTP_HOST", "HTTP_X_HOST",
    "HTTP_X_FORWARDED_SCRIPT_NAME",
];

/// Splits a line into words: on 0x1f (unit separator) when present, so the
/// fuzzer can produce words holding spaces, else on ASCII white space.
pub fn words(text: &str) -> Vec<&str> {
    if text.contains('\u{1f}') {
        text.split('\u{1f}').collect()
    } else {
        text.split_ascii_whitespace().collect()
    }
}

/// Bytes as latin-1 text (every byte one char), as Apache hands them over.
pub fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

/// Turns `name=value` words whose name is a single byte 0x01..=0x7f into a
/// known option name, so the fuzzer reaches the value parsers quickly.
pub fn expand_option(word: &str, names: &[&str]) -> String {
    let b = word.as_bytes();
    if b.len() >= 2 && b[1] == b'=' && (1..0x20).contains(&b[0]) {
        format!("{}={}", names[usize::from(b[0]) % names.len()], &word[2..])
    } else {
        word.to_string()
    }
}
