//! `WSGIDaemonProcess name option=value …`: a daemon process group.

use std::collections::HashSet;

use super::values::{
    parse_int_in, parse_on_off, parse_python_path, parse_seconds, parse_size, parse_umask,
    split_key_value, unknown_option, unquote,
};

/// Default `header-buffer-size` (bytes).
pub const DEFAULT_HEADER_BUFFER_SIZE: u64 = 32768;
/// Default `response-buffer-size` (bytes).
pub const DEFAULT_RESPONSE_BUFFER_SIZE: u64 = 65536;
/// Default `listen-backlog`.
pub const DEFAULT_LISTEN_BACKLOG: u32 = 100;

/// One daemon process group, with mod_wsgi's defaults for everything not
/// given. Durations are whole seconds; sizes are bytes. For the
/// `Option<…>` timeouts and limits, `None` means the feature is off (an
/// explicit `0` is stored as `None` too, as 0 means "off" in mod_wsgi),
/// except where documented otherwise.
#[derive(Clone, Debug, PartialEq)]
pub struct DaemonProcess {
    /// The group name (`WSGIProcessGroup NAME`).
    pub name: String,

    // --- pool ---
    /// `processes=` (default 1).
    pub processes: u32,
    /// True when `processes=` was given at all (even `processes=1`): this
    /// is what makes `wsgi.multiprocess` True, as in mod_wsgi.
    pub multiprocess: bool,
    /// `threads=` per process (default 15).
    pub threads: u32,
    /// `display-name=`: the process title; see [`DaemonProcess::display_name`].
    pub display_name: Option<String>,
    /// `home=`: initial working directory (absolute).
    pub home: Option<String>,
    /// `python-home=`: the virtual environment / `sys.prefix`.
    pub python_home: Option<String>,
    /// `python-path=`: extra `sys.path` directories (`:`-separated).
    pub python_path: Vec<String>,
    /// `python-eggs=`: egg cache directory (`PYTHON_EGG_CACHE`).
    pub python_eggs: Option<String>,
    /// `lang=`: `LANG`.
    pub lang: Option<String>,
    /// `locale=`: `LC_ALL`.
    pub locale: Option<String>,
    /// `stack-size=`: per-thread stack size in bytes (None = system default).
    pub stack_size: Option<u64>,
    /// `cpu-priority=`: nice value, -20 to 20 (default 0).
    pub cpu_priority: i32,
    /// `switch-interval=`: `sys.setswitchinterval()` in seconds.
    pub switch_interval: Option<f64>,

    // --- identity ---
    /// `user=` name or `#uid` (None = Apache's `User`).
    pub user: Option<String>,
    /// `group=` name or `#gid` (None = Apache's `Group`).
    pub group: Option<String>,
    /// `supplementary-groups=` (comma-separated).
    pub supplementary_groups: Vec<String>,
    /// `umask=` (octal; None = inherited).
    pub umask: Option<u32>,
    /// `chroot=` (absolute).
    pub chroot: Option<String>,
    /// `socket-user=`: owner of the daemon's listener socket (None =
    /// Apache's `User`).
    pub socket_user: Option<String>,
    /// `script-user=`: required owner of scripts run in this group.
    pub script_user: Option<String>,
    /// `script-group=`: required group of scripts run in this group.
    pub script_group: Option<String>,
    /// `server-metrics=On|Off` (default Off).
    pub server_metrics: bool,

    // --- recycling ---
    /// `maximum-requests=` before a restart.
    pub maximum_requests: Option<u64>,
    /// `restart-interval=`.
    pub restart_interval: Option<u32>,
    /// `inactivity-timeout=`.
    pub inactivity_timeout: Option<u32>,
    /// `request-timeout=`.
    pub request_timeout: Option<u32>,
    /// `interrupt-timeout=`.
    pub interrupt_timeout: Option<u32>,
    /// `deadlock-timeout=` (default 300; 0 turns detection off).
    pub deadlock_timeout: Option<u32>,
    /// `startup-timeout=`.
    pub startup_timeout: Option<u32>,
    /// `graceful-timeout=`.
    pub graceful_timeout: Option<u32>,
    /// `eviction-timeout=` (when None, `graceful-timeout` applies; see
    /// [`DaemonProcess::eviction_timeout`]).
    pub eviction_timeout: Option<u32>,
    /// `shutdown-timeout=` (default 5): the hard cut-off once a shutdown
    /// is under way. 0 means kill at once.
    pub shutdown_timeout: u32,
    /// `cpu-time-limit=` in CPU seconds.
    pub cpu_time_limit: Option<u32>,
    /// `memory-limit=` in bytes.
    pub memory_limit: Option<u64>,
    /// `virtual-memory-limit=` in bytes.
    pub virtual_memory_limit: Option<u64>,

    // --- transport ---
    /// `connect-timeout=` (default 15).
    pub connect_timeout: u32,
    /// `socket-timeout=` (None = Apache's `Timeout`).
    pub socket_timeout: Option<u32>,
    /// `response-socket-timeout=` (None = the socket timeout).
    pub response_socket_timeout: Option<u32>,
    /// `queue-timeout=`.
    pub queue_timeout: Option<u32>,
    /// `listen-backlog=` (default 100).
    pub listen_backlog: u32,
    /// `send-buffer-size=` (None = system default).
    pub send_buffer_size: Option<u64>,
    /// `receive-buffer-size=` (None = system default).
    pub receive_buffer_size: Option<u64>,
    /// `header-buffer-size=`: the largest response header block accepted
    /// from the daemon (default 32768).
    pub header_buffer_size: u64,
    /// `response-buffer-size=` (default 65536).
    pub response_buffer_size: u64,
}

/// Every option `WSGIDaemonProcess` accepts.
pub const DAEMON_OPTIONS: &[&str] = &[
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
];

impl DaemonProcess {
    /// A group with every option at its default.
    pub fn new(name: &str) -> DaemonProcess {
        DaemonProcess {
            name: name.to_string(),
            processes: 1,
            multiprocess: false,
            threads: 15,
            display_name: None,
            home: None,
            python_home: None,
            python_path: Vec::new(),
            python_eggs: None,
            lang: None,
            locale: None,
            stack_size: None,
            cpu_priority: 0,
            switch_interval: None,
            user: None,
            group: None,
            supplementary_groups: Vec::new(),
            umask: None,
            chroot: None,
            socket_user: None,
            script_user: None,
            script_group: None,
            server_metrics: false,
            maximum_requests: None,
            restart_interval: None,
            inactivity_timeout: None,
            request_timeout: None,
            interrupt_timeout: None,
            deadlock_timeout: Some(300),
            startup_timeout: None,
            graceful_timeout: None,
            eviction_timeout: None,
            shutdown_timeout: 5,
            cpu_time_limit: None,
            memory_limit: None,
            virtual_memory_limit: None,
            connect_timeout: 15,
            socket_timeout: None,
            response_socket_timeout: None,
            queue_timeout: None,
            listen_backlog: DEFAULT_LISTEN_BACKLOG,
            send_buffer_size: None,
            receive_buffer_size: None,
            header_buffer_size: DEFAULT_HEADER_BUFFER_SIZE,
            response_buffer_size: DEFAULT_RESPONSE_BUFFER_SIZE,
        }
    }

    /// The process title to set, if any: `display-name=%{GROUP}` gives
    /// `(wsgi:NAME)`; any other value is used as is.
    pub fn display_name(&self) -> Option<String> {
        self.display_name.as_ref().map(|d| {
            if d == "%{GROUP}" {
                format!("(wsgi:{})", self.name)
            } else {
                d.clone()
            }
        })
    }

    /// The timeout for a graceful restart signal: `eviction-timeout`, or
    /// else `graceful-timeout` (as mod_wsgi documents).
    pub fn eviction_timeout(&self) -> Option<u32> {
        self.eviction_timeout.or(self.graceful_timeout)
    }

    /// The socket timeout in seconds, given Apache's `Timeout`.
    pub fn socket_timeout_or(&self, apache_timeout: u32) -> u32 {
        self.socket_timeout.unwrap_or(apache_timeout)
    }

    /// The response socket timeout in seconds, given Apache's `Timeout`.
    pub fn response_socket_timeout_or(&self, apache_timeout: u32) -> u32 {
        self.response_socket_timeout
            .unwrap_or_else(|| self.socket_timeout_or(apache_timeout))
    }
}

/// Checks a daemon process group name: non-empty, no `/`, no white space
/// or control characters (it becomes part of socket paths and log lines).
pub fn validate_daemon_name(name: &str) -> Result<(), String> {
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
                match super::values::suggest(arg, DAEMON_OPTIONS) {
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
        "threads" => {
            if value.trim() == "0" {
                return Err(
                    "threads=0 (mod_wsgi's managed-process mode) is not supported: give threads=1 or more"
                        .to_string(),
                );
            }
            d.threads = parse_int_in(key, value, 1, 65533)? as u32;
        }
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
            let v: f64 = value.trim().parse().unwrap_or(f64::NAN);
            if !(v.is_finite() && v > 0.0) {
                return Err(format!(
                    "invalid value '{value}' for option 'switch-interval': expected a positive number of seconds, such as 0.005"
                ));
            }
            d.switch_interval = Some(v);
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
        "response-buffer-size" => {
            d.response_buffer_size = size_or_off(key, value, 65536, "the response buffer")?
                .unwrap_or(DEFAULT_RESPONSE_BUFFER_SIZE)
        }
        _ => return Err(unknown_option(key, DAEMON_OPTIONS)),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> DaemonProcess {
        parse_daemon_process(args).unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    fn err(args: &[&str]) -> String {
        parse_daemon_process(args).unwrap_err()
    }

    fn one(opt: &str) -> DaemonProcess {
        parse(&["g", opt])
    }

    #[test]
    fn defaults() {
        let d = parse(&["myapp"]);
        assert_eq!(d, DaemonProcess::new("myapp"));
        assert_eq!(d.name, "myapp");
        assert_eq!(d.processes, 1);
        assert!(!d.multiprocess);
        assert_eq!(d.threads, 15);
        assert_eq!(d.display_name, None);
        assert_eq!(d.display_name(), None);
        assert_eq!(d.home, None);
        assert_eq!(d.python_home, None);
        assert!(d.python_path.is_empty());
        assert_eq!(d.python_eggs, None);
        assert_eq!(d.lang, None);
        assert_eq!(d.locale, None);
        assert_eq!(d.stack_size, None);
        assert_eq!(d.cpu_priority, 0);
        assert_eq!(d.switch_interval, None);
        assert_eq!(d.user, None);
        assert_eq!(d.group, None);
        assert!(d.supplementary_groups.is_empty());
        assert_eq!(d.umask, None);
        assert_eq!(d.chroot, None);
        assert_eq!(d.socket_user, None);
        assert_eq!(d.script_user, None);
        assert_eq!(d.script_group, None);
        assert!(!d.server_metrics);
        assert_eq!(d.maximum_requests, None);
        assert_eq!(d.restart_interval, None);
        assert_eq!(d.inactivity_timeout, None);
        assert_eq!(d.request_timeout, None);
        assert_eq!(d.interrupt_timeout, None);
        assert_eq!(d.deadlock_timeout, Some(300));
        assert_eq!(d.startup_timeout, None);
        assert_eq!(d.graceful_timeout, None);
        assert_eq!(d.eviction_timeout, None);
        assert_eq!(d.eviction_timeout(), None);
        assert_eq!(d.shutdown_timeout, 5);
        assert_eq!(d.cpu_time_limit, None);
        assert_eq!(d.memory_limit, None);
        assert_eq!(d.virtual_memory_limit, None);
        assert_eq!(d.connect_timeout, 15);
        assert_eq!(d.socket_timeout, None);
        assert_eq!(d.socket_timeout_or(300), 300);
        assert_eq!(d.response_socket_timeout, None);
        assert_eq!(d.response_socket_timeout_or(300), 300);
        assert_eq!(d.queue_timeout, None);
        assert_eq!(d.listen_backlog, 100);
        assert_eq!(d.send_buffer_size, None);
        assert_eq!(d.receive_buffer_size, None);
        assert_eq!(d.header_buffer_size, 32768);
        assert_eq!(d.response_buffer_size, 65536);
    }

    #[test]
    fn pool_options() {
        let d = one("processes=4");
        assert_eq!(d.processes, 4);
        assert!(d.multiprocess);
        let d = one("processes=1");
        assert_eq!(d.processes, 1);
        assert!(d.multiprocess, "giving processes=1 still sets multiprocess");
        assert_eq!(one("threads=5").threads, 5);
        assert_eq!(one("threads=1").threads, 1);
        assert_eq!(
            one("display-name=%{GROUP}").display_name(),
            Some("(wsgi:g)".into())
        );
        assert_eq!(
            one("display-name='%{GROUP}'").display_name(),
            Some("(wsgi:g)".into())
        );
        let d = one("display-name=my-app");
        assert_eq!(d.display_name.as_deref(), Some("my-app"));
        assert_eq!(d.display_name(), Some("my-app".into()));
        assert_eq!(one("home=/srv/app").home.as_deref(), Some("/srv/app"));
        assert_eq!(
            one("python-home=/srv/venv").python_home.as_deref(),
            Some("/srv/venv")
        );
        assert_eq!(one("python-path=/a:/b::").python_path, vec!["/a", "/b"]);
        assert!(one("python-path=").python_path.is_empty());
        assert_eq!(
            one("python-eggs=/tmp/eggs").python_eggs.as_deref(),
            Some("/tmp/eggs")
        );
        assert_eq!(one("lang=en_US.UTF-8").lang.as_deref(), Some("en_US.UTF-8"));
        assert_eq!(one("locale=C.UTF-8").locale.as_deref(), Some("C.UTF-8"));
        assert_eq!(one("stack-size=524288").stack_size, Some(524288));
        assert_eq!(one("stack-size=512K").stack_size, Some(524288));
        assert_eq!(one("cpu-priority=-5").cpu_priority, -5);
        assert_eq!(one("cpu-priority=20").cpu_priority, 20);
        assert_eq!(one("switch-interval=0.005").switch_interval, Some(0.005));
    }

    #[test]
    fn identity_options() {
        let d = parse(&[
            "g",
            "user=www-data",
            "group=#33",
            "supplementary-groups=adm, ssl-cert,,#4",
            "umask=0007",
            "chroot=/jail",
            "socket-user=#1000",
            "script-user=alice",
        ]);
        assert_eq!(d.user.as_deref(), Some("www-data"));
        assert_eq!(d.group.as_deref(), Some("#33"));
        assert_eq!(d.supplementary_groups, vec!["adm", "ssl-cert", "#4"]);
        assert_eq!(d.umask, Some(0o7));
        assert_eq!(d.chroot.as_deref(), Some("/jail"));
        assert_eq!(d.socket_user.as_deref(), Some("#1000"));
        assert_eq!(d.script_user.as_deref(), Some("alice"));
        assert_eq!(
            one("script-group=staff").script_group.as_deref(),
            Some("staff")
        );
        assert!(one("server-metrics=On").server_metrics);
        assert!(!one("server-metrics=off").server_metrics);
        assert_eq!(one("user=#1000").user.as_deref(), Some("#1000"));
        assert!(one("supplementary-groups=").supplementary_groups.is_empty());
        // Group 0 is not refused (mod_wsgi only refuses user root).
        assert_eq!(one("group=root").group.as_deref(), Some("root"));
    }

    #[test]
    fn recycling_options() {
        let d = parse(&[
            "g",
            "maximum-requests=1000",
            "restart-interval=3600",
            "inactivity-timeout=300",
            "request-timeout=60",
            "interrupt-timeout=10",
            "deadlock-timeout=60",
            "startup-timeout=15",
            "graceful-timeout=15",
            "eviction-timeout=30",
            "shutdown-timeout=10",
            "cpu-time-limit=600",
            "memory-limit=512M",
            "virtual-memory-limit=1073741824",
        ]);
        assert_eq!(d.maximum_requests, Some(1000));
        assert_eq!(d.restart_interval, Some(3600));
        assert_eq!(d.inactivity_timeout, Some(300));
        assert_eq!(d.request_timeout, Some(60));
        assert_eq!(d.interrupt_timeout, Some(10));
        assert_eq!(d.deadlock_timeout, Some(60));
        assert_eq!(d.startup_timeout, Some(15));
        assert_eq!(d.graceful_timeout, Some(15));
        assert_eq!(d.eviction_timeout, Some(30));
        assert_eq!(d.eviction_timeout(), Some(30));
        assert_eq!(d.shutdown_timeout, 10);
        assert_eq!(d.cpu_time_limit, Some(600));
        assert_eq!(d.memory_limit, Some(512 << 20));
        assert_eq!(d.virtual_memory_limit, Some(1 << 30));
        // eviction falls back to graceful.
        assert_eq!(one("graceful-timeout=20").eviction_timeout(), Some(20));
    }

    #[test]
    fn zero_turns_things_off() {
        let d = parse(&[
            "g",
            "maximum-requests=0",
            "restart-interval=0",
            "inactivity-timeout=0",
            "request-timeout=0",
            "interrupt-timeout=0",
            "deadlock-timeout=0",
            "startup-timeout=0",
            "graceful-timeout=0",
            "eviction-timeout=0",
            "cpu-time-limit=0",
            "memory-limit=0",
            "virtual-memory-limit=0",
            "socket-timeout=0",
            "response-socket-timeout=0",
            "queue-timeout=0",
            "send-buffer-size=0",
            "receive-buffer-size=0",
        ]);
        assert_eq!(d.maximum_requests, None);
        assert_eq!(d.restart_interval, None);
        assert_eq!(d.inactivity_timeout, None);
        assert_eq!(d.request_timeout, None);
        assert_eq!(d.interrupt_timeout, None);
        assert_eq!(d.deadlock_timeout, None);
        assert_eq!(d.startup_timeout, None);
        assert_eq!(d.graceful_timeout, None);
        assert_eq!(d.eviction_timeout, None);
        assert_eq!(d.cpu_time_limit, None);
        assert_eq!(d.memory_limit, None);
        assert_eq!(d.virtual_memory_limit, None);
        assert_eq!(d.socket_timeout, None);
        assert_eq!(d.response_socket_timeout, None);
        assert_eq!(d.queue_timeout, None);
        assert_eq!(d.send_buffer_size, None);
        assert_eq!(d.receive_buffer_size, None);
        assert_eq!(one("shutdown-timeout=0").shutdown_timeout, 0);
        assert_eq!(one("connect-timeout=0").connect_timeout, 0);
        assert_eq!(one("header-buffer-size=0").header_buffer_size, 32768);
        assert_eq!(one("response-buffer-size=0").response_buffer_size, 65536);
        assert_eq!(one("listen-backlog=0").listen_backlog, 0);
    }

    #[test]
    fn transport_options() {
        let d = parse(&[
            "g",
            "connect-timeout=5",
            "socket-timeout=60",
            "response-socket-timeout=30",
            "queue-timeout=45",
            "listen-backlog=500",
            "send-buffer-size=65536",
            "receive-buffer-size=512",
            "header-buffer-size=65536",
            "response-buffer-size=1M",
        ]);
        assert_eq!(d.connect_timeout, 5);
        assert_eq!(d.socket_timeout, Some(60));
        assert_eq!(d.socket_timeout_or(300), 60);
        assert_eq!(d.response_socket_timeout, Some(30));
        assert_eq!(d.response_socket_timeout_or(300), 30);
        assert_eq!(d.queue_timeout, Some(45));
        assert_eq!(d.listen_backlog, 500);
        assert_eq!(d.send_buffer_size, Some(65536));
        assert_eq!(d.receive_buffer_size, Some(512));
        assert_eq!(d.header_buffer_size, 65536);
        assert_eq!(d.response_buffer_size, 1 << 20);
        assert_eq!(one("socket-timeout=60").response_socket_timeout_or(300), 60);
        assert_eq!(one("header-buffer-size=4096").header_buffer_size, 4096);
        assert_eq!(one("header-buffer-size=16M").header_buffer_size, 16 << 20);
    }

    #[test]
    fn recommended_starter_set() {
        let d = parse(&[
            "app",
            "display-name=%{GROUP}",
            "lang=en_US.UTF-8",
            "locale=en_US.UTF-8",
            "threads=5",
            "queue-timeout=45",
            "socket-timeout=60",
            "connect-timeout=15",
            "request-timeout=60",
            "startup-timeout=15",
            "deadlock-timeout=60",
            "graceful-timeout=15",
            "shutdown-timeout=5",
        ]);
        assert_eq!(d.threads, 5);
        assert_eq!(d.display_name(), Some("(wsgi:app)".into()));
        assert!(!d.multiprocess);
    }

    #[test]
    fn every_option_is_accepted() {
        let sample = |o: &str| -> &str {
            match o {
                "home" | "chroot" | "python-home" | "python-eggs" => "/x",
                "cpu-priority" | "processes" | "threads" => "1",
                "switch-interval" => "0.01",
                "umask" => "022",
                "server-metrics" => "On",
                "send-buffer-size" | "receive-buffer-size" => "1024",
                "header-buffer-size" | "response-buffer-size" => "65536",
                "user" | "group" | "socket-user" | "script-user" | "script-group" => "www",
                "supplementary-groups" => "a,b",
                "display-name" | "lang" | "locale" | "python-path" => "x",
                _ => "10",
            }
        };
        for &o in DAEMON_OPTIONS {
            let arg = format!("{o}={}", sample(o));
            parse_daemon_process(&["g", &arg]).unwrap_or_else(|e| panic!("{arg}: {e}"));
        }
        // Every option at once (but script-user and script-group are exclusive).
        let all: Vec<String> = DAEMON_OPTIONS
            .iter()
            .filter(|&&o| o != "script-group")
            .map(|o| format!("{o}={}", sample(o)))
            .collect();
        let mut args = vec!["g"];
        args.extend(all.iter().map(String::as_str));
        parse(&args);
    }

    #[test]
    fn bad_values() {
        let cases: &[(&str, &str)] = &[
            ("processes=0", "from 1 to 10000"),
            ("processes=abc", "invalid value 'abc' for option 'processes': expected a whole number from 1 to 10000"),
            ("processes=-1", "processes"),
            ("processes=10001", "processes"),
            ("threads=0", "threads=0"),
            ("threads=-2", "threads"),
            ("threads=many", "threads"),
            ("threads=65534", "threads"),
            ("home=relative/dir", "absolute path"),
            ("chroot=jail", "absolute path"),
            ("stack-size=0", "positive"),
            ("stack-size=big", "stack-size"),
            ("cpu-priority=21", "from -20 to 20"),
            ("cpu-priority=-21", "cpu-priority"),
            ("switch-interval=0", "switch-interval"),
            ("switch-interval=-1", "switch-interval"),
            ("switch-interval=abc", "switch-interval"),
            ("switch-interval=inf", "switch-interval"),
            ("user=root", "may not run as root"),
            ("user=#0", "may not run as root"),
            ("user=#abc", "#number"),
            ("group=#", "#number"),
            ("socket-user=#-1", "#number"),
            ("supplementary-groups=a,#x", "#number"),
            ("umask=999", "octal"),
            ("umask=01000", "octal"),
            ("server-metrics=yes", "On or Off"),
            ("maximum-requests=-1", "maximum-requests"),
            ("maximum-requests=lots", "maximum-requests"),
            ("request-timeout=-5", "seconds"),
            ("request-timeout=1.5", "request-timeout"),
            ("deadlock-timeout=5m", "deadlock-timeout"),
            ("shutdown-timeout=x", "shutdown-timeout"),
            ("connect-timeout=-1", "connect-timeout"),
            ("memory-limit=-1", "memory-limit"),
            ("memory-limit=1.5G", "memory-limit"),
            ("virtual-memory-limit=x", "virtual-memory-limit"),
            ("cpu-time-limit=x", "cpu-time-limit"),
            ("listen-backlog=-1", "listen-backlog"),
            ("listen-backlog=70000", "listen-backlog"),
            ("send-buffer-size=100", "at least 512 bytes"),
            ("receive-buffer-size=511", "at least 512 bytes"),
            ("header-buffer-size=1024", "from 4096 to 16777216"),
            ("header-buffer-size=16777217", "from 4096 to 16777216"),
            ("response-buffer-size=1024", "at least 65536 bytes"),
            ("queue-timeout=soon", "queue-timeout"),
            ("socket-timeout=-1", "socket-timeout"),
        ];
        for (arg, want) in cases {
            let e = err(&["g", arg]);
            assert!(e.contains(want), "{arg}: got {e:?}, wanted {want:?}");
        }
    }

    #[test]
    fn empty_values() {
        for &o in DAEMON_OPTIONS {
            if o == "python-path" || o == "supplementary-groups" {
                continue;
            }
            let arg = format!("{o}=");
            let e = err(&["g", &arg]);
            assert!(e.contains("needs a value"), "{arg}: {e}");
            let arg = format!("{o}=''");
            assert!(err(&["g", &arg]).contains("needs a value"));
        }
    }

    #[test]
    fn unknown_options_and_suggestions() {
        assert_eq!(
            err(&["g", "procesess=2"]),
            "unknown option 'procesess' (did you mean 'processes'?)"
        );
        assert_eq!(
            err(&["g", "thread=2"]),
            "unknown option 'thread' (did you mean 'threads'?)"
        );
        assert_eq!(
            err(&["g", "maximum_requests=10"]),
            "unknown option 'maximum_requests' (did you mean 'maximum-requests'?)"
        );
        assert_eq!(
            err(&["g", "Processes=2"]),
            "unknown option 'Processes' (did you mean 'processes'?)"
        );
        assert_eq!(
            err(&["g", "request-timout=60"]),
            "unknown option 'request-timout' (did you mean 'request-timeout'?)"
        );
        let e = err(&["g", "wibble=1"]);
        assert!(
            e.starts_with("unknown option 'wibble'; valid options are: processes"),
            "{e}"
        );
        let e = err(&["g", "threads"]);
        assert_eq!(e, "option 'threads' needs a value: write threads=VALUE");
        let e = err(&["g", "treads"]);
        assert!(
            e.contains("name=value") && e.contains("did you mean 'threads=…'"),
            "{e}"
        );
        let e = err(&["g", "zzzzzzzzzz"]);
        assert_eq!(
            e,
            "expected an option of the form name=value, got 'zzzzzzzzzz'"
        );
    }

    #[test]
    fn duplicates() {
        assert_eq!(
            err(&["g", "threads=2", "threads=3"]),
            "option 'threads' is given more than once"
        );
        assert!(err(&["g", "processes=2", "threads=3", "processes=2"]).contains("more than once"));
        assert!(err(&["g", "script-user=a", "script-group=b"]).contains("only one of"));
    }

    #[test]
    fn names() {
        assert!(err(&[]).contains("name is required"));
        assert!(err(&[""]).contains("name is required"));
        let e = err(&["processes=2"]);
        assert!(
            e.contains("first argument must be the daemon process group name"),
            "{e}"
        );
        assert!(err(&["a/b"]).contains("'/'"));
        assert!(err(&["a b"]).contains("spaces"));
        assert!(err(&["a\tb"]).contains("spaces"));
        assert!(err(&["a\u{1}b"]).contains("control"));
        assert_eq!(parse(&["bob:1"]).name, "bob:1");
        assert_eq!(parse(&["www.site1.com"]).name, "www.site1.com");
        assert_eq!(parse(&["a=b"]).name, "a=b");
        assert!(validate_daemon_name("ok").is_ok());
    }

    #[test]
    fn value_with_equals_sign() {
        assert_eq!(one("lang=a=b").lang.as_deref(), Some("a=b"));
    }
}
