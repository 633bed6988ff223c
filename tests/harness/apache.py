"""Start and drive a real Apache httpd 2.4 with a WSGI module loaded.

Each ``Apache`` instance lives in a fresh directory under one per-session
root (``SESSION_ROOT``).  That directory is the ServerRoot and holds the
generated config, the pid file, the error log, a copy of ``tests/apps``
(``apps/``, world-readable) and a world-writable ``state/`` directory that
the test apps use to record things (close() calls, preload marks, ...).

Placeholders usable in a config body: ``@APPS@`` (the apps copy),
``@STATE@`` (the state dir), ``@ROOT@`` (the server root), ``@PORT@``,
``@PROCESS_GROUP@`` (``%{GLOBAL}`` in embedded mode, ``testgroup`` in daemon
mode: for WSGIImportScript and friends that must follow the requests),
``@SOCKETS@`` (a short directory for daemon sockets: a UNIX socket path must
fit in 108 bytes, and server roots named after long test names do not leave
room for ``.<pid>.<nonce>.<n>.sock``).

``MOD_WSGI_TEST_MODE=daemon`` runs every server whose config body does not
define daemon groups itself in daemon mode: the harness adds
``WSGISocketPrefix``, ``WSGIDaemonProcess testgroup processes=2 threads=5``
and a server-level ``WSGIProcessGroup testgroup`` (see ``DAEMON_DIRECTIVES``).
"""

import atexit
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from harness import module_under_test

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS_DIR = os.path.dirname(HERE)
REPO_DIR = os.path.dirname(TESTS_DIR)
APPS_SRC = os.path.join(TESTS_DIR, "apps")

APACHE_BIN = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
DEBIAN_MOD_WSGI = module_under_test.DEBIAN_MOD_WSGI
DEFAULT_SO = module_under_test.DEFAULT_SO

# MOD_WSGI_SO: a path or a keyword (mod_wsgi-6.1.1, mod_wsgi-4.9.4), see
# module_under_test.py.
# IMPL: "rs" for ours, "mod_wsgi" for mod_wsgi 4.x (Debian's 4.9.4),
# "mod_wsgi6" for mod_wsgi 6.x (6.1.1 from PyPI, scripts/reference-mod_wsgi).
# MOD_WSGI_VERSION: (major, minor) of a reference mod_wsgi, None for ours.
# PYTHON_HOME: the venv of a pip-installed mod_wsgi (WSGIPythonHome in the
# base config), else None.
(MOD_WSGI_SO, IMPL, MOD_WSGI_VERSION, PYTHON_HOME,
 _MISSING_HINT) = module_under_test.resolve(os.environ.get("MOD_WSGI_SO"))

# A module built for another Python (scripts/test-pythons): the lines
# `mod-wsgi-rs module-config` printed for it (LoadFile of that Python's
# libpython, LoadModule, WSGIPythonHome of its prefix) stand in for the
# LoadModule line; WSGIPythonHome is left out when a test body sets its own.
MODULE_CONFIG = os.environ.get("MOD_WSGI_TEST_MODULE_CONFIG")


def is_mod_wsgi():
    """True when the module under test is a reference mod_wsgi (any version)."""
    return MOD_WSGI_VERSION is not None


MPMS = ("event", "worker", "prefork")

BASE_MODULES = (
    "authz_core", "authz_host", "authn_core", "auth_basic", "authn_file",
    "authz_user", "mime", "alias", "env", "setenvif", "headers", "dir",
    "filter", "deflate",
)

START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0
# After SIGTERM, how long the children may take to exit by themselves before
# the harness SIGKILLs them (Apache itself would wait ~10 s). Debian's
# mod_wsgi 4.9.4 with Python 3.11 deadlocks in Py_EndInterpreter() at child
# exit under threaded MPMs (see test_lifecycle.py), so against it we do not
# wait long; our module must exit cleanly (checked by test_lifecycle.py).
STOP_GRACE = 1.0 if is_mod_wsgi() else 5.0

# embedded (default) or daemon: see the module docstring.
TEST_MODE = os.environ.get("MOD_WSGI_TEST_MODE", "embedded").strip().lower() or "embedded"
if TEST_MODE not in ("embedded", "daemon"):
    raise RuntimeError("MOD_WSGI_TEST_MODE must be 'embedded' or 'daemon', not %r"
                       % TEST_MODE)
DAEMON_MODE = TEST_MODE == "daemon"

# What MOD_WSGI_TEST_MODE=daemon adds before the test body.
DAEMON_GROUP = "testgroup"
DAEMON_PROCESSES = 2
DAEMON_THREADS = 5
DAEMON_DIRECTIVES = (
    "WSGISocketPrefix @SOCKETS@/wsgi\n"
    "WSGIDaemonProcess %s processes=%d threads=%d\n"
    "WSGIProcessGroup %s\n" % (DAEMON_GROUP, DAEMON_PROCESSES, DAEMON_THREADS,
                               DAEMON_GROUP))

_DEFINES_DAEMON = re.compile(r"^\s*WSGIDaemonProcess\b", re.M | re.I)
_SETS_PYTHON_HOME = re.compile(r"^\s*WSGIPythonHome\b", re.M | re.I)


def defines_daemon_groups(body):
    return bool(_DEFINES_DAEMON.search(body or ""))


SESSION_ROOT = None
_SOCKET_DIRS = [0]
_STARTED = []  # every Apache we ever started in this process


class ApacheError(RuntimeError):
    pass


def module_missing_message(path=None):
    hint = (_MISSING_HINT if path in (None, MOD_WSGI_SO)
            else module_under_test.resolve("")[4])
    return "WSGI module not found at %s. %s" % (path or MOD_WSGI_SO, hint)


def check_module_exists(path=None):
    if not os.path.isfile(path or MOD_WSGI_SO):
        raise ApacheError(module_missing_message(path))


def session_root():
    global SESSION_ROOT
    if SESSION_ROOT is None:
        SESSION_ROOT = tempfile.mkdtemp(prefix="modwsgi-tests-")
        os.chmod(SESSION_ROOT, 0o755)
    return SESSION_ROOT


def _become_subreaper():
    """Orphaned Apache processes (the daemonized parent, or children whose
    parent was killed) get re-parented to us instead of to PID 1, so we can
    reap them and no <defunct> apache2 is left behind."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except Exception:
        pass


_become_subreaper()


def reap_apache_zombies():
    """waitpid() each zombie child of ours by pid (never -1: that could steal
    the status of a subprocess.run in progress). Being a subreaper, our
    zombie children are Apache processes (parents, MPM children, daemons
    that may have renamed themselves)."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        try:
            with open("/proc/%d/stat" % pid) as f:
                data = f.read()
        except OSError:
            continue
        fields = data.rsplit(")", 1)[1].split()
        if fields[0] == "Z" and int(fields[1]) == me:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _proc_cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None


def _proc_state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
        return data.rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _proc_euid(pid):
    """The effective uid of ``pid`` (None once it is gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    return int(line.split()[2])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return None


def pid_alive(pid):
    state = _proc_state(pid)
    return state is not None and state not in ("Z", "X")


def processes_mentioning(text):
    """Live pids (not zombies) whose command line contains ``text``."""
    found = []
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == me:
            continue
        cmd = _proc_cmdline(pid)
        if cmd and text in cmd and pid_alive(pid):
            found.append((pid, cmd))
    return found


def _ppid_map():
    m = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                data = f.read()
            m[int(name)] = int(data.rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return m


def connections_closing(port):
    """How many of the server's TCP connections on ``port`` it still holds
    open while they close: a socket on the local port that is neither
    listening nor established and still belongs to a process (a closed,
    orphaned or TIME_WAIT socket has inode 0 in /proc/net/tcp)."""
    count = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            state, inode = fields[3], fields[9]
            if local_port == port and state not in ("0A", "01") and inode != "0":
                count += 1
    return count


def descendants(pid):
    """Live descendants of ``pid`` (children, grandchildren...)."""
    m = _ppid_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for child, parent in m.items():
            if parent == p and pid_alive(child):
                out.append(child)
                todo.append(child)
    return out


def _is_apache(pid):
    """Whether ``pid`` runs APACHE_BIN. Another user's /proc/<pid>/exe is
    readable only with CAP_SYS_PTRACE (left out of Docker's default
    capabilities): without it, a process of another user re-parented to us
    counts as Apache's (the tests start no other processes as another user
    that outlive their parent: run_python_as waits for its child)."""
    try:
        return os.path.realpath("/proc/%d/exe" % pid, strict=True) == \
            os.path.realpath(APACHE_BIN)
    except PermissionError:
        # (not the owner of /proc/<pid>: root's for a non-dumpable process)
        return _proc_euid(pid) not in (None, os.geteuid())
    except OSError:
        return False  # gone


def orphaned_apaches():
    """Live apache2 processes re-parented to us (we are a subreaper), e.g.
    daemon processes that renamed themselves and outlived their parent."""
    me = os.getpid()
    return [p for p, parent in _ppid_map().items()
            if parent == me and pid_alive(p) and _is_apache(p)]


def listening_socket_inodes(port):
    """Inodes of the TCP sockets listening on ``port`` (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if (len(fields) > 9 and fields[3] == "0A"
                    and int(fields[1].rsplit(":", 1)[1], 16) == port):
                inodes.add(fields[9])
    return inodes


def holds_socket(pid, inodes):
    """Whether process ``pid`` has one of the socket ``inodes`` open."""
    fd_dir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fd_dir)
    except OSError:
        return False
    for fd in fds:
        try:
            link = os.readlink(os.path.join(fd_dir, fd))
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            return True
    return False


def kill_everything_under(text, timeout=5.0):
    """Last resort: SIGTERM then SIGKILL every process mentioning ``text``."""
    procs = processes_mentioning(text)
    for pid, _ in procs:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and processes_mentioning(text):
        time.sleep(0.05)
    for pid, _ in processes_mentioning(text):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return procs


def _children_of(pid, ppids=None):
    m = _ppid_map() if ppids is None else ppids
    return [c for c, p in m.items() if p == pid and pid_alive(c)]


def apache_env():
    """Environment for apache2: no PYTHON* variables (they would change the
    embedded interpreter's flags), a predictable locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["LANG"] = "C.UTF-8"
    env.pop("LC_ALL", None)
    return env


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        import json
        return json.loads(self.body.decode("utf-8"))

    def header(self, name, default=None):
        return self.headers.get(name, default)

    def __repr__(self):
        return "<Response %s %r %r>" % (self.status, self.reason, self.body[:200])


def parse_raw_response(data):
    """Split raw bytes into (status_line, headers dict lower-cased, body)."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        raise AssertionError("no end of headers in %r" % data[:500])
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers.setdefault(k.strip().lower().decode("latin-1"), []).append(
            v.strip().decode("latin-1"))
    return lines[0].decode("latin-1"), headers, body


def dechunk(body, strict=True):
    """Decode a chunked body. With strict=False a truncated body (a response
    aborted mid-stream) gives what was received instead of raising."""
    out = b""
    while True:
        size_line, sep, rest = body.partition(b"\r\n")
        if not sep:
            if strict:
                raise AssertionError("truncated chunked body")
            return out
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return out
        out += rest[:size]
        body = rest[size + 2:]


class Apache:
    def __init__(self, body="", mpm="event", name="srv", extra_modules=(),
                 so=None):
        check_module_exists(so)
        if mpm not in MPMS:
            raise ValueError("unknown MPM %r" % mpm)
        self.mpm = mpm
        self.body = body
        self.so = so or MOD_WSGI_SO
        self.impl = IMPL
        self.extra_modules = tuple(extra_modules)
        # Daemon mode of the test run: only for bodies that do not set up
        # daemon groups themselves.
        self.daemon_mode = DAEMON_MODE and not defines_daemon_groups(body)
        # mod_wsgi.process_group seen by apps served from the default place
        self.process_group = DAEMON_GROUP if self.daemon_mode else ""
        self.root = tempfile.mkdtemp(prefix=name + "-", dir=session_root())
        os.chmod(self.root, 0o755)
        self.apps = os.path.join(self.root, "apps")
        self.state = os.path.join(self.root, "state")
        self.htdocs = os.path.join(self.root, "htdocs")
        self.rundir = os.path.join(self.root, "run")
        _SOCKET_DIRS[0] += 1
        self.sockdir = os.path.join(session_root(), "s%d" % _SOCKET_DIRS[0])
        self.conf_path = os.path.join(self.root, "httpd.conf")
        self.pidfile = os.path.join(self.root, "httpd.pid")
        self.errlog = os.path.join(self.root, "error.log")
        self.accesslog = os.path.join(self.root, "access.log")
        self.port = None
        self.pid = None
        self.started = False
        self._configtests = 0
        self._copy_apps()
        for d, mode in ((self.state, 0o1777), (self.htdocs, 0o755),
                        (self.rundir, 0o755), (self.sockdir, 0o755)):
            os.makedirs(d, exist_ok=True)
            os.chmod(d, mode)
        with open(os.path.join(self.htdocs, "index.html"), "w") as f:
            f.write("static index\n")
        os.chmod(os.path.join(self.htdocs, "index.html"), 0o644)

    # ------------------------------------------------------------------ setup
    def _copy_apps(self):
        shutil.copytree(APPS_SRC, self.apps,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for dirpath, dirnames, filenames in os.walk(self.apps):
            os.chmod(dirpath, 0o755)
            for fn in filenames:
                os.chmod(os.path.join(dirpath, fn), 0o644)

    def substitute(self, text):
        return (text.replace("@PROCESS_GROUP@",
                             DAEMON_GROUP if self.daemon_mode else "%{GLOBAL}")
                .replace("@SOCKETS@", self.sockdir)
                .replace("@APPS@", self.apps)
                .replace("@STATE@", self.state)
                .replace("@ROOT@", self.root)
                .replace("@PORT@", str(self.port)))

    def config_text(self, body=None, port=None):
        body = self.body if body is None else body
        port = self.port if port is None else port
        run_as_root = os.geteuid() == 0
        lines = [
            "# generated by tests/harness/apache.py",
            'ServerRoot "%s"' % self.root,
            "PidFile %s" % self.pidfile,
            "ErrorLog %s" % self.errlog,
            "LogLevel info wsgi:debug",
            "Listen 127.0.0.1:%d" % port,
            "ServerName 127.0.0.1",
            "Mutex file:%s default" % self.rundir,
            "DefaultRuntimeDir %s" % self.rundir,
            "TypesConfig /etc/mime.types",
            "Timeout 10",
            "KeepAlive On",
            "KeepAliveTimeout 5",
            "MaxKeepAliveRequests 100",
            "LoadModule mpm_%s_module %s/mod_mpm_%s.so"
            % (self.mpm, MODULES_DIR, self.mpm),
        ]
        if run_as_root:
            lines += ["User www-data", "Group www-data"]
        for m in BASE_MODULES + self.extra_modules:
            lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODULES_DIR, m))
        lines += self.module_lines(body)
        if self.mpm == "prefork":
            lines += [
                "StartServers 4", "MinSpareServers 2", "MaxSpareServers 6",
                "ServerLimit 8", "MaxRequestWorkers 8",
                "MaxConnectionsPerChild 0",
            ]
        else:
            # One active child with 25 threads (state lives in one process),
            # one spare scoreboard slot for graceful restarts.
            lines += [
                "StartServers 1", "ServerLimit 2", "ThreadLimit 25",
                "ThreadsPerChild 25", "MaxRequestWorkers 25",
                "MinSpareThreads 1", "MaxSpareThreads 25",
                "MaxConnectionsPerChild 0",
            ]
        lines += [
            'LogFormat "%h %{remote}p \\"%r\\" %>s %b %D" plain',
            "CustomLog %s plain" % self.accesslog,
            'DocumentRoot "%s"' % self.htdocs,
            "<Directory />",
            "    Options None",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            '<Directory "%s">' % self.htdocs,
            "    Require all granted",
            "</Directory>",
            '<Directory "%s">' % self.apps,
            "    Require all granted",
            "</Directory>",
            "SetEnv STATE_DIR %s" % self.state,
        ]
        if DAEMON_MODE and not defines_daemon_groups(body):
            lines += ["# ---- MOD_WSGI_TEST_MODE=daemon ----",
                      self.substitute(DAEMON_DIRECTIVES).rstrip("\n")]
        lines.append("# ---- test body ----")
        return "\n".join(lines) + "\n" + self.substitute(body) + "\n"

    def module_lines(self, body):
        if not MODULE_CONFIG or self.so != MOD_WSGI_SO:
            lines = ["LoadModule wsgi_module %s" % self.so]
            # A pip-installed mod_wsgi (6.1.1 from scripts/reference-mod_wsgi)
            # runs with its venv as Python home, as `mod_wsgi-express
            # module-config` says; a body that sets its own (e2e/) wins.
            if (PYTHON_HOME and self.so == MOD_WSGI_SO
                    and not _SETS_PYTHON_HOME.search(body or "")):
                lines.append('WSGIPythonHome "%s"' % PYTHON_HOME)
            return lines
        with open(MODULE_CONFIG) as f:
            lines = [l.rstrip("\n") for l in f if l.strip()]
        if _SETS_PYTHON_HOME.search(body or ""):
            lines = [l for l in lines if not l.startswith("WSGIPythonHome")]
        return lines

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())
        os.chmod(self.conf_path, 0o644)

    # ------------------------------------------------------------ lifecycle
    def start(self):
        last_err = None
        for _attempt in range(3):
            self.port = free_port()
            self.write_config()
            try:
                self._start_once()
                return self
            except ApacheError as e:
                last_err = e
                self._force_cleanup()
                if "Address already in use" not in str(e):
                    raise
        raise last_err

    def _start_once(self):
        proc = subprocess.run(
            [APACHE_BIN, "-f", self.conf_path, "-k", "start"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=apache_env(), timeout=START_TIMEOUT)
        self.started = True
        _STARTED.append(self)
        start_out = proc.stdout.decode("utf-8", "replace")
        if proc.returncode != 0:
            self._fail_start("apache2 -k start exited with %d" % proc.returncode,
                             start_out)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            pid = self._read_pidfile()
            if pid and pid_alive(pid):
                self.pid = pid
                if self._port_accepts():
                    return
            if "AH00020: Configuration Failed" in self.error_log():
                # post_config failed after apache2 detached (exit status 0)
                self._fail_start("apache exited at start-up: configuration "
                                 "failed", start_out)
            time.sleep(0.02)
        self._fail_start("apache did not come up within %.0fs" % START_TIMEOUT,
                         start_out)

    def _fail_start(self, why, start_out):
        t = subprocess.run([APACHE_BIN, "-t", "-f", self.conf_path],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=apache_env(), timeout=30)
        raise ApacheError(
            "%s\n--- apache2 -k start output ---\n%s\n--- error log tail ---\n%s"
            "\n--- apache2 -t output ---\n%s" % (
                why, start_out, self.error_log_tail(),
                t.stdout.decode("utf-8", "replace")))

    def _read_pidfile(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return None

    def _port_accepts(self):
        try:
            s = socket.create_connection(("127.0.0.1", self.port), timeout=0.5)
        except OSError:
            return False
        s.close()
        return True

    def _remaining(self, family):
        """Live processes of this server: those whose command line mentions
        our directory, plus the descendants of the parent recorded at stop
        time (daemon processes may rename themselves)."""
        found = dict(processes_mentioning(self.root))
        for p in family:
            if p not in found and pid_alive(p):
                found[p] = _proc_cmdline(p)
        return sorted(found.items())

    def stop(self):
        """SIGTERM the parent and wait; children still there after STOP_GRACE
        are SIGKILLed (recorded in ``self.unclean_shutdown``); the parent is
        SIGKILLed after STOP_TIMEOUT. Then assert that nothing of this server
        is left, and reap the zombies. Idempotent."""
        if not self.started:
            return
        self.started = False
        self.unclean_shutdown = []
        t0 = time.monotonic()
        pid = self._read_pidfile() or self.pid
        family = descendants(pid) if pid and pid_alive(pid) else []
        try:
            if pid and pid_alive(pid):
                # Apache's event MPM can crash at an immediate stop while a
                # worker thread finishes closing a connection (the main
                # thread closes the worker's socket as its pool is freed:
                # SIGSEGV in close_worker_sockets, seen 4 and 8 times in two
                # runs of 500 stops of Apache serving a static file, without
                # any WSGI module; none in 500 with this wait).
                # Let the connections the test's clients closed finish
                # closing first; a connection kept open does not hold this up.
                settle = time.monotonic() + 2.0
                while (self.port and time.monotonic() < settle
                       and connections_closing(self.port)):
                    time.sleep(0.005)
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                while time.monotonic() < t0 + STOP_GRACE and self._remaining(family):
                    time.sleep(0.02)
                stuck = [(p, c) for p, c in self._remaining(family) if p != pid]
                if stuck:
                    self.unclean_shutdown = stuck
                    for p, _ in stuck:
                        try:
                            os.kill(p, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                while time.monotonic() < t0 + STOP_TIMEOUT and pid_alive(pid):
                    time.sleep(0.02)
                if pid_alive(pid):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline and self._remaining(family):
                time.sleep(0.02)
            leftovers = self._remaining(family)
            if leftovers:
                kill_everything_under(self.root)
                for p, _ in leftovers:
                    try:
                        os.kill(p, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                raise AssertionError(
                    "processes left after stopping Apache in %s: %r"
                    % (self.root, leftovers))
        finally:
            self.stop_seconds = time.monotonic() - t0
            reap_apache_zombies()

    def _force_cleanup(self):
        self.started = False
        kill_everything_under(self.root)
        time.sleep(0.05)
        reap_apache_zombies()

    def graceful(self, timeout=START_TIMEOUT):
        """apache2 -k graceful, then wait for the new generation."""
        before = self.error_log().count("resuming normal operations")
        proc = subprocess.run(
            [APACHE_BIN, "-f", self.conf_path, "-k", "graceful"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=apache_env(), timeout=timeout)
        if proc.returncode != 0:
            raise ApacheError("graceful failed: %s" % proc.stdout.decode())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (self.error_log().count("resuming normal operations") > before
                    and self._port_accepts()):
                return
            time.sleep(0.02)
        raise ApacheError("graceful restart did not complete:\n"
                          + self.error_log_tail())

    def configtest(self, body):
        """Run ``apache2 -t`` on the base config plus ``body`` (written to a
        separate file, see ``last_configtest_path``). Returns (rc, output)."""
        self._configtests += 1
        path = os.path.join(self.root, "configtest-%d.conf" % self._configtests)
        port = self.port or free_port()
        if self.port is None:
            self.port = port
        with open(path, "w") as f:
            f.write(self.config_text(body=body, port=port))
        os.chmod(path, 0o644)
        self.last_configtest_path = path
        proc = subprocess.run([APACHE_BIN, "-t", "-f", path],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=apache_env(), timeout=30)
        return proc.returncode, proc.stdout.decode("utf-8", "replace")

    # --------------------------------------------------------------- logs
    def error_log(self):
        try:
            with open(self.errlog, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def error_log_tail(self, n=60):
        return "\n".join(self.error_log().splitlines()[-n:])

    def log_mark(self):
        """Current size of the error log; pass as ``since`` to search only
        what was logged afterwards."""
        try:
            return os.path.getsize(self.errlog)
        except FileNotFoundError:
            return 0

    def log_since(self, mark):
        try:
            with open(self.errlog, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, pattern, timeout=5.0, since=0, flags=re.M):
        """Poll the error log until ``pattern`` matches (text logged after
        byte offset ``since``). Returns the match; raises AssertionError."""
        rx = re.compile(pattern, flags)
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_since(since)
            m = rx.search(text)
            if m:
                return m
            if time.monotonic() > deadline:
                raise AssertionError(
                    "pattern %r not found in error log within %.1fs; new log "
                    "text:\n%s" % (pattern, timeout, text[-4000:]))
            time.sleep(0.02)

    # ------------------------------------------------------- processes
    def mpm_children(self):
        """Live MPM children (apache2 processes forked by the parent that
        run Apache's own command line)."""
        if not self.pid:
            return []
        listeners = self._listener_inodes()
        return [p for p in _children_of(self.pid)
                if self._is_mpm_child(p, _proc_cmdline(p) or "", listeners)]

    def daemon_processes(self):
        """Live daemon processes of this server: descendants of the Apache
        parent that are not MPM children (daemons rename themselves, e.g.
        "(wsgi:NAME)"), with their command lines."""
        if not self.pid:
            return {}
        listeners = self._listener_inodes()
        m = _ppid_map()
        out, todo = {}, [self.pid]
        while todo:
            p = todo.pop()
            for child, parent in m.items():
                if parent != p or not pid_alive(child):
                    continue
                cmd = _proc_cmdline(child) or ""
                if p == self.pid and self._is_mpm_child(child, cmd, listeners):
                    continue  # an MPM child and everything under it
                out[child] = cmd
                todo.append(child)
        return out

    def _listener_inodes(self):
        """Socket inodes listening on our port (for mod_wsgi only, see
        _is_mpm_child)."""
        if not is_mod_wsgi() or not self.port:
            return set()
        return listening_socket_inodes(self.port)

    @staticmethod
    def _is_mpm_child(pid, cmd, listeners):
        if not cmd.startswith(APACHE_BIN):
            return False
        if not listeners:
            return True
        # mod_wsgi's daemon processes keep Apache's command line unless
        # display-name= is set, but close Apache's listening sockets
        # (ap_close_listeners()); MPM children keep them.
        return holds_socket(pid, listeners)

    def settled_daemon_processes(self, minimum=1, quiet=0.3, timeout=10.0):
        """Polls daemon_processes() until at least ``minimum`` exist and the
        set of pids has not changed for ``quiet`` seconds; returns it."""
        deadline = time.monotonic() + timeout
        last, since = None, time.monotonic()
        while True:
            now = set(self.daemon_processes())
            if now != last:
                last, since = now, time.monotonic()
            elif len(now) >= minimum and time.monotonic() - since >= quiet:
                return now
            if time.monotonic() > deadline:
                raise AssertionError("daemon processes did not settle within "
                                     "%.0fs: %r" % (timeout, self.daemon_processes()))
            time.sleep(0.02)

    # ------------------------------------------------------------- client
    def connection(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=10):
        conn = self.connection(timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.reason, r.headers, data)
        finally:
            conn.close()

    def get(self, path, headers=None, timeout=10):
        return self.request("GET", path, headers=headers, timeout=timeout)

    def post(self, path, body, headers=None, timeout=10):
        return self.request("POST", path, body=body, headers=headers,
                            timeout=timeout)

    def open_socket(self, timeout=10):
        return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)

    def raw(self, data, timeout=10, shutdown_write=False):
        """Send raw bytes, return every byte received until the server closes
        the connection (or ``timeout`` seconds of silence, then raises)."""
        s = self.open_socket(timeout=timeout)
        try:
            s.sendall(data)
            if shutdown_write:
                s.shutdown(socket.SHUT_WR)
            return recv_until_close(s)
        finally:
            s.close()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


def recv_until_close(sock):
    chunks = []
    while True:
        try:
            b = sock.recv(65536)
        except socket.timeout:
            raise AssertionError("timed out waiting for the server to close; got %r"
                                 % b"".join(chunks)[:2000])
        except ConnectionResetError:
            break
        if not b:
            break
        chunks.append(b)
    return b"".join(chunks)


def recv_until(sock, marker, timeout=10):
    """Receive until ``marker`` has been seen; returns all bytes so far."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while marker not in data:
        if time.monotonic() > deadline:
            raise AssertionError("did not receive %r; got %r" % (marker, data[:2000]))
        try:
            b = sock.recv(65536)
        except socket.timeout:
            raise AssertionError("timed out waiting for %r; got %r"
                                 % (marker, data[:2000]))
        if not b:
            raise AssertionError("connection closed before %r; got %r"
                                 % (marker, data[:2000]))
        data += b
    return data


def wait_for(predicate, timeout=5.0, interval=0.02, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s"
                                 % (timeout, what))
        time.sleep(interval)


def start_server(request, body, mpm="event", name=None, **kw):
    """Start an Apache for a pytest ``request`` (fixture context). Its stop
    is registered as a finalizer *before* start() so that a failed start
    still cleans up."""
    if name is None:
        name = request.node.name[:40]
        for ch in "/[]":
            name = name.replace(ch, "_")
    srv = Apache(body=body, mpm=mpm, name=name, **kw)
    request.addfinalizer(srv.stop)
    srv.start()
    return srv


def stop_all():
    """Session-end safety net: stop every Apache this process started and
    kill anything still running from the session root."""
    errors = []
    for a in list(_STARTED):
        try:
            a.stop()
        except Exception as e:  # keep going, report at the end
            errors.append(e)
    if SESSION_ROOT:
        kill_everything_under(SESSION_ROOT)
    for p in orphaned_apaches():
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    time.sleep(0.05)
    reap_apache_zombies()
    return errors


atexit.register(stop_all)
