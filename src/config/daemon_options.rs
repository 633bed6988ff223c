//! `WSGIDaemonProcess name option=value …`: parsing the group name and the
//! options into a [`DaemonProcess`].

use std::collections::HashSet;

use super::daemon::{DaemonProcess, DEFAULT_HEADER_BUFFER_SIZE, DEFAULT_RESPONSE_BUFFER_SIZE};
use super::values::{
    parse_int_in, parse_on_off, parse_python_path, parse_seconds, parse_size,
    parse_switch_interval, parse_umask, split_key_value, suggest, unknown_option, unquote,
};

/// Every option `WSGIDaemonProcess` accepts.
pub(crate) const DAEMON_OPTIONS: &[&str] = &[
    "processes",
    "threads",
    "display-name",
    "home",
    "python-home",
    "python-path",
    "python-eggs",
    "lang",
    "locale",
    "stack-size",
    "cpu-priority",
    "switch-interval",
    "user",
    "group",
    "supplementary-groups",
    "umask",
    "chroot",
    "socket-user",
    "script-user",
    "script-group",
    "server-metrics",
    "maximum-requests",
    "restart-interval",
    "inactivity-timeout",
    "request-timeout",
    "interrupt-timeout",
    "deadlock-timeout",
    "startup-timeout",
    "graceful-timeout",
    "eviction-timeout",
    "shutdown-timeout",
    "cpu-time-limit",
    "memory-limit",
    "virtual-memory-limit",
    "connect-timeout",
    "socket-timeout",
    "response-socket-timeout",
    "queue-timeout",
    "listen-backlog",
    "send-buffer-size",
    "receive-buffer-size",
    "header-buffer-size",
    "response-buffer-size",
    "response-flush-delay",
];

/// Checks a daemon process group name: non-empty, no `/`, no white space
/// or control characters (it becomes part of socket paths and log lines).
pub(crate) fn validate_daemon_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err(
            "a daemon process group name is required, e.g. WSGIDaemonProcess myapp processes=2 threads=15"
                .to_string(),
        );
    }
    if let Some((k, _)) = split_key_value(name) {
        if DAEMON_OPTIONS.contains(&k) {
            return Err(format!(
                "the first argument must be the daemon process group name, not the option '{name}', e.g. WSGIDaemonProcess myapp {name}"
            ));
        }
    }
    if name.contains('/') {
        return Err(format!(
            "invalid daemon process group name '{name}': it must not contain '/'"
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "invalid daemon process group name '{name}': it must not contain spaces or control characters"
        ));
    }
    Ok(())
}

fn timeout(name: &str, value: &str) -> Result<Option<u32>, String> {
    Ok(Some(parse_seconds(name, value)?).filter(|&n| n != 0))
}

fn size_or_off(name: &str, value: &str, min: u64, what: &str) -> Result<Option<u64>, String> {
    let n = parse_size(name, value)?;
    if n != 0 && n < min {
        return Err(format!(
            "invalid value '{value}' for option '{name}': {what} must be at least {min} bytes, or 0 for the default"
        ));
    }
    Ok(Some(n).filter(|&n| n != 0))
}

fn absolute_path(name: &str, value: &str) -> Result<String, String> {
    if value.starts_with('/') {
        Ok(value.to_string())
    } else {
        Err(format!(
            "invalid value '{value}' for option '{name}': expected an absolute path starting with '/'"
        ))
    }
}

fn identity(name: &str, value: &str) -> Result<String, String> {
    if let Some(id) = value.strip_prefix('#') {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) || id.parse::<u32>().is_err() {
            return Err(format!(
                "invalid value '{value}' for option '{name}': expected a name or #number, such as www-data or #33"
            ));
        }
    }
    Ok(value.to_string())
}

/// Parses `WSGIDaemonProcess`'s arguments: `args[0]` is the group name,
/// the rest are `option=value` (values may be quoted). Unknown options
/// (with a did-you-mean suggestion), options without a value, bad values
/// and options given twice are errors.
pub fn parse_daemon_process(args: &[&str]) -> Result<DaemonProcess, String> {
    let name = args.first().copied().unwrap_or("");
    validate_daemon_name(name)?;
    let mut d = DaemonProcess::new(name);
    let mut seen = HashSet::new();
    for arg in &args[1..] {
        let Some((key, raw)) = split_key_value(arg) else {
            return Err(if DAEMON_OPTIONS.contains(arg) {
                format!("option '{arg}' needs a value: write {arg}=VALUE")
            } else {
                match suggest(arg, DAEMON_OPTIONS) {
                    Some(s) => format!(
                        "expected an option of the form name=value, got '{arg}' (did you mean '{s}=…'?)"
                    ),
                    None => format!("expected an option of the form name=value, got '{arg}'"),
                }
            });
        };
        if !DAEMON_OPTIONS.contains(&key) {
            return Err(unknown_option(key, DAEMON_OPTIONS));
        }
        if !seen.insert(key) {
            return Err(format!("option '{key}' is given more than once"));
        }
        let value = unquote(raw);
        if value.is_empty() && !matches!(key, "python-path" | "supplementary-groups") {
            return Err(format!("option '{key}' needs a value: write {key}=VALUE"));
        }
        apply_option(&mut d, key, value)?;
    }
    if d.script_user.is_some() && d.script_group.is_some() {
        return Err("only one of script-user and script-group may be given".to_string());
    }
    Ok(d)
}

fn apply_option(d: &mut DaemonProcess, key: &str, value: &str) -> Result<(), String> {
    match key {
        "processes" => {
            d.processes = parse_int_in(key, value, 1, 10000)? as u32;
            d.multiprocess = true;
        }
        // threads=0: a process that only runs its WSGIImportScript scripts
        // (mod_wsgi-express's --service-script); requests get a 503.
        "threads" => d.threads = parse_int_in(key, value, 0, 65533)? as u32,
        "display-name" => d.display_name = Some(value.to_string()),
        "home" => d.home = Some(absolute_path(key, value)?),
        "python-home" => d.python_home = Some(value.to_string()),
        "python-path" => d.python_path = parse_python_path(value),
        "python-eggs" => d.python_eggs = Some(value.to_string()),
        "lang" => d.lang = Some(value.to_string()),
        "locale" => d.locale = Some(value.to_string()),
        "stack-size" => {
            let n = parse_size(key, value)?;
            if n == 0 {
                return Err(format!(
                    "invalid value '{value}' for option 'stack-size': expected a positive number of bytes, such as 524288"
                ));
            }
            d.stack_size = Some(n);
        }
        "cpu-priority" => d.cpu_priority = parse_int_in(key, value, -20, 20)? as i32,
        "switch-interval" => {
            d.switch_interval = Some(
                parse_switch_interval(value)
                    .map_err(|e| format!("option 'switch-interval': {e}"))?,
            )
        }
        "user" => {
            if value == "root"
                || value
                    .strip_prefix('#')
                    .is_some_and(|n| n.parse::<u32>() == Ok(0))
            {
                return Err(format!(
                    "user={value}: daemon processes may not run as root; give an unprivileged user"
                ));
            }
            d.user = Some(identity(key, value)?);
        }
        "group" => d.group = Some(identity(key, value)?),
        "supplementary-groups" => {
            d.supplementary_groups = value
                .split(',')
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(|g| identity(key, g))
                .collect::<Result<_, _>>()?;
        }
        "umask" => d.umask = Some(parse_umask(key, value)?),
        "chroot" => d.chroot = Some(absolute_path(key, value)?),
        "socket-user" => d.socket_user = Some(identity(key, value)?),
        "script-user" => d.script_user = Some(identity(key, value)?),
        "script-group" => d.script_group = Some(identity(key, value)?),
        "server-metrics" => {
            d.server_metrics = parse_on_off(value).map_err(|_| {
                format!("invalid value '{value}' for option 'server-metrics': expected On or Off")
            })?
        }
        "maximum-requests" => {
            let n = parse_int_in(key, value, 0, i64::MAX)? as u64;
            d.maximum_requests = Some(n).filter(|&n| n != 0);
        }
        "restart-interval" => d.restart_interval = timeout(key, value)?,
        "inactivity-timeout" => d.inactivity_timeout = timeout(key, value)?,
        "request-timeout" => d.request_timeout = timeout(key, value)?,
        "interrupt-timeout" => d.interrupt_timeout = timeout(key, value)?,
        "deadlock-timeout" => d.deadlock_timeout = timeout(key, value)?,
        "startup-timeout" => d.startup_timeout = timeout(key, value)?,
        "graceful-timeout" => d.graceful_timeout = timeout(key, value)?,
        "eviction-timeout" => d.eviction_timeout = timeout(key, value)?,
        "shutdown-timeout" => d.shutdown_timeout = parse_seconds(key, value)?,
        "cpu-time-limit" => d.cpu_time_limit = timeout(key, value)?,
        "memory-limit" => d.memory_limit = Some(parse_size(key, value)?).filter(|&n| n != 0),
        "virtual-memory-limit" => {
            d.virtual_memory_limit = Some(parse_size(key, value)?).filter(|&n| n != 0)
        }
        "connect-timeout" => d.connect_timeout = parse_seconds(key, value)?,
        "socket-timeout" => d.socket_timeout = timeout(key, value)?,
        "response-socket-timeout" => d.response_socket_timeout = timeout(key, value)?,
        "queue-timeout" => d.queue_timeout = timeout(key, value)?,
        "listen-backlog" => d.listen_backlog = parse_int_in(key, value, 0, 65535)? as u32,
        "send-buffer-size" => d.send_buffer_size = size_or_off(key, value, 512, "a socket buffer")?,
        "receive-buffer-size" => {
            d.receive_buffer_size = size_or_off(key, value, 512, "a socket buffer")?
        }
        "header-buffer-size" => {
            let n = parse_size(key, value)?;
            d.header_buffer_size = match n {
                0 => DEFAULT_HEADER_BUFFER_SIZE,
                4096..=16_777_216 => n,
                _ => {
                    return Err(format!(
                        "invalid value '{value}' for option 'header-buffer-size': expected a number of bytes from 4096 to 16777216 (16M), or 0 for the default of 32768"
                    ))
                }
            };
        }
        "response-flush-delay" => {
            d.response_flush_delay_ms = parse_int_in(key, value, 0, i64::from(i32::MAX))? as u32
        }
        "response-buffer-size" => {
            d.response_buffer_size = size_or_off(key, value, 65536, "the response buffer")?
                .unwrap_or(DEFAULT_RESPONSE_BUFFER_SIZE)
        }
        _ => return Err(unknown_option(key, DAEMON_OPTIONS)),
    }
    Ok(())
}

#[cfg(test)]
#[path = "daemon_options_tests.rs"]
mod tests;
