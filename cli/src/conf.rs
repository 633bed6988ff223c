//! Everything written into the server root: httpd.conf, the apachectl
//! script, the handler shim for `--application-type module` and the
//! monitor for `--reload-on-changes`.

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::args::{CliError, Result};
use super::discover::HomeSource;

/// What serves the requests.
#[derive(Clone, Debug)]
pub enum Entry {
    /// A WSGI script file (absolute).
    Script(PathBuf),
    /// `package.module` and the attribute path of the callable in it.
    Module { module: String, callable: String },
}

/// The daemon-mode time limits, in seconds (WSGIDaemonProcess options).
pub const TIMEOUTS: &[(&str, u64, &str)] = &[
    (
        "request-timeout",
        60,
        "seconds a request may run before the daemon process is restarted (daemon mode)",
    ),
    (
        "queue-timeout",
        45,
        "seconds a request may wait for a free daemon thread before a 504 (daemon mode)",
    ),
    (
        "socket-timeout",
        60,
        "seconds of silence on a connection (Apache's Timeout, and the daemon socket's)",
    ),
    (
        "connect-timeout",
        15,
        "seconds to keep trying to connect to the daemon process (daemon mode)",
    ),
    (
        "startup-timeout",
        15,
        "seconds the application may take to load before the daemon process is restarted",
    ),
    (
        "graceful-timeout",
        15,
        "seconds a daemon process may finish its requests on a graceful restart",
    ),
    (
        "shutdown-timeout",
        5,
        "seconds a daemon process may take to exit before it is killed",
    ),
    (
        "deadlock-timeout",
        60,
        "seconds the Python GIL may stay blocked before the daemon process is restarted",
    ),
];

/// Which Apache MPM to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Mpm {
    Event,
    Worker,
    Prefork,
}

impl Mpm {
    pub fn name(self) -> &'static str {
        match self {
            Mpm::Event => "event",
            Mpm::Worker => "worker",
            Mpm::Prefork => "prefork",
        }
    }
}

/// A validated `start-server`/`setup-server` request.
#[derive(Clone, Debug)]
pub struct Settings {
    pub command_line: String,
    pub entry: Entry,
    pub host: String,
    pub port: u16,
    pub server_name: String,
    pub server_root: PathBuf,
    pub processes: u32,
    pub threads: u32,
    pub max_clients: Option<u32>,
    pub mpm: Mpm,
    pub embedded: bool,
    pub callable_object: String,
    pub mount_point: String,
    pub url_aliases: Vec<(String, PathBuf)>,
    pub document_root: Option<PathBuf>,
    pub working_directory: PathBuf,
    pub python_home: Option<(PathBuf, HomeSource)>,
    pub python_paths: Vec<PathBuf>,
    pub reload: bool,
    /// `(user, group)` for Apache's children when started as root.
    pub run_as: Option<(String, String)>,
    pub log_to_terminal: bool,
    pub access_log: bool,
    pub log_level: String,
    pub log_directory: PathBuf,
    pub limit_request_body: u64,
    pub timeouts: Vec<(&'static str, u64)>,
    pub maximum_requests: Option<u64>,
    pub include_files: Vec<PathBuf>,
    pub httpd: PathBuf,
    pub modules_dir: PathBuf,
    pub static_modules: Vec<String>,
    pub module_so: PathBuf,
    pub python_version: Option<String>,
    /// True under `start-server` (the mod-wsgi-rs process watches Apache);
    /// false for `setup-server`, whose Apache runs through `apachectl`.
    pub supervised: bool,
    /// Whether the daemon processes start in the working directory
    /// (`home=`); false when their user could not enter it.
    pub daemon_home: bool,
}

impl Settings {
    pub fn conf_path(&self) -> PathBuf {
        self.server_root.join("httpd.conf")
    }
    pub fn pid_file(&self) -> PathBuf {
        self.server_root.join("httpd.pid")
    }
    pub fn apachectl(&self) -> PathBuf {
        self.server_root.join("apachectl")
    }
    pub fn error_log(&self) -> PathBuf {
        if self.log_to_terminal {
            PathBuf::from("/dev/stderr")
        } else {
            self.log_directory.join("error_log")
        }
    }
    pub fn access_log_path(&self) -> PathBuf {
        if self.log_to_terminal {
            PathBuf::from("/dev/stdout")
        } else {
            self.log_directory.join("access_log")
        }
    }
    pub fn runtime_dir(&self) -> PathBuf {
        self.server_root.join("run")
    }
    pub fn reload_dir(&self) -> PathBuf {
        self.server_root.join("reload")
    }
    /// The file the reload monitor creates to ask for a restart.
    pub fn reload_trigger(&self) -> PathBuf {
        self.reload_dir().join("restart")
    }
    pub fn handler_path(&self) -> PathBuf {
        self.server_root.join("handler.wsgi")
    }
    pub fn monitor_path(&self) -> PathBuf {
        self.server_root.join("reload-monitor.py")
    }
    /// The file WSGIScriptAlias points at.
    pub fn script_path(&self) -> PathBuf {
        match &self.entry {
            Entry::Script(p) => p.clone(),
            Entry::Module { .. } => self.handler_path(),
        }
    }
    /// `host:port`, the name of the daemon process group.
    pub fn group_name(&self) -> String {
        format!("{}:{}", self.host_label(), self.port)
    }
    pub fn display_name(&self) -> String {
        format!(
            "(wsgi:{}:{}:{})",
            self.host_label(),
            self.port,
            super::sys::euid()
        )
    }
    pub fn host_label(&self) -> String {
        host_label(&self.host)
    }
    /// The `Listen` argument.
    pub fn listen(&self) -> String {
        match self.host.as_str() {
            "*" | "" => self.port.to_string(),
            h if h.contains(':') => format!("[{}]:{}", h.trim_matches(['[', ']']), self.port),
            h => format!("{h}:{}", self.port),
        }
    }
    pub fn url(&self) -> String {
        let host = match self.host.as_str() {
            "*" | "" | "0.0.0.0" | "::" | "[::]" => self.server_name.clone(),
            h if h.contains(':') => format!("[{}]", h.trim_matches(['[', ']'])),
            h => h.to_string(),
        };
        let mount = if self.mount_point == "/" {
            "/".to_string()
        } else {
            format!("{}/", self.mount_point)
        };
        format!("http://{host}:{}{mount}", self.port)
    }
    pub fn socket_prefix(&self) -> PathBuf {
        self.server_root.join("wsgi")
    }

    /// (clients Apache accepts at once, threads per Apache child, children).
    pub fn capacity(&self) -> (u32, u32, u32) {
        let wsgi_threads = self.processes.saturating_mul(self.threads);
        if self.mpm == Mpm::Prefork {
            let max = self.max_clients.unwrap_or(if self.embedded {
                self.processes
            } else {
                10.max(wsgi_threads.saturating_mul(3).div_ceil(2))
            });
            return (max, 1, max);
        }
        let (max, per_child) = if self.embedded {
            let max = self.max_clients.unwrap_or(wsgi_threads);
            (max, self.threads.min(max).max(1))
        } else {
            let max = self
                .max_clients
                .unwrap_or(10.max(wsgi_threads.saturating_mul(3).div_ceil(2)));
            (max, max.clamp(1, 25))
        };
        let children = max.div_ceil(per_child).max(1);
        (children * per_child, per_child, children)
    }
}

/// The label of a `--host` value used in names (server root, group).
pub fn host_label(host: &str) -> String {
    match host {
        "*" | "" => "all".to_string(),
        h => h.trim_matches(['[', ']']).to_string(),
    }
}

/// Quotes a word for httpd.conf.
fn q(s: &str) -> String {
    format!("\"{s}\"")
}

fn qp(p: &Path) -> String {
    q(&p.display().to_string())
}

/// Fails for text httpd.conf cannot carry inside a quoted word.
pub fn check_conf_text(what: &str, s: &str) -> Result<()> {
    if s.contains(['"', '\n', '\r', '\\']) || s.contains("${") {
        return Err(CliError::fail(format!(
            "{what} '{s}' contains a character Apache's configuration cannot quote (\", \\, a \
             line break or ${{): rename or move it"
        )));
    }
    Ok(())
}

/// A Python string literal for `s`.
pub fn py_str(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            ' '..='~' => out.push(c),
            c => {
                let _ = write!(out, "\\U{:08x}", c as u32);
            }
        }
    }
    out.push('\'');
    out
}

/// A single-quoted shell word.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn load_module(out: &mut String, s: &Settings, name: &str) {
    let file = s.modules_dir.join(format!("mod_{name}.so"));
    if s.static_modules.iter().any(|m| m == &format!("mod_{name}")) {
        return;
    }
    let _ = writeln!(
        out,
        "<IfModule !{name}_module>\n    LoadModule {name}_module {}\n</IfModule>",
        qp(&file)
    );
}

/// httpd.conf.
pub fn httpd_conf(s: &Settings) -> String {
    let mut c = String::new();
    let root = &s.server_root;
    let _ = writeln!(
        c,
        "# Generated by mod-wsgi-rs {} ({}); written again on every start.\n# {}\n",
        env!("CARGO_PKG_VERSION"),
        if s.supervised {
            "start-server"
        } else {
            "setup-server"
        },
        s.command_line.replace(|c: char| c.is_control(), "?")
    );
    let _ = writeln!(c, "ServerRoot {}", qp(root));
    let _ = writeln!(c, "PidFile {}", qp(&s.pid_file()));
    let _ = writeln!(c, "DefaultRuntimeDir {}", qp(&s.runtime_dir()));
    let _ = writeln!(
        c,
        "Mutex {} default",
        q(&format!("file:{}", s.runtime_dir().display()))
    );
    let _ = writeln!(c, "ServerName {}", s.server_name);
    let _ = writeln!(c, "Listen {}", s.listen());
    if let Some((user, group)) = &s.run_as {
        let _ = writeln!(c, "User {}\nGroup {}", q(user), q(group));
    }

    // --- modules ---
    let _ = writeln!(c, "\n# Modules (only those this configuration uses).");
    let mpm = s.mpm.name();
    let _ = writeln!(
        c,
        "<IfModule !mpm_event_module>\n<IfModule !mpm_worker_module>\n<IfModule !mpm_prefork_module>\n    LoadModule mpm_{mpm}_module {}\n</IfModule>\n</IfModule>\n</IfModule>",
        qp(&s.modules_dir.join(format!("mod_mpm_{mpm}.so")))
    );
    let mut modules = vec!["unixd", "authz_core", "log_config", "mime", "dir", "alias"];
    if s.document_root.is_some() && s.mount_point == "/" {
        modules.push("rewrite");
    }
    for m in modules {
        load_module(&mut c, s, m);
    }

    // --- server ---
    let socket_timeout = s
        .timeouts
        .iter()
        .find(|(n, _)| *n == "socket-timeout")
        .map_or(60, |(_, v)| *v);
    let _ = writeln!(
        c,
        "\nTimeout {socket_timeout}\nKeepAlive On\nKeepAliveTimeout 2\nMaxKeepAliveRequests 100\n\
         LimitRequestBody {}\nHostnameLookups Off\nTraceEnable Off\nServerSignature Off\nServerTokens Prod",
        s.limit_request_body
    );

    let (max, per_child, children) = s.capacity();
    let _ = writeln!(c, "\n# Request capacity: {max} clients at once.");
    if s.mpm == Mpm::Prefork {
        let _ = writeln!(
            c,
            "StartServers {}\nMinSpareServers 1\nMaxSpareServers {max}\nServerLimit {max}\n\
             MaxRequestWorkers {max}\nMaxConnectionsPerChild 0",
            s.processes.min(max).max(1)
        );
    } else {
        // Room in the scoreboard for the old children of a graceful restart.
        let _ = writeln!(
            c,
            "StartServers {children}\nServerLimit {}\nThreadLimit {per_child}\n\
             ThreadsPerChild {per_child}\nMaxRequestWorkers {max}\nMinSpareThreads {per_child}\n\
             MaxSpareThreads {}\nMaxConnectionsPerChild 0",
            children * 2,
            max + per_child
        );
    }

    // --- logs ---
    let _ = writeln!(
        c,
        "\nErrorLog {}\nLogLevel {}",
        qp(&s.error_log()),
        s.log_level
    );
    if s.access_log {
        let _ = writeln!(
            c,
            "LogFormat \"%h %l %u %t \\\"%r\\\" %>s %b \\\"%{{Referer}}i\\\" \\\"%{{User-Agent}}i\\\"\" combined\nCustomLog {} combined",
            qp(&s.access_log_path())
        );
    }

    // --- files ---
    match super::discover::mime_types() {
        Some(p) => {
            let _ = writeln!(c, "\nTypesConfig {}", qp(&p));
        }
        None => {
            let _ = writeln!(c, "\nTypesConfig {}", qp(&root.join("mime.types")));
        }
    }
    let doc_root = s
        .document_root
        .clone()
        .unwrap_or_else(|| root.join("htdocs"));
    let _ = writeln!(
        c,
        "DocumentRoot {}\nDirectoryIndex index.html\n<Directory />\n    Options None\n    AllowOverride None\n    Require all denied\n</Directory>\n<Directory {}>\n    Options FollowSymLinks\n    AllowOverride None\n    Require all granted\n</Directory>",
        qp(&doc_root),
        qp(&doc_root)
    );
    if s.document_root.is_some() && s.mount_point == "/" {
        // A file that exists in the document root is served as is; every
        // other URL goes to the application.
        let _ = writeln!(
            c,
            "RewriteEngine On\nRewriteCond {} -f\nRewriteRule ^/(.*)$ {} [L]",
            q(&format!("{}%{{REQUEST_URI}}", doc_root.display())),
            q(&format!("{}/$1", doc_root.display()))
        );
    }

    // --- WSGI ---
    let _ = writeln!(c, "\n# The application.");
    let _ = writeln!(c, "LoadModule wsgi_module {}", qp(&s.module_so));
    if let Some((home, _)) = &s.python_home {
        let _ = writeln!(c, "WSGIPythonHome {}", qp(home));
    }
    let python_path = s
        .python_paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let group = if s.embedded {
        "%{GLOBAL}".to_string()
    } else {
        let _ = writeln!(c, "WSGIRestrictEmbedded On");
        let _ = writeln!(c, "WSGISocketPrefix {}", qp(&s.socket_prefix()));
        // processes= is left out for a single process: giving it at all
        // makes wsgi.multiprocess True, as in mod_wsgi.
        let pool = if s.processes > 1 {
            format!("processes={} threads={}", s.processes, s.threads)
        } else {
            format!("threads={}", s.threads)
        };
        let mut d = format!(
            "WSGIDaemonProcess {} \\\n    display-name={} \\\n    {pool}",
            s.group_name(),
            q(&s.display_name()),
        );
        if s.daemon_home {
            let _ = write!(d, " \\\n    home={}", qp(&s.working_directory));
        }
        if let Some((home, _)) = &s.python_home {
            let _ = write!(d, " \\\n    python-home={}", qp(home));
        }
        if !python_path.is_empty() {
            let _ = write!(d, " \\\n    python-path={}", q(&python_path));
        }
        let timeouts: Vec<String> = s.timeouts.iter().map(|(n, v)| format!("{n}={v}")).collect();
        for chunk in timeouts.chunks(4) {
            let _ = write!(d, " \\\n    {}", chunk.join(" "));
        }
        if let Some(m) = s.maximum_requests {
            let _ = write!(d, " \\\n    maximum-requests={m}");
        }
        let _ = writeln!(c, "{d}");
        s.group_name()
    };
    if s.embedded && !python_path.is_empty() {
        let _ = writeln!(c, "WSGIPythonPath {}", q(&python_path));
    }
    let _ = writeln!(c, "WSGIProcessGroup {group}");
    let _ = writeln!(c, "WSGIApplicationGroup %{{GLOBAL}}");
    let callable = match &s.entry {
        Entry::Script(_) => s.callable_object.as_str(),
        Entry::Module { .. } => "application",
    };
    let _ = writeln!(c, "WSGICallableObject {}", q(callable));
    let script = s.script_path();
    // Giving both groups preloads the application when its process starts.
    let _ = writeln!(
        c,
        "WSGIScriptAlias {} {} process-group={group} application-group=%{{GLOBAL}}",
        q(&s.mount_point),
        qp(&script)
    );
    grant_file(&mut c, &script);
    if s.reload {
        let _ = writeln!(
            c,
            "# --reload-on-changes\nWSGIImportScript {} process-group={group} application-group=%{{GLOBAL}}",
            qp(&s.monitor_path())
        );
    }

    // --- static files ---
    if !s.url_aliases.is_empty() {
        let _ = writeln!(c, "\n# Static files (--url-alias).");
    }
    for (url, path) in &s.url_aliases {
        let _ = writeln!(c, "Alias {} {}", q(url), qp(path));
        if path.is_file() {
            grant_file(&mut c, path);
        } else {
            let _ = writeln!(
                c,
                "<Directory {}>\n    Options FollowSymLinks\n    AllowOverride None\n    Require all granted\n</Directory>",
                qp(path)
            );
        }
    }

    for f in &s.include_files {
        let _ = writeln!(c, "\nInclude {}", qp(f));
    }
    c
}

fn grant_file(c: &mut String, file: &Path) {
    let dir = file.parent().unwrap_or(Path::new("/"));
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let _ = writeln!(
        c,
        "<Directory {}>\n    <Files {}>\n        Require all granted\n    </Files>\n</Directory>",
        qp(dir),
        q(&name)
    );
}

/// The `apachectl` script of a server root.
pub fn apachectl(s: &Settings) -> String {
    format!(
        r#"#!/bin/sh
# Generated by mod-wsgi-rs {version}: controls the Apache configured in
# {root}.
#   apachectl start            start Apache in the background
#   apachectl stop             stop it (waits until it has exited)
#   apachectl restart          restart it
#   apachectl graceful         restart it, letting requests in progress finish
#   apachectl graceful-stop    stop it, letting requests in progress finish
#   apachectl configtest       check the configuration
#   apachectl foreground       run Apache in the foreground (Ctrl-C stops it)
#   apachectl status           say whether it runs
HTTPD={httpd}
CONF={conf}
PIDFILE={pidfile}

if [ -z "$LANG" ] && [ -z "$LC_ALL" ]; then
    LANG=C.UTF-8
    export LANG
fi

pid() {{
    [ -f "$PIDFILE" ] && cat "$PIDFILE" 2>/dev/null
}}

# Whether process $1 exists and is not a zombie.
alive() {{
    kill -0 "$1" 2>/dev/null || return 1
    if [ -r "/proc/$1/stat" ]; then
        state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1)
        [ "$state" != Z ]
    else
        return 0
    fi
}}

wait_gone() {{
    p=$1
    n=0
    while [ -n "$p" ] && alive "$p"; do
        n=$((n + 1))
        if [ "$n" -gt "$2" ]; then
            echo "apachectl: Apache (pid $p) is still running" >&2
            return 1
        fi
        sleep 0.1
    done
    return 0
}}

running() {{
    p=$(pid)
    [ -n "$p" ] && alive "$p"
}}

case "$1" in
    start)
        if running; then
            echo "apachectl: Apache is already running (pid $(pid))" >&2
            exit 1
        fi
        exec "$HTTPD" -f "$CONF" -k start
        ;;
    foreground|start-foreground)
        exec "$HTTPD" -f "$CONF" -DFOREGROUND
        ;;
    stop|graceful-stop)
        if ! running; then
            echo "apachectl: Apache is not running" >&2
            exit 0
        fi
        p=$(pid)
        "$HTTPD" -f "$CONF" -k "$1" || exit $?
        if [ "$1" = stop ]; then wait_gone "$p" 300; else wait_gone "$p" 3000; fi
        ;;
    restart|graceful)
        exec "$HTTPD" -f "$CONF" -k "$1"
        ;;
    configtest|-t)
        exec "$HTTPD" -f "$CONF" -t
        ;;
    status)
        if running; then
            echo "Apache is running (pid $(pid))"
        else
            echo "Apache is not running"
            exit 3
        fi
        ;;
    *)
        echo "usage: $0 start|stop|restart|graceful|graceful-stop|configtest|foreground|status" >&2
        exit 2
        ;;
esac
"#,
        version = env!("CARGO_PKG_VERSION"),
        root = s.server_root.display(),
        httpd = sh_quote(&s.httpd.display().to_string()),
        conf = sh_quote(&s.conf_path().display().to_string()),
        pidfile = sh_quote(&s.pid_file().display().to_string()),
    )
}

/// handler.wsgi for `--application-type module`.
pub fn handler_shim(s: &Settings) -> Option<String> {
    let Entry::Module { module, callable } = &s.entry else {
        return None;
    };
    Some(format!(
        r#"# Generated by mod-wsgi-rs: serves {module}:{callable} (--application-type module).
import importlib
import sys

_DIRECTORY = {dir}
if _DIRECTORY not in sys.path:
    sys.path.insert(0, _DIRECTORY)

_module = importlib.import_module({module_lit})
application = _module
for _name in {callable_lit}.split("."):
    try:
        application = getattr(application, _name)
    except AttributeError:
        raise ImportError(
            "mod-wsgi-rs: module %r (%s) has no attribute %r; check the "
            "'module:callable' given to --application-type module"
            % ({module_lit}, getattr(_module, "__file__", "?"), {callable_lit})
        ) from None
if not callable(application):
    raise TypeError("mod-wsgi-rs: %s:%s is not callable" % ({module_lit}, {callable_lit}))
"#,
        dir = py_str(&s.working_directory.display().to_string()),
        module_lit = py_str(module),
        callable_lit = py_str(callable),
    ))
}

/// reload-monitor.py for `--reload-on-changes`.
pub fn reload_monitor(s: &Settings) -> String {
    let trigger = if s.supervised {
        py_str(&s.reload_trigger().display().to_string())
    } else {
        "None".to_string()
    };
    format!(
        r#"# Generated by mod-wsgi-rs for --reload-on-changes.
#
# Runs in every process that runs the application. A thread looks at the
# source file of every imported module once a second; when one changes it
# asks for a restart:
#   - under `mod-wsgi-rs start-server`, it creates TRIGGER and the
#     mod-wsgi-rs process gracefully restarts Apache (works whatever user the
#     application runs as);
#   - otherwise (Apache started with apachectl) a daemon process restarts
#     itself (SIGINT), and in embedded mode Apache's parent is sent SIGUSR1
#     (a graceful restart; possible when Apache was not started as root).
import os
import signal
import sys
import threading
import time

TRIGGER = {trigger}
PIDFILE = {pidfile}
DAEMON = {daemon}
INTERVAL = 1.0


def _stamp(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _files():
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path:
            yield path


def _restart(path):
    print("mod-wsgi-rs: %s changed: restarting the application (pid %d)"
          % (path, os.getpid()), file=sys.stderr, flush=True)
    try:
        if TRIGGER:
            tmp = "%s.%d" % (TRIGGER, os.getpid())
            with open(tmp, "w") as f:
                f.write(path + "\n")
            os.replace(tmp, TRIGGER)
        elif DAEMON:
            os.kill(os.getpid(), signal.SIGINT)
        else:
            with open(PIDFILE) as f:
                os.kill(int(f.read().strip()), signal.SIGUSR1)
    except Exception as e:
        print("mod-wsgi-rs: cannot restart the application (%s): restart Apache "
              "yourself (apachectl graceful)" % e, file=sys.stderr, flush=True)


def _monitor():
    seen = {{}}
    while True:
        for path in _files():
            now = _stamp(path)
            if path not in seen:
                seen[path] = now
            elif now is not None and now != seen[path]:
                if seen[path] is None:
                    seen[path] = now
                    continue
                _restart(path)
                return
        time.sleep(INTERVAL)


threading.Thread(target=_monitor, name="mod-wsgi-rs-reload-monitor",
                 daemon=True).start()
"#,
        pidfile = py_str(&s.pid_file().display().to_string()),
        daemon = if s.embedded { "False" } else { "True" },
    )
}

const MIME_TYPES: &str = "text/html html htm\ntext/plain txt\ntext/css css\n\
application/javascript js\napplication/json json\nimage/png png\nimage/jpeg jpg jpeg\n\
image/gif gif\nimage/svg+xml svg\nimage/x-icon ico\n";

fn write_file(path: &Path, content: &str, mode: u32) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(content.as_bytes())?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        CliError::fail(format!("cannot write {}: {e}", path.display()))
    })
}

fn make_dir(path: &Path, mode: u32) -> Result<()> {
    fs::create_dir_all(path)
        .and_then(|_| fs::set_permissions(path, fs::Permissions::from_mode(mode)))
        .map_err(|e| CliError::fail(format!("cannot create {}: {e}", path.display())))
}

/// Creates the server root (or checks that an existing one is ours).
pub fn prepare_server_root(root: &Path) -> Result<()> {
    match fs::symlink_metadata(root) {
        Ok(m) => {
            if !m.is_dir() {
                return Err(CliError::fail(format!(
                    "server root {} exists and is not a directory: pass another --server-root",
                    root.display()
                )));
            }
            if m.uid() != super::sys::euid() {
                return Err(CliError::fail(format!(
                    "server root {} belongs to another user (uid {}): pass another --server-root",
                    root.display(),
                    m.uid()
                )));
            }
            // Apache's children (another user when started as root) read
            // the files in it.
            if m.mode() & 0o005 != 0o005 {
                fs::set_permissions(root, fs::Permissions::from_mode(m.mode() & 0o7777 | 0o055))
                    .map_err(|e| CliError::fail(format!("cannot chmod {}: {e}", root.display())))?;
            }
            Ok(())
        }
        Err(_) => make_dir(root, 0o755),
    }
}

/// Writes every file of the server root.
pub fn write_server_root(s: &Settings) -> Result<()> {
    prepare_server_root(&s.server_root)?;
    make_dir(&s.runtime_dir(), 0o755)?;
    if s.document_root.is_none() {
        make_dir(&s.server_root.join("htdocs"), 0o755)?;
    }
    if !s.log_to_terminal {
        make_dir(&s.log_directory, 0o755)?;
    }
    if super::discover::mime_types().is_none() {
        write_file(&s.server_root.join("mime.types"), MIME_TYPES, 0o644)?;
    }
    if let Some(shim) = handler_shim(s) {
        write_file(&s.handler_path(), &shim, 0o644)?;
    }
    if s.reload {
        write_file(&s.monitor_path(), &reload_monitor(s), 0o644)?;
        make_dir(&s.reload_dir(), 0o755)?;
        let _ = fs::remove_file(s.reload_trigger());
        if let Some((user, group)) = &s.run_as {
            // The application runs as `user` and must create the trigger.
            let uid = super::discover::lookup_user(user).map(|(u, _)| u);
            let gid = super::discover::lookup_group(group);
            std::os::unix::fs::chown(s.reload_dir(), uid, gid).map_err(|e| {
                CliError::fail(format!(
                    "cannot give {} to {user}: {e}",
                    s.reload_dir().display()
                ))
            })?;
        }
    }
    write_file(&s.conf_path(), &httpd_conf(s), 0o644)?;
    write_file(&s.apachectl(), &apachectl(s), 0o755)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(py_str("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(py_str("é"), "'\\U000000e9'");
        assert_eq!(sh_quote("it's"), "'it'\\''s'");
        assert!(check_conf_text("x", "/a\"b").is_err());
        assert!(check_conf_text("x", "/a b/c").is_ok());
    }
}
