#!/usr/bin/python3
"""Benchmark mod_wsgi_rs against Debian's mod_wsgi, side by side.

Run through ``bench/run`` (which installs what is missing, builds the module
and prepares the Flask virtualenv); ``bench/run --help`` lists the options.

For every scenario and mode, one Apache with our module and one with
mod_wsgi are started (each with its own port and temporary ServerRoot, the
same Debian apache2, event MPM and MPM settings, the same apps), checked for
correct answers, warmed up, then loaded by ``wrk`` in alternating rounds
(ours, mod_wsgi, static, ours, mod_wsgi, static, ...) so that machine noise
hits all of them alike; the medians are reported. A third Apache without any
WSGI module serves a static file of the same size as each response (the
upper bound). Every server is fresh for each scenario, so the peak RSS
(VmHWM) of its processes belongs to that scenario.

Then the memory checks: the idle RSS of every process (daemon processes in
particular), and the per-process RSS growth during a 1 GiB upload and a
1 GiB download.

Writes results.md, results.json and results.png (ratios) to the output
directory (bench/ by default).
"""

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
APPS_SRC = os.path.join(BENCH, "apps")
UPLOAD_LUA = os.path.join(BENCH, "upload.lua")

APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
IMPLS = {
    "rs": os.path.join(REPO, "target", "release", "libmod_wsgi_rs.so"),
    "mod_wsgi": os.path.join(MODDIR, "mod_wsgi.so"),
}
IMPL_LABEL = {"rs": "mod_wsgi_rs", "mod_wsgi": "mod_wsgi", "static": "static"}

MIB = 1024 * 1024
GIB = 1024 * MIB
HELLO = b"Hello world, WSGI\n"
FLASK_PATH = "/flask/hello/bench?lang=en"

# The MPM settings shared by every server (event MPM): two children of 25
# threads, no process churn, enough async slots for 256 keep-alive clients.
MPM_SETTINGS = [
    "StartServers 2",
    "ServerLimit 2",
    "ThreadLimit 25",
    "ThreadsPerChild 25",
    "MaxRequestWorkers 50",
    "MinSpareThreads 25",
    "MaxSpareThreads 75",
    "AsyncRequestWorkerFactor 8",
    "MaxConnectionsPerChild 0",
    "KeepAlive On",
    "KeepAliveTimeout 15",
    "MaxKeepAliveRequests 0",
    "Timeout 60",
]
DAEMON_PROCESSES = 2
DAEMON_THREADS = 15


class Scenario:
    def __init__(self, key, label, path, static, conns, lua=None):
        self.key = key
        self.label = label
        self.path = path          # URL on the WSGI servers
        self.static = static      # URL on the static server, or None
        self.conns = conns
        self.lua = lua


SCENARIOS = [
    Scenario("hello", "hello world (18 B)", "/hello", "/hello.txt", 16),
    Scenario("64k", "64 KiB response", "/r64k", "/64k.bin", 16),
    Scenario("stream10m", "10 MiB streamed", "/stream", "/10m.bin", 4),
    Scenario("file3m", "3 MiB file_wrapper", "/file", "/3m.bin", 8),
    Scenario("upload1m", "1 MiB upload, hashed", "/upload", None, 8, UPLOAD_LUA),
    Scenario("flask", "Flask app", FLASK_PATH, "/flask.json", 16),
    Scenario("hello_c256", "hello, 256 keep-alive clients", "/hello",
             "/hello.txt", 256),
    # mod_wsgi_rs always counts requests for its wsgi-metrics handler; this
    # is hello on a server that also has the handler configured.
    Scenario("hello_metrics", "hello, wsgi-metrics configured", "/hello_metrics",
             "/hello.txt", 16),
]
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}

# Targets of issue 6 (this module / mod_wsgi, unless said otherwise).
TARGETS = {
    ("hello", "embedded"): 1.15,
    ("hello", "daemon"): 1.5,
    ("file3m", "embedded"): 1.0,
    ("file3m", "daemon"): 2.0,
    ("upload1m", "daemon"): 1.2,
    ("stream10m", "daemon"): 1.2,
}
STATIC_TARGET = {("hello", "embedded"): 0.8}
MEMORY_LIMIT = 16 * MIB

_live_servers = []
_notes = []


# With --pin (the default on 2+ CPUs) wrk runs on CPU 0 and every Apache
# (children, daemons) on the others, so the load generator never takes the
# server's CPU time and the server's cost per request decides its rate.
SERVER_CPUS = []
LOAD_CPUS = []


def pin_cpus(on):
    n = os.cpu_count() or 1
    if not on or n < 2 or not shutil.which("taskset"):
        return None
    server = "1" if n == 2 else "1-%d" % (n - 1)
    SERVER_CPUS[:] = ["taskset", "-c", server]
    LOAD_CPUS[:] = ["taskset", "-c", "0"]
    return "wrk on CPU 0, every Apache process on CPU %s (taskset)" % server


def note(msg):
    _notes.append(msg)
    log("NOTE: " + msg)


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


# --------------------------------------------------------------- processes
def read_status(pid):
    """{'VmRSS': bytes, 'VmHWM': bytes} of a live process, or None."""
    try:
        with open("/proc/%d/status" % pid) as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(":")
        if k in ("VmRSS", "VmHWM"):
            out[k] = int(v.split()[0]) * 1024
        elif k == "State" and v.split()[0] in ("Z", "X"):
            return None
    return out if "VmRSS" in out else None


def read_pss(pid):
    """Proportional set size (shared pages divided among their users)."""
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def read_uss(pid):
    """Unique set size: the pages only this process has (what its exit
    would free)."""
    try:
        total = 0
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith(("Private_Clean:", "Private_Dirty:")):
                    total += int(line.split()[1]) * 1024
        return total
    except OSError:
        return None


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def ppid_map():
    m = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    data = f.read()
                fields = data.rsplit(")", 1)[1].split()
                if fields[0] not in ("Z", "X"):
                    m[int(name)] = int(fields[1])
            except (OSError, IndexError, ValueError):
                pass
    return m


def descendants(pid):
    m = ppid_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        for child, parent in m.items():
            if parent == p:
                out.append(child)
                todo.append(child)
    return out


def is_apache(pid):
    try:
        return os.path.realpath("/proc/%d/exe" % pid) == os.path.realpath(APACHE)
    except OSError:
        return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def apache_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["LANG"] = "C.UTF-8"
    env.pop("LC_ALL", None)
    return env


# ------------------------------------------------------------------ server
class Server:
    """One Apache (event MPM) in its own temporary ServerRoot and port."""

    def __init__(self, impl, mode, venv, top, data):
        self.impl = impl          # "rs", "mod_wsgi" or "static"
        self.mode = mode          # "embedded", "daemon" or None (static)
        self.venv = venv
        self.root = tempfile.mkdtemp(prefix="%s-%s-" % (impl, mode or "files"),
                                     dir=top)
        os.chmod(self.root, 0o755)
        self.pidfile = os.path.join(self.root, "httpd.pid")
        self.errlog = os.path.join(self.root, "error.log")
        self.conf = os.path.join(self.root, "httpd.conf")
        self.htdocs = os.path.join(self.root, "htdocs")
        self.apps = os.path.join(self.root, "apps")
        self.run = os.path.join(self.root, "run")
        self.port = None
        self.proc = None
        self.pid = None
        self.seen = set()         # every pid of this server we have seen
        os.makedirs(self.htdocs)
        os.makedirs(self.run)
        if impl == "static":
            for name, blob in data.items():
                self._write(os.path.join(self.htdocs, name), blob)
        else:
            shutil.copytree(APPS_SRC, self.apps,
                            ignore=shutil.ignore_patterns("__pycache__"))
            self._write(os.path.join(self.apps, "data", "3m.bin"), data["3m.bin"])
        for d, _, files in os.walk(self.root):
            os.chmod(d, 0o755)
            for fn in files:
                os.chmod(os.path.join(d, fn), 0o644)

    @staticmethod
    def _write(path, blob):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(blob)

    @property
    def name(self):
        return "%s/%s" % (IMPL_LABEL[self.impl], self.mode or "static")

    def config(self):
        lines = [
            'ServerRoot "%s"' % self.root,
            "PidFile %s" % self.pidfile,
            "ErrorLog %s" % self.errlog,
            "LogLevel warn",
            "Listen 127.0.0.1:%d" % self.port,
            "ServerName 127.0.0.1",
            "Mutex file:%s default" % self.run,
            "DefaultRuntimeDir %s" % self.run,
            "TypesConfig /etc/mime.types",
            "LoadModule mpm_event_module %s/mod_mpm_event.so" % MODDIR,
        ]
        if os.geteuid() == 0:
            lines += ["User www-data", "Group www-data"]
        for m in ("authz_core", "mime", "alias"):
            lines.append("LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m))
        lines += MPM_SETTINGS
        lines += [
            'DocumentRoot "%s"' % self.htdocs,
            "<Directory />",
            "    Options None",
            "    AllowOverride None",
            "    Require all denied",
            "</Directory>",
            '<Directory "%s">' % self.htdocs,
            "    Require all granted",
            "</Directory>",
        ]
        if self.impl == "static":
            return "\n".join(lines) + "\n"
        lines += [
            "LoadModule wsgi_module %s" % IMPLS[self.impl],
            "WSGISocketPrefix %s/wsgi" % self.run,
            '<Directory "%s">' % self.apps,
            "    Require all granted",
            "</Directory>",
        ]
        if self.mode == "embedded":
            lines += ["WSGIPythonHome %s" % self.venv]
        else:
            lines += [
                "WSGIRestrictEmbedded On",
                "WSGIDaemonProcess bench processes=%d threads=%d "
                "display-name=%%{GROUP} python-home=%s"
                % (DAEMON_PROCESSES, DAEMON_THREADS, self.venv),
                "WSGIProcessGroup bench",
            ]
        lines.append("WSGIApplicationGroup %{GLOBAL}")
        for url, script in (("/hello", "hello.wsgi"), ("/r64k", "r64k.wsgi"),
                            ("/stream", "stream.wsgi"), ("/file", "file.wsgi"),
                            ("/upload", "upload.wsgi"),
                            ("/flask", "flask_app.wsgi")):
            lines.append("WSGIScriptAlias %s %s/%s" % (url, self.apps, script))
        lines.append("WSGIScriptAlias /hello_metrics %s/hello.wsgi" % self.apps)
        if self.impl == "rs":
            lines += ["<Location /server-metrics>", "    SetHandler wsgi-metrics",
                      "</Location>"]
        return "\n".join(lines) + "\n"

    def start(self, timeout=20.0):
        self.port = free_port()
        with open(self.conf, "w") as f:
            f.write(self.config())
        os.chmod(self.conf, 0o644)
        errfile = open(os.path.join(self.root, "stderr.log"), "wb")
        self.proc = subprocess.Popen(
            SERVER_CPUS + [APACHE, "-f", self.conf, "-D", "FOREGROUND"],
            stdout=errfile, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=apache_env(), start_new_session=True)
        errfile.close()
        _live_servers.append(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s: apache2 exited with %s:\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            pid = self._pidfile()
            if pid:
                self.pid = pid
                try:
                    socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                    self.processes()
                    return self
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("%s did not come up within %.0f s:\n%s" % (
            self.name, timeout, self.log_tail()))

    def _pidfile(self):
        try:
            with open(self.pidfile) as f:
                return int(f.read().strip() or 0) or None
        except (OSError, ValueError):
            return None

    def log_tail(self, n=30):
        out = []
        for p in (os.path.join(self.root, "stderr.log"), self.errlog):
            try:
                with open(p, errors="replace") as f:
                    out += f.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)

    def processes(self):
        """[(pid, kind, cmdline)] of the server's processes below the parent;
        kind is "daemon" for processes titled (wsgi:...), else "child"."""
        if not self.pid:
            return []
        out = []
        for pid in descendants(self.pid):
            cmd = cmdline(pid)
            self.seen.add(pid)
            out.append((pid, "daemon" if cmd.startswith("(wsgi:") else "child", cmd))
        return out

    def memory(self):
        """{pid: (kind, cmdline, VmRSS, VmHWM)} now."""
        out = {}
        for pid, kind, cmd in self.processes():
            st = read_status(pid)
            if st:
                out[pid] = (kind, cmd, st["VmRSS"], st.get("VmHWM", 0))
        return out

    def stop(self, grace=10.0):
        """SIGTERM the pid in the pidfile; what is left after ``grace``
        seconds is SIGKILLed (and noted)."""
        if self in _live_servers:
            _live_servers.remove(self)
        if self.proc is None:
            return
        pid = self._pidfile() or self.proc.pid
        if pid:
            self.pid = pid
            self.processes()
        family = set(self.seen)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        t0 = time.monotonic()

        def alive():
            m = ppid_map()
            return [p for p in family | {pid} if p in m and is_apache(p)]

        while alive() and time.monotonic() - t0 < grace:
            time.sleep(0.05)
        left = alive()
        if left:
            note("%s: %d process(es) still running %.0f s after SIGTERM; "
                 "SIGKILLed: %s" % (self.name, len(left), grace,
                                     ", ".join("%d %s" % (p, cmdline(p)) for p in left)))
            for p in left:
                try:
                    os.kill(p, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stop_seconds = time.monotonic() - t0
        self.proc = None

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


def stop_all():
    for s in list(_live_servers):
        try:
            s.stop(grace=5.0)
        except Exception as e:  # keep stopping the others
            log("error stopping %s: %s" % (s.name, e))


# ------------------------------------------------------------------ client
def http_request(port, method, path, body=None, timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/octet-stream"
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def check_server(srv, scenarios, expected):
    """Checks each scenario's answer; returns {key: error or None}."""
    out = {}
    for sc in scenarios:
        try:
            if sc.key == "upload1m":
                status, body = http_request(srv.port, "POST", sc.path,
                                            b"a" * MIB)
            else:
                status, body = http_request(srv.port, "GET", sc.path)
            if status != 200:
                out[sc.key] = "status %d: %r" % (status, body[:200])
            elif sc.key in expected and body != expected[sc.key]:
                out[sc.key] = "unexpected body (%d bytes): %r" % (len(body),
                                                                    body[:100])
            else:
                out[sc.key] = None
        except Exception as e:
            out[sc.key] = "%s: %s" % (type(e).__name__, e)
    return out


def parse_duration_ms(s):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", s)
    if not m:
        return None
    v = float(m.group(1))
    return v * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[m.group(2)]


def run_wrk(url, conns, duration, lua=None):
    threads = 1 if conns < 64 else 2
    cmd = LOAD_CPUS + ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % duration,
           "--latency", "--timeout", "10s"]
    if lua:
        cmd += ["-s", lua]
    cmd.append(url)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=duration + 60)
    out = p.stdout.decode("utf-8", "replace")
    res = {"rps": None, "p50": None, "p99": None, "errors": 0, "non2xx": 0,
           "requests": 0, "read_errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s%%\s+(\S+)" % pct, out, re.M)
        if m:
            res[key] = parse_duration_ms(m.group(1))
    m = re.search(r"(\d+) requests in", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        connect, read, write, timeout = (int(x) for x in m.groups())
        # A "read" error is a keep-alive connection the server closed: the
        # event MPM closes idle keep-alive connections whenever all of its
        # workers are busy (the 256-client scenario); wrk reconnects.
        res["read_errors"] = read
        res["errors"] = connect + write + timeout
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    if p.returncode != 0 or res["rps"] is None:
        res["rps"] = None
        res["raw"] = out[-2000:]
    return res


class Sampler(threading.Thread):
    """Samples the VmRSS of every process of the given servers, keeping the
    per-pid maximum."""

    def __init__(self, servers, interval=0.05):
        super().__init__(daemon=True)
        self.servers = servers
        self.interval = interval
        self.peak = {}            # pid -> (server name, kind, cmd, max VmRSS)
        self._halt = threading.Event()

    def run(self):
        while not self._halt.is_set():
            for srv in self.servers:
                for pid, (kind, cmd, rss, _) in srv.memory().items():
                    old = self.peak.get(pid)
                    if old is None or rss > old[3]:
                        self.peak[pid] = (srv.name, kind, cmd, rss)
            self._halt.wait(self.interval)

    def stop(self):
        self._halt.set()
        self.join()


# ------------------------------------------------------------ the scenarios
def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def summarize(rounds):
    ok = [r for r in rounds if r.get("rps") is not None]
    return {
        "rps": median([r["rps"] for r in ok]),
        "rps_min": min((r["rps"] for r in ok), default=None),
        "rps_max": max((r["rps"] for r in ok), default=None),
        "p50": median([r["p50"] for r in ok]),
        "p99": median([r["p99"] for r in ok]),
        "errors": sum(r.get("errors", 0) for r in rounds),
        "read_errors": sum(r.get("read_errors", 0) for r in rounds),
        "requests": sum(r.get("requests", 0) for r in rounds),
        "non2xx": sum(r.get("non2xx", 0) for r in rounds),
        "failed_rounds": len(rounds) - len(ok),
        "rounds": rounds,
    }


def hwm_by_kind(mem):
    out = {"child": 0, "daemon": 0, "child_max": 0, "daemon_max": 0, "n_child": 0,
           "n_daemon": 0}
    for kind, _cmd, _rss, hwm in mem.values():
        out[kind] += hwm
        out[kind + "_max"] = max(out[kind + "_max"], hwm)
        out["n_" + kind] += 1
    return out


def run_scenario(sc, mode, args, venv, top, data, static_srv, expected, results):
    log("== %s, %s mode" % (sc.label, mode))
    servers = [Server(impl, mode, venv, top, data) for impl in ("rs", "mod_wsgi")]
    try:
        for s in servers:
            s.start()
        targets = list(servers)
        if static_srv is not None and sc.static and mode == args.modes[0]:
            targets.append(static_srv)
        entry = results.setdefault(sc.key, {}).setdefault(mode, {})
        # correctness first
        usable = []
        for s in targets:
            path = sc.static if s.impl == "static" else sc.path
            if s.impl == "static":
                err = check_server(s, [Scenario("static", "", path, None, 0)],
                                   {"static": data[path.lstrip("/")]}).get("static")
            else:
                err = check_server(s, [sc], expected).get(sc.key)
            if err:
                note("%s, %s: wrong answer before the load: %s" % (
                    s.name, sc.label, err))
                entry[s.impl] = {"broken": err}
            else:
                usable.append(s)
        # warm-up: every child and daemon thread imports the app
        for s in usable:
            path = sc.static if s.impl == "static" else sc.path
            run_wrk(s.url(path), sc.conns, args.warmup, sc.lua)
        rounds = {s.impl: [] for s in usable}
        for r in range(args.rounds):
            for s in usable:
                path = sc.static if s.impl == "static" else sc.path
                res = run_wrk(s.url(path), sc.conns, args.duration, sc.lua)
                rounds[s.impl].append(res)
                if res["rps"] is None:
                    note("%s, %s: wrk failed in round %d: %s" % (
                        s.name, sc.label, r + 1, res.get("raw", "")[-300:]))
            log("   round %d: %s" % (r + 1, "  ".join(
                "%s %s" % (IMPL_LABEL[i], fmt_rps(v[-1]["rps"]))
                for i, v in rounds.items())))
        for s in usable:
            summary = summarize(rounds[s.impl])
            if s.impl != "static":
                summary["memory"] = hwm_by_kind(s.memory())
                # after the load, is the server still right?
                err = check_server(s, [sc], expected).get(sc.key)
                if err:
                    note("%s, %s: wrong answer after the load: %s" % (
                        s.name, sc.label, err))
                    summary["broken_after"] = err
            if summary["errors"] or summary["non2xx"]:
                note("%s, %s: %d socket errors (connect, write, timeout), "
                     "%d non-2xx answers under load" % (
                         s.name, sc.label, summary["errors"], summary["non2xx"]))
            entry[s.impl] = summary
        for s in servers:
            scan_error_log(s, sc.label)
    finally:
        for s in servers:
            s.stop()


def _in_abort_traceback(lines, i):
    """Whether error-log line i belongs to a traceback that ends with a write
    failing because the client left."""
    for l in lines[i:i + 40]:
        if "failed to write response data" in l:
            return bool(re.search(r"Broken pipe|Connection reset by peer", l))
        if re.search(r"\] \w*(Error|Exception)\b", l):
            return False
    return False


def scan_error_log(srv, label):
    try:
        with open(srv.errlog, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return
    bad = [i for i, l in enumerate(lines)
           if (re.search(r":(error|crit|alert|emerg)\]", l)
               and not re.search(r"AH00484|AH10159", l))   # MPM capacity
           or "Segmentation" in l or "panicked" in l]
    # wrk drops its connections mid-response at the end of every round: a
    # write failing then with a broken pipe / reset is the client leaving.
    text = "\n".join(lines)
    aborts = len(re.findall(r"failed to write response data: (Broken pipe|"
                            r"Connection reset by peer)", text))
    if aborts:
        note("%s, %s: %d response(s) cut by the client leaving at the end of "
             "a round, logged as errors with a traceback (expected; not counted "
             "below)" % (srv.name, label, aborts))
        bad = [i for i in bad if not _in_abort_traceback(lines, i)]
    if bad:
        first = lines[bad[0]]
        # for a Python traceback, its last line says what happened
        last = None
        for l in lines[bad[0] + 1:bad[0] + 40]:
            m = re.search(r"\] (\w*(Error|Exception|Exit)\b.*)$", l)
            if m:
                last = m.group(1)
                break
        note("%s, %s: %d error-log line(s), first: %s%s" % (
            srv.name, label, len(bad), first[:300],
            (" ... " + last[:200]) if last else ""))


# --------------------------------------------------------- memory checks
def upload_gib(port, size):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    try:
        s.sendall(("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Content-Type: application/octet-stream\r\n"
                   "Content-Length: %d\r\nConnection: close\r\n\r\n" % size).encode())
        block = b"\0" * MIB
        sent = 0
        while sent < size:
            n = min(len(block), size - sent)
            s.sendall(block[:n] if n < len(block) else block)
            sent += n
        data = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0].decode("latin-1"), body


def download_gib(port, size):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        c.request("GET", "/stream?size=%d" % size)
        r = c.getresponse()
        buf = bytearray(MIB)
        total = 0
        while True:
            n = r.readinto(buf)
            if not n:
                break
            total += n
        return r.status, total
    finally:
        c.close()


def memory_checks(args, venv, top, data, mem_results):
    zeros_hash = hashlib.sha256()
    block = b"\0" * MIB
    for _ in range(args.big // MIB):
        zeros_hash.update(block)
    expect_upload = ("%s %d\n" % (zeros_hash.hexdigest(), args.big)).encode()
    for mode in args.modes:
        for impl in ("rs", "mod_wsgi"):
            srv = Server(impl, mode, venv, top, data)
            name = "%s/%s" % (IMPL_LABEL[impl], mode)
            log("== memory, %s" % name)
            res = mem_results.setdefault(mode, {}).setdefault(impl, {})
            try:
                srv.start()
                # idle: after a few requests on each of the apps used here
                for _ in range(20):
                    http_request(srv.port, "GET", "/hello")
                    http_request(srv.port, "POST", "/upload", b"a" * 1000)
                    http_request(srv.port, "GET", "/stream?size=100000")
                time.sleep(args.idle_wait)
                idle = srv.memory()
                res["idle"] = [{"pid": p, "kind": k, "cmd": c, "rss": r,
                                "pss": read_pss(p), "uss": read_uss(p)}
                               for p, (k, c, r, _h) in sorted(idle.items())]
                for what in ("upload", "download"):
                    before = srv.memory()
                    sampler = Sampler([srv], 0.02)
                    sampler.start()
                    t0 = time.monotonic()
                    try:
                        if what == "upload":
                            status, body = upload_gib(srv.port, args.big)
                            ok = status.split()[1:2] == ["200"] and body == expect_upload
                            detail = "%s %r" % (status, body[:120])
                        else:
                            status, total = download_gib(srv.port, args.big)
                            ok = status == 200 and total == args.big
                            detail = "status %s, %d bytes" % (status, total)
                    except Exception as e:
                        ok, detail = False, "%s: %s" % (type(e).__name__, e)
                    secs = time.monotonic() - t0
                    sampler.stop()
                    after = srv.memory()
                    procs = []
                    for pid, (kind, cmd, rss0, _h) in sorted(before.items()):
                        peak = sampler.peak.get(pid, (None, kind, cmd, rss0))[3]
                        a = after.get(pid)
                        procs.append({
                            "pid": pid, "kind": kind, "cmd": cmd, "before": rss0,
                            "peak": max(peak, rss0),
                            "after": a[2] if a else None,
                            "hwm_after": a[3] if a else None,
                        })
                    for pid, (_n, kind, cmd, peak) in sampler.peak.items():
                        if pid not in before:   # a process born meanwhile
                            procs.append({"pid": pid, "kind": kind, "cmd": cmd,
                                          "before": 0, "peak": peak,
                                          "after": None, "hwm_after": None,
                                          "new": True})
                    growth = max((p["peak"] - p["before"] for p in procs
                                  if not p.get("new")), default=0)
                    res[what] = {"ok": ok, "detail": detail, "seconds": secs,
                                 "growth": growth, "processes": procs}
                    log("   %s %s: %s in %.1f s, max RSS growth of a process "
                        "%.1f MiB" % (size_label(args.big), what,
                                      "ok" if ok else "FAILED " + detail,
                                      secs, growth / MIB))
                    if not ok:
                        note("%s: %s %s failed: %s" % (name, size_label(args.big),
                                                       what, detail))
                scan_error_log(srv, "memory checks")
            except Exception as e:
                note("%s: memory checks failed: %s" % (name, e))
                res["error"] = str(e)
            finally:
                srv.stop()


# --------------------------------------------------------------- reporting
def fmt_rps(v):
    return "-" if v is None else ("%.0f" % v)


def fmt_ms(v):
    if v is None:
        return "-"
    return "%.2f" % v if v < 10 else "%.1f" % v


def fmt_mib(v):
    return "-" if not v else "%.0f" % (v / MIB)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt_ratio(r):
    return "-" if r is None else "%.2f" % r


def table_rows(results, args):
    rows = []
    for sc in SCENARIOS:
        if sc.key not in results:
            continue
        static = None
        for mode in args.modes:
            st = results[sc.key].get(mode, {}).get("static")
            if st and st.get("rps"):
                static = st
        for mode in args.modes:
            e = results[sc.key].get(mode)
            if not e:
                continue
            rs, mw = e.get("rs", {}), e.get("mod_wsgi", {})
            r = ratio(rs.get("rps"), mw.get("rps"))
            rstat = ratio(rs.get("rps"), static.get("rps")) if static else None
            target = TARGETS.get((sc.key, mode))
            starget = STATIC_TARGET.get((sc.key, mode))
            verdict = []
            if target:
                verdict.append("≥%.2f %s" % (target, "met" if r and r >= target
                                               else "NOT met"))
            if starget:
                verdict.append("vs static ≥%.2f %s" % (
                    starget, "met" if rstat and rstat >= starget else "NOT met"))
            mem_rs = rs.get("memory", {})
            mem_mw = mw.get("memory", {})
            rows.append({
                "scenario": sc.label, "key": sc.key, "mode": mode,
                "conns": sc.conns,
                "rs": rs.get("rps"), "mw": mw.get("rps"), "ratio": r,
                "static": static.get("rps") if static else None,
                "rs_static": rstat,
                "rs_p50": rs.get("p50"), "mw_p50": mw.get("p50"),
                "rs_p99": rs.get("p99"), "mw_p99": mw.get("p99"),
                "rs_child": mem_rs.get("child"), "mw_child": mem_mw.get("child"),
                "rs_daemon": mem_rs.get("daemon"), "mw_daemon": mem_mw.get("daemon"),
                "rs_broken": rs.get("broken") or rs.get("broken_after"),
                "mw_broken": mw.get("broken") or mw.get("broken_after"),
                "target": "; ".join(verdict),
                "spread": spread(rs, mw),
            })
    return rows


def spread(*summaries):
    """Largest (max-min)/median over the rounds of the given summaries."""
    worst = 0.0
    for s in summaries:
        if s.get("rps") and s.get("rps_max") is not None:
            worst = max(worst, (s["rps_max"] - s["rps_min"]) / s["rps"])
    return worst


HEADER = ["scenario", "mode", "c", "rs req/s", "mod_wsgi req/s", "rs/mod_wsgi",
          "static req/s", "rs/static", "p50 ms rs / mw", "p99 ms rs / mw",
          "children RSS MiB rs / mw", "daemons RSS MiB rs / mw", "spread",
          "target (issue 6)"]


def row_cells(r):
    def cell_rps(v, broken):
        return "BROKEN" if broken else fmt_rps(v)
    return [r["scenario"], r["mode"], str(r["conns"]),
            cell_rps(r["rs"], r["rs_broken"]), cell_rps(r["mw"], r["mw_broken"]),
            fmt_ratio(r["ratio"]), fmt_rps(r["static"]), fmt_ratio(r["rs_static"]),
            "%s / %s" % (fmt_ms(r["rs_p50"]), fmt_ms(r["mw_p50"])),
            "%s / %s" % (fmt_ms(r["rs_p99"]), fmt_ms(r["mw_p99"])),
            "%s / %s" % (fmt_mib(r["rs_child"]), fmt_mib(r["mw_child"])),
            "%s / %s" % (fmt_mib(r["rs_daemon"]), fmt_mib(r["mw_daemon"])),
            "%.0f%%" % (100 * r["spread"]), r["target"] or ""]


def text_table(rows):
    cells = [HEADER] + [row_cells(r) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    out = []
    for n, c in enumerate(cells):
        out.append("  ".join(x.ljust(w) for x, w in zip(c, widths)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def md_table(rows):
    out = ["| " + " | ".join(HEADER) + " |",
           "|" + "|".join("---" for _ in HEADER) + "|"]
    for r in rows:
        out.append("| " + " | ".join(row_cells(r)) + " |")
    return "\n".join(out)


def memory_md(mem, args):
    out = []
    if not mem:
        return "(memory checks skipped)\n"
    out.append("Largest per-process RSS growth (peak sampled every 20 ms during "
               "the transfer, minus the process's RSS just before); limit %d MiB:\n"
               % (MEMORY_LIMIT // MIB))
    out.append("| mode | module | %s upload | %s download |" % (
        size_label(args.big), size_label(args.big)))
    out.append("|---|---|---|---|")
    for mode in args.modes:
        for impl in ("rs", "mod_wsgi"):
            r = mem.get(mode, {}).get(impl, {})
            cells = []
            for what in ("upload", "download"):
                w = r.get(what)
                if not w:
                    cells.append("error: %s" % r.get("error", "not run"))
                    continue
                g = w["growth"]
                verdict = "ok" if g < MEMORY_LIMIT else "OVER"
                worst = max((p for p in w["processes"] if not p.get("new")),
                            key=lambda p: p["peak"] - p["before"], default=None)
                who = (" (%s)" % worst["cmd"][:40]) if worst and g >= MIB else ""
                cells.append("%s%.1f MiB %s%s, %.1f s" % (
                    "" if w["ok"] else "FAILED (%s) " % w["detail"],
                    g / MIB, verdict, who, w["seconds"]))
            out.append("| %s | %s | %s |" % (mode, IMPL_LABEL[impl], " | ".join(cells)))
    out.append("")
    out.append("Idle RSS per process (after 60 small requests and %g s idle):\n"
               % args.idle_wait)
    out.append("RSS counts pages shared with the Apache parent (and with the "
               "other processes) in full; PSS divides them among their users; USS "
               "(below) counts only the pages a process alone has, what its exit would "
               "free.\n")
    out.append("| mode | module | Apache children RSS (PSS), MiB each | daemon processes RSS (PSS), MiB each | daemons total RSS (PSS) MiB |")
    out.append("|---|---|---|---|---|")
    for mode in args.modes:
        for impl in ("rs", "mod_wsgi"):
            idle = mem.get(mode, {}).get(impl, {}).get("idle")
            if not idle:
                continue
            ch = [p for p in idle if p["kind"] == "child"]
            dm = [p for p in idle if p["kind"] == "daemon"]

            def mib(p):
                return "%.1f (%.1f)" % (p["rss"] / MIB, (p.get("pss") or 0) / MIB)
            out.append("| %s | %s | %s | %s | %s |" % (
                mode, IMPL_LABEL[impl],
                ", ".join(mib(p) for p in ch) or "-",
                ", ".join("%s %s" % (mib(p), "manager" if p["cmd"].endswith("manager")
                                     else "worker") for p in dm) or "-",
                "%.1f (%.1f)" % (sum(p["rss"] for p in dm) / MIB,
                                 sum(p.get("pss") or 0 for p in dm) / MIB)
                if dm else "-"))
    return "\n".join(out) + "\n"


def size_label(n):
    if n % GIB == 0:
        return "%d GiB" % (n // GIB)
    if n % MIB == 0:
        return "%d MiB" % (n // MIB)
    return "%d bytes" % n


def memory_verdicts(mem, args):
    """The memory targets of issue 6, for this module."""
    out = []
    for mode in args.modes:
        r = mem.get(mode, {}).get("rs", {})
        for what in ("upload", "download"):
            w = r.get(what)
            if w:
                out.append("- %s %s, %s: largest per-process RSS growth %.1f MiB "
                           "(< %d MiB) %s%s" % (
                               size_label(args.big), what, mode, w["growth"] / MIB, MEMORY_LIMIT // MIB,
                               "met" if w["growth"] < MEMORY_LIMIT else "NOT met",
                               "" if w["ok"] else " (the transfer FAILED: %s)"
                               % w["detail"]))
    rs_idle = mem.get("daemon", {}).get("rs", {}).get("idle")
    mw_idle = mem.get("daemon", {}).get("mod_wsgi", {}).get("idle")
    if rs_idle and mw_idle:
        def avg(ps, key):
            return sum(p[key] or 0 for p in ps) / len(ps) if ps else 0
        rs_w = [p for p in rs_idle if p["kind"] == "daemon"
                and not p["cmd"].endswith("manager")]
        rs_m = [p for p in rs_idle if p["kind"] == "daemon"
                and p["cmd"].endswith("manager")]
        mw_w = [p for p in mw_idle if p["kind"] == "daemon"]
        for key, what in (("rss", "RSS"), ("pss", "PSS"), ("uss", "USS (private)")):
            w, m, ref = avg(rs_w, key), avg(rs_m, key), avg(mw_w, key)
            out.append("- idle daemon process %s: mod_wsgi_rs worker %.1f MiB "
                       "(+ manager %.1f MiB = %.1f MiB per slot), mod_wsgi %.1f MiB: "
                       "worker %s, worker + manager %s" % (
                           what, w / MIB, m / MIB, (w + m) / MIB, ref / MIB,
                           "met" if w <= ref else "NOT met",
                           "met" if w + m <= ref else "NOT met"))
    return out


def memory_text(mem, args):
    lines = []
    for mode in args.modes:
        for impl in ("rs", "mod_wsgi"):
            r = mem.get(mode, {}).get(impl, {})
            parts = []
            for what in ("upload", "download"):
                w = r.get(what)
                if w:
                    parts.append("%s +%.1f MiB%s" % (what, w["growth"] / MIB,
                                                     "" if w["ok"] else " FAILED"))
            idle = r.get("idle") or []
            dm = [p["rss"] for p in idle if p["kind"] == "daemon"]
            if dm:
                parts.append("idle daemons %s MiB" % "+".join(
                    "%.1f" % (x / MIB) for x in dm))
            lines.append("  %-9s %-11s %s" % (mode, IMPL_LABEL[impl], ", ".join(parts)))
    return "\n".join(lines)


def versions():
    def run(cmd):
        try:
            return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  timeout=30).stdout.decode().strip()
        except Exception as e:
            return "? (%s)" % e
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    rev = run(["git", "-C", REPO, "rev-parse", "--short=12", "HEAD"])
    dirty = run(["git", "-C", REPO, "status", "--porcelain", "--", "src",
                 "Cargo.toml", "Cargo.lock", "build.rs"])
    apache_v = run([APACHE, "-v"]).splitlines()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "kernel": platform.release(),
        "apache2": apache_v[0].split(":", 1)[-1].strip() if apache_v else "?",
        "apache2_pkg": run(["dpkg-query", "-W", "-f=${Version}", "apache2-bin"]),
        "python": run(["/usr/bin/python3", "--version"]),
        "mod_wsgi": run(["dpkg-query", "-W", "-f=${Version}",
                         "libapache2-mod-wsgi-py3"]),
        "rev": rev + (" (src/ modified: uncommitted changes)" if dirty else ""),
        "wrk": (run(["wrk", "-v"]).splitlines() or ["?"])[0],
    }


def write_chart(rows, path, args):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("matplotlib missing: no chart")
        return False
    labels = []
    for r in rows:
        if r["scenario"] not in labels:
            labels.append(r["scenario"])
    fig, ax = plt.subplots(figsize=(11, 5.5))
    n_series = len(args.modes) + 1
    width = 0.8 / n_series
    colors = {"embedded": "#1f77b4", "daemon": "#ff7f0e", "static": "#999999"}
    series = [(m, "mod_wsgi_rs / mod_wsgi, %s" % m, "ratio") for m in args.modes]
    series.append((args.modes[0], "mod_wsgi_rs / static file, %s" % args.modes[0],
                   "rs_static"))
    for i, (mode, name, field) in enumerate(series):
        xs, ys = [], []
        for j, lab in enumerate(labels):
            for r in rows:
                if r["scenario"] == lab and r["mode"] == mode and r[field]:
                    xs.append(j + (i - (n_series - 1) / 2) * width)
                    ys.append(r[field])
        color = colors["static"] if field == "rs_static" else colors.get(mode)
        bars = ax.bar(xs, ys, width, label=name, color=color)
        for b, y in zip(bars, ys):
            ax.text(b.get_x() + b.get_width() / 2, y, "%.2f" % y, ha="center",
                    va="bottom", fontsize=7)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=20, ha="right", fontsize=8)
    ax.set_ylabel("requests/s ratio (median of rounds)")
    ax.set_title("mod_wsgi_rs vs mod_wsgi (higher is better for mod_wsgi_rs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def reconnects_md(results):
    """wrk's "read" errors: keep-alive connections that Apache closed."""
    out = []
    for sc in SCENARIOS:
        for mode, e in results.get(sc.key, {}).items():
            parts = []
            for impl in ("rs", "mod_wsgi", "static"):
                x = e.get(impl) or {}
                if x.get("read_errors"):
                    parts.append("%s %d of %d requests" % (
                        IMPL_LABEL[impl], x["read_errors"], x["requests"]))
            if parts:
                out.append("- %s, %s: %s" % (sc.label, mode, ", ".join(parts)))
    if not out:
        return ""
    return ("\nKeep-alive connections closed by Apache (wrk's \"read\" socket "
            "errors; the event MPM closes idle keep-alive connections whenever "
            "all of its %d workers are busy, and wrk reconnects; the same for "
            "every server):\n\n" % 50 + "\n".join(out) + "\n")


def write_results(path, rows, mem, args, info, started, elapsed, loads,
                  rows_results):
    targets_lines = []
    for r in rows:
        if r["target"]:
            targets_lines.append("- %s, %s: %s (measured %s%s)" % (
                r["scenario"], r["mode"], r["target"], fmt_ratio(r["ratio"]),
                ", vs static %s" % fmt_ratio(r["rs_static"])
                if STATIC_TARGET.get((r["key"], r["mode"])) else ""))
    text = """# mod_wsgi_rs vs mod_wsgi: benchmark results

Measured {date} in one run of

    {command}

({elapsed:.0f} s; {rounds} alternating rounds of {duration:g} s per server and
scenario after a {warmup:g} s warm-up; the figures are the medians of the rounds).

## Machine and versions

- {nproc} CPUs: {cpu}; Linux {kernel}
- Apache: {apache2} (Debian package {apache2_pkg}), event MPM
- Python: {python}; Flask {flask} in a virtualenv (WSGIPythonHome / python-home=)
- mod_wsgi: Debian's libapache2-mod-wsgi-py3 {mod_wsgi} (`/usr/lib/apache2/modules/mod_wsgi.so`)
- mod_wsgi_rs: git {rev}
- load generator: {wrk}, on loopback, same machine
- load average at start / end: {load0} / {load1}

## Set-up

Every server: Debian's apache2, event MPM with `{mpm}`, no access log,
`WSGIApplicationGroup %{{GLOBAL}}`. Embedded mode: `WSGIPythonHome <venv>`.
Daemon mode: `WSGIDaemonProcess bench processes={dp} threads={dt}
display-name=%{{GROUP}} python-home=<venv>`, `WSGIProcessGroup bench`,
`WSGIRestrictEmbedded On` (mod_wsgi's recommended daemon set-up, the same
for both modules). Each scenario starts a fresh pair of servers (so the peak
RSS belongs to that scenario), checks their answers, warms them up, then
alternates rounds between them (and a third Apache without a WSGI module
that serves a static file of the same size, the upper bound; measured in
the {mode0} pass, and the same static figure is shown on the other mode's
row). `c` is the number of concurrent keep-alive connections of wrk.
CPUs: {pinning}.

Columns: req/s and latency percentiles from `wrk --latency`; RSS is the sum
of VmHWM (peak RSS) over the processes of that kind at the end of the
scenario (children: the two event MPM children; daemons: every
`(wsgi:bench)` process, including mod_wsgi_rs's `(wsgi:bench) manager`
processes); spread is the largest (max-min)/median of req/s across the
rounds of either module, a measure of the noise.

## Results

{table}

Ratio chart: `results.png` (mod_wsgi_rs / mod_wsgi per scenario and mode,
and mod_wsgi_rs / static file).

### Targets of issue 6

{targets}
{mem_targets}

## Memory checks

{memory}
## Noise

This machine has {nproc} CPUs shared by the servers, wrk and whatever else
runs on it (other engineers' test suites ran at the same time), so absolute
figures are noisy: the spread column shows how much the rounds of one server
disagreed. Rounds alternate between the servers so that a burst of outside
load hits both alike, and the medians are compared; ratios are more
trustworthy than absolute req/s, and a ratio within about the spread of 1.0
is a tie. `results.json` has every round.
{reconnects}{notes}""".format(
        reconnects=reconnects_md(rows_results),
        date=time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(started)),
        command=args.command, elapsed=elapsed, rounds=args.rounds,
        duration=args.duration, warmup=args.warmup,
        mpm="; ".join(MPM_SETTINGS), dp=DAEMON_PROCESSES, dt=DAEMON_THREADS,
        pinning=args.pinning or "wrk and Apache share every CPU",
        mode0=args.modes[0], table=md_table(rows),
        targets="\n".join(targets_lines) or "(none measured)",
        mem_targets="\n".join(memory_verdicts(mem, args)),
        memory=memory_md(mem, args), load0=loads[0], load1=loads[1],
        notes=("\n## Problems seen during the run\n\n" +
               "\n".join("- " + n.replace("\n", " ") for n in _notes) + "\n")
        if _notes else "", **info)
    with open(path, "w") as f:
        f.write(text)


# -------------------------------------------------------------------- main
def make_data():
    rnd = os.urandom
    return {
        "hello.txt": HELLO,
        "64k.bin": rnd(64 * 1024),
        "10m.bin": rnd(10 * MIB),
        "3m.bin": rnd(3 * MIB),
    }


def main():
    ap = argparse.ArgumentParser(prog="bench/run", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true",
                    help="short rounds (about 3 minutes in all)")
    ap.add_argument("--rounds", type=int, help="rounds per server (default 5, quick 2)")
    ap.add_argument("--duration", type=int,
                    help="whole seconds per round (default 3, quick 2)")
    ap.add_argument("--warmup", type=int, help="whole warm-up seconds (default 1)")
    ap.add_argument("--scenarios", default=",".join(s.key for s in SCENARIOS),
                    help="comma-separated subset of: %s" % ", ".join(
                        s.key for s in SCENARIOS))
    ap.add_argument("--modes", default="embedded,daemon")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory checks")
    ap.add_argument("--no-pin", action="store_true",
                    help="let wrk and Apache share every CPU (default: wrk on CPU 0, "
                         "Apache on the others)")
    ap.add_argument("--big", type=int, default=GIB,
                    help="bytes of the memory checks' upload and download (1 GiB)")
    ap.add_argument("--out", default=BENCH, help="where results.* go (default bench/)")
    ap.add_argument("--venv", required=True, help="virtualenv with Flask")
    ap.add_argument("--command", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.duration = args.duration or (2 if args.quick else 3)
    args.warmup = args.warmup or 1
    args.idle_wait = 1.0 if args.quick else 2.0
    args.pinning = pin_cpus(not args.no_pin)
    args.modes = [m for m in args.modes.split(",") if m]
    for m in args.modes:
        if m not in ("embedded", "daemon"):
            ap.error("unknown mode %r" % m)
    keys = [k for k in args.scenarios.split(",") if k]
    for k in keys:
        if k not in SCENARIO_BY_KEY:
            ap.error("unknown scenario %r" % k)
    scenarios = [SCENARIO_BY_KEY[k] for k in keys]
    args.command = args.command or " ".join(sys.argv)
    for impl, so in IMPLS.items():
        if not os.path.isfile(so):
            sys.exit("bench: %s not found (%s)" % (IMPL_LABEL[impl], so))

    def on_signal(signum, frame):
        raise SystemExit("bench: stopped by signal %d" % signum)
    signal.signal(signal.SIGTERM, on_signal)
    # also when started with SIGINT ignored (a background job of a script)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, on_signal)

    started = time.time()
    t0 = time.monotonic()
    loads = [" ".join("%.2f" % x for x in os.getloadavg()), ""]
    top = tempfile.mkdtemp(prefix="mod_wsgi_rs-bench-")
    os.chmod(top, 0o755)
    info = versions()
    info["flask"] = subprocess.run(
        [os.path.join(args.venv, "bin", "python"), "-c",
         "import importlib.metadata as m; print(m.version('flask'))"],
        stdout=subprocess.PIPE).stdout.decode().strip() or "?"
    data = make_data()
    expected = {
        "hello": HELLO,
        "64k": b"0123456789abcdef" * 4096,
        "stream10m": b"x" * (10 * MIB),
        "file3m": data["3m.bin"],
        "upload1m": ("%s %d\n" % (hashlib.sha256(b"a" * MIB).hexdigest(),
                                   MIB)).encode(),
        "hello_c256": HELLO,
        "hello_metrics": HELLO,
    }
    results, mem = {}, {}
    static_srv = None
    try:
        # The Flask answer decides the size of its static twin.
        if any(s.key == "flask" for s in scenarios):
            probe = Server("rs", "embedded", args.venv, top, data).start()
            try:
                status, body = http_request(probe.port, "GET", FLASK_PATH)
            finally:
                probe.stop()
            if status != 200:
                probe = Server("mod_wsgi", "embedded", args.venv, top, data).start()
                try:
                    status, body = http_request(probe.port, "GET", FLASK_PATH)
                finally:
                    probe.stop()
            if status == 200:
                expected["flask"] = body
                data["flask.json"] = b"x" * len(body)
        static_srv = Server("static", None, args.venv, top, data).start()
        for sc in scenarios:
            for mode in args.modes:
                try:
                    run_scenario(sc, mode, args, args.venv, top, data, static_srv,
                                 expected, results)
                except (KeyboardInterrupt, SystemExit):
                    raise
                except Exception as e:
                    note("%s, %s mode: could not be measured: %s" % (
                        sc.label, mode, str(e)[:1500]))
        static_srv.stop()
        if not args.no_memory:
            memory_checks(args, args.venv, top, data, mem)
    except KeyboardInterrupt:
        log("interrupted: stopping the servers")
        stop_all()
        sys.exit(130)
    finally:
        stop_all()
        if os.environ.get("BENCH_KEEP_ROOTS"):
            log("server roots kept in %s" % top)
        else:
            shutil.rmtree(top, ignore_errors=True)
    loads[1] = " ".join("%.2f" % x for x in os.getloadavg())
    elapsed = time.monotonic() - t0
    rows = table_rows(results, args)
    print()
    print(text_table(rows))
    print()
    print("memory:")
    print(memory_text(mem, args))
    for line in memory_verdicts(mem, args):
        print(line)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"info": info, "command": args.command, "pinning": args.pinning,
                   "rounds": args.rounds,
                   "duration": args.duration, "results": results, "memory": mem,
                   "notes": _notes}, f, indent=1, default=str)
    write_results(os.path.join(args.out, "results.md"), rows, mem, args, info,
                  started, elapsed, loads, results)
    write_chart(rows, os.path.join(args.out, "results.png"), args)
    log("wrote %s/results.md, results.json, results.png (%.0f s)" % (args.out, elapsed))


if __name__ == "__main__":
    main()
