//! Unit tests of the `WSGIDaemonProcess` option parser and the
//! [`DaemonProcess`] accessors.

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
    assert_eq!(d.response_buffer_size, 8 << 20);
    assert_eq!(d.response_flush_delay_ms, 5);
    assert!(d.no_effect_notes().is_empty());
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
    assert_eq!(one("threads=0").threads, 0);
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
    assert_eq!(one("response-buffer-size=0").response_buffer_size, 8 << 20);
    assert_eq!(one("response-flush-delay=0").response_flush_delay_ms, 0);
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
    assert_eq!(one("response-flush-delay=20").response_flush_delay_ms, 20);
    let e = parse_daemon_process(&["g", "response-flush-delay=-1"]).unwrap_err();
    assert!(e.contains("response-flush-delay"), "{e}");
    let d = one("server-metrics=On");
    assert!(d.server_metrics);
    assert!(d.no_effect_notes().is_empty());
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
        (
            "processes=abc",
            "invalid value 'abc' for option 'processes': expected a whole number from 1 to 10000",
        ),
        ("processes=-1", "processes"),
        ("processes=10001", "processes"),
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
