//! `WSGIDaemonProcess name option=value …`: a daemon process group, its
//! defaults and the accessors the supervisor reads. The option parser is in
//! [`super::daemon_options`].

/// Default `header-buffer-size` (bytes).
pub(crate) const DEFAULT_HEADER_BUFFER_SIZE: u64 = 32768;
/// Default `response-buffer-size` (bytes): mod_wsgi 6.1's default for 0,
/// high enough that the forced flush never fires in normal operation.
pub(crate) const DEFAULT_RESPONSE_BUFFER_SIZE: u64 = 8 * 1024 * 1024;
/// Default `response-flush-delay` (milliseconds).
pub(crate) const DEFAULT_RESPONSE_FLUSH_DELAY_MS: u32 = 5;
/// Default `listen-backlog`.
pub(crate) const DEFAULT_LISTEN_BACKLOG: u32 = 100;

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
    pub(crate) processes: u32,
    /// True when `processes=` was given at all (even `processes=1`): this
    /// is what makes `wsgi.multiprocess` True, as in mod_wsgi.
    pub(crate) multiprocess: bool,
    /// `threads=` per process (default 15).
    pub(crate) threads: u32,
    /// `display-name=`: the process title; see [`DaemonProcess::display_name`].
    pub(crate) display_name: Option<String>,
    /// `home=`: initial working directory (absolute).
    pub(crate) home: Option<String>,
    /// `python-home=`: the virtual environment / `sys.prefix`.
    pub(crate) python_home: Option<String>,
    /// `python-path=`: extra `sys.path` directories (`:`-separated).
    pub(crate) python_path: Vec<String>,
    /// `python-eggs=`: egg cache directory (`PYTHON_EGG_CACHE`).
    pub(crate) python_eggs: Option<String>,
    /// `lang=`: `LANG`.
    pub(crate) lang: Option<String>,
    /// `locale=`: `LC_ALL`.
    pub(crate) locale: Option<String>,
    /// `stack-size=`: per-thread stack size in bytes (None = system default).
    pub(crate) stack_size: Option<u64>,
    /// `cpu-priority=`: nice value, -20 to 20 (default 0).
    pub(crate) cpu_priority: i32,
    /// `switch-interval=`: `sys.setswitchinterval()` in seconds.
    pub(crate) switch_interval: Option<f64>,

    // --- identity ---
    /// `user=` name or `#uid` (None = Apache's `User`).
    pub(crate) user: Option<String>,
    /// `group=` name or `#gid` (None = Apache's `Group`).
    pub(crate) group: Option<String>,
    /// `supplementary-groups=` (comma-separated).
    pub(crate) supplementary_groups: Vec<String>,
    /// `umask=` (octal; None = inherited).
    pub(crate) umask: Option<u32>,
    /// `chroot=` (absolute).
    pub(crate) chroot: Option<String>,
    /// `socket-user=`: owner of the daemon's listener socket (None =
    /// Apache's `User`).
    pub(crate) socket_user: Option<String>,
    /// `script-user=`: the user (name or `#uid`) that must own every WSGI
    /// script run in this group and the script's directory; neither may be
    /// writable by group or others. Otherwise the request gets 403.
    pub(crate) script_user: Option<String>,
    /// `script-group=`: the group (name or `#gid`) that must own every
    /// WSGI script run in this group and the script's directory; neither
    /// may be writable by others. Otherwise the request gets 403.
    pub(crate) script_group: Option<String>,
    /// `server-metrics=On|Off` (default Off): whether
    /// `mod_wsgi.server_metrics()` may report in this group's processes.
    pub(crate) server_metrics: bool,

    // --- recycling ---
    /// `maximum-requests=` before a restart.
    pub(crate) maximum_requests: Option<u64>,
    /// `restart-interval=`.
    pub(crate) restart_interval: Option<u32>,
    /// `inactivity-timeout=`.
    pub(crate) inactivity_timeout: Option<u32>,
    /// `request-timeout=`.
    pub(crate) request_timeout: Option<u32>,
    /// `interrupt-timeout=`.
    pub(crate) interrupt_timeout: Option<u32>,
    /// `deadlock-timeout=` (default 300; 0 turns detection off).
    pub(crate) deadlock_timeout: Option<u32>,
    /// `startup-timeout=`.
    pub(crate) startup_timeout: Option<u32>,
    /// `graceful-timeout=`.
    pub(crate) graceful_timeout: Option<u32>,
    /// `eviction-timeout=` (when None, `graceful-timeout` applies; see
    /// [`DaemonProcess::eviction_timeout`]).
    pub(crate) eviction_timeout: Option<u32>,
    /// `shutdown-timeout=` (default 5): the hard cut-off once a shutdown
    /// is under way. 0 means kill at once.
    pub(crate) shutdown_timeout: u32,
    /// `cpu-time-limit=` in CPU seconds.
    pub(crate) cpu_time_limit: Option<u32>,
    /// `memory-limit=` in bytes.
    pub(crate) memory_limit: Option<u64>,
    /// `virtual-memory-limit=` in bytes.
    pub(crate) virtual_memory_limit: Option<u64>,

    // --- transport ---
    /// `connect-timeout=` (default 15).
    pub(crate) connect_timeout: u32,
    /// `socket-timeout=` (None = Apache's `Timeout`).
    pub(crate) socket_timeout: Option<u32>,
    /// `response-socket-timeout=`: the timeout for writing the response to
    /// the client, in the Apache child (None = the socket timeout).
    pub(crate) response_socket_timeout: Option<u32>,
    /// `queue-timeout=`.
    pub(crate) queue_timeout: Option<u32>,
    /// `listen-backlog=` (default 100).
    pub(crate) listen_backlog: u32,
    /// `send-buffer-size=`: SO_SNDBUF of the group's listening socket and
    /// the daemon's connections (None = system default).
    pub(crate) send_buffer_size: Option<u64>,
    /// `receive-buffer-size=`: SO_RCVBUF, as `send-buffer-size` (None =
    /// system default).
    pub(crate) receive_buffer_size: Option<u64>,
    /// `header-buffer-size=`: the largest response header block accepted
    /// from the daemon (default 32768).
    pub(crate) header_buffer_size: u64,
    /// `response-buffer-size=`: the Apache child forces a flush of the
    /// response to the client after this many bytes were passed on without
    /// one (a guard against an output filter that buffers without end;
    /// default 8 MiB, at least 65536).
    pub(crate) response_buffer_size: u64,
    /// `response-flush-delay=` in milliseconds (default 5; 0 = flush as
    /// soon as the daemon has sent nothing more): when the daemon has no
    /// more response data ready, how long the Apache child waits for more
    /// before flushing what it passed on, so a streaming response goes out
    /// in full blocks rather than many short writes.
    pub(crate) response_flush_delay_ms: u32,
}

impl DaemonProcess {
    /// A group with every option at its default.
    pub(crate) fn new(name: &str) -> DaemonProcess {
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
            response_flush_delay_ms: DEFAULT_RESPONSE_FLUSH_DELAY_MS,
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

    /// The options given that have no effect in mod_wsgi_rs (yet), each
    /// with the reason, for one start-up line each.
    pub(crate) fn no_effect_notes(&self) -> Vec<(&'static str, &'static str)> {
        // None at present (server-metrics= took effect once the daemons
        // were forked after Apache's scoreboard exists).
        Vec::new()
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
