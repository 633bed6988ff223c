//! The daemon process group: its names and the limits of its
//! `WSGIDaemonProcess` options (the time limits every server has are in
//! `ServerArgs`).

use clap::{ArgAction, Args};

use crate::values;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Daemon processes")]
pub struct DaemonArgs {
    /// WSGIApplicationGroup: %{GLOBAL} (the default, the main interpreter) or the name of a
    /// sub-interpreter.
    #[arg(long, value_name = "NAME", value_parser = values::group_name)]
    pub application_group: Option<String>,

    /// Name of the daemon process group (default HOST:PORT); processes are named
    /// (wsgi:NAME).
    #[arg(long, value_name = "NAME", value_parser = values::group_name)]
    pub process_group: Option<String>,

    /// Restart each process after this many seconds (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 31_536_000))]
    pub restart_interval: u64,

    /// Restart a process that has used this much CPU time (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 31_536_000))]
    pub cpu_time_limit: u64,

    /// Grace period for requests when the application is evicted by a graceful restart
    /// signal (0: --graceful-timeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub eviction_timeout: u64,

    /// Restart a process that received no request for this long (0: never).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 31_536_000))]
    pub inactivity_timeout: u64,

    /// When --request-timeout fires, first try to interrupt only the stuck request (a
    /// RequestTimeout exception) for this long (0: restart the process).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub interrupt_timeout: u64,

    /// Restart a process whose resident memory exceeds this (bytes, or with K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = values::size)]
    pub memory_limit: Option<String>,

    /// Restart a process whose virtual memory exceeds this (bytes, or with K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = values::size)]
    pub virtual_memory_limit: Option<String>,

    /// Listen backlog of each daemon process's socket.
    #[arg(long, value_name = "NUMBER", value_parser = values::whole::<u32>(1, 65535))]
    pub daemon_backlog: Option<u32>,

    /// Socket buffer for sending to the daemon processes (bytes; 0: system default).
    #[arg(long, value_name = "BYTES", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 16_777_216))]
    pub send_buffer_size: u64,

    /// Socket buffer for receiving from the daemon processes (bytes; 0: system default).
    #[arg(long, value_name = "BYTES", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 16_777_216))]
    pub receive_buffer_size: u64,

    /// Largest response header block from a daemon process (bytes, 4096 to 16777216; 0: the
    /// default, 32768).
    #[arg(long, value_name = "BYTES", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 16_777_216))]
    pub header_buffer_size: u64,

    /// Response bytes passed on without a flush (bytes, at least 65536; 0: the default,
    /// 8 MB).
    #[arg(long, value_name = "BYTES", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 1 << 30))]
    pub response_buffer_size: u64,

    /// Time limit for each write of the response to the client (0: --socket-timeout).
    #[arg(long, value_name = "SECONDS", default_value_t = 0,
          value_parser = values::whole::<u64>(0, 86_400))]
    pub response_socket_timeout: u64,

    /// Owner of the daemon sockets (default: Apache's user).
    #[arg(long, value_name = "USER")]
    pub socket_user: Option<String>,

    /// How long the response waits for more data from a daemon process before what it has
    /// is flushed to the client (milliseconds; default 5; 0: flush at once).
    #[arg(long, value_name = "MILLISECONDS",
          value_parser = values::whole::<u64>(0, 2_147_483_647))]
    pub response_flush_delay: Option<u64>,

    /// Requests under this URL path (e.g. a health check) do not count as activity for
    /// --inactivity-timeout (WSGIIgnoreActivity). Repeatable.
    #[arg(long, value_name = "URL-PATH", action = ArgAction::Append,
          value_parser = values::url_path)]
    pub ignore_activity: Vec<String>,

    /// Python's thread switch interval (sys.setswitchinterval), in the daemon processes
    /// (switch-interval=) and in Apache's children (WSGISwitchInterval).
    #[arg(long, value_name = "SECONDS", value_parser = values::positive_seconds)]
    pub switch_interval: Option<String>,

    /// Directory for unpacking Python eggs (PYTHON_EGG_CACHE), in the daemon processes
    /// (python-eggs=) and in Apache's children (WSGIPythonEggs).
    #[arg(long, value_name = "DIRECTORY")]
    pub python_eggs: Option<String>,
}

impl DaemonArgs {
    /// The WSGIDaemonProcess options given (numbers left at 0 are off).
    pub fn options(&self) -> Vec<(&'static str, String)> {
        let mut o: Vec<(&'static str, String)> = Vec::new();
        let numbers = [
            ("restart-interval", self.restart_interval),
            ("cpu-time-limit", self.cpu_time_limit),
            ("eviction-timeout", self.eviction_timeout),
            ("inactivity-timeout", self.inactivity_timeout),
            ("interrupt-timeout", self.interrupt_timeout),
            ("send-buffer-size", self.send_buffer_size),
            ("receive-buffer-size", self.receive_buffer_size),
            ("header-buffer-size", self.header_buffer_size),
            ("response-buffer-size", self.response_buffer_size),
            ("response-socket-timeout", self.response_socket_timeout),
        ];
        for (name, v) in numbers {
            if v != 0 {
                o.push((name, v.to_string()));
            }
        }
        let words = [
            ("memory-limit", &self.memory_limit),
            ("virtual-memory-limit", &self.virtual_memory_limit),
            ("socket-user", &self.socket_user),
            ("switch-interval", &self.switch_interval),
        ];
        for (name, v) in words {
            if let Some(v) = v {
                o.push((name, v.clone()));
            }
        }
        if let Some(ms) = self.response_flush_delay {
            o.push(("response-flush-delay", ms.to_string()));
        }
        if let Some(b) = self.daemon_backlog {
            o.push(("listen-backlog", b.to_string()));
        }
        o
    }
}
