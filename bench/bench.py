#!/usr/bin/python3
"""Benchmark mod_wsgi_rs against mod_wsgi and against Apache in front of
an application server, side by side.

Run through ``bench/run`` (which installs what is missing, builds the module,
makes the reference mod_wsgi 6.1.1 and the bench virtualenv);
``bench/run --help`` lists the options.

For every scenario and mode, one Apache per server is started (each with its
own port and temporary ServerRoot, the same Debian apache2, event MPM and
MPM settings, the same apps): our module, Debian's mod_wsgi 4.9.4, mod_wsgi
6.1.1 from PyPI, and in daemon mode also Apache's mod_proxy_http in front of
Gunicorn (gthread) and in front of Granian (WSGI interface), with the
daemon mode's processes and threads. They are checked for correct answers,
warmed up, then loaded by ``wrk`` in alternating rounds (ours, 4.9.4, 6.1.1,
gunicorn, granian, static, ours, ...) so that machine noise hits all of them
alike; the medians are reported. One more Apache without any WSGI module
serves a static file of the same size as each response (the upper bound).
Every server is fresh for each scenario, so the peak RSS (VmHWM) of its
processes belongs to that scenario.

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

import backends
import report
import config
from config import (ALL_IMPLS, APACHE, APPS_SRC, BENCH, FLASK_PATH, GIB, HELLO, IMPL_LABEL, IMPLS,
                    MIB, MODDIR, MODULE_IMPLS, MOUNTS, MPM_SETTINGS,
                    PROXY_IMPLS, REPO, SCENARIO_BY_KEY, SCENARIOS, Scenario)
from report import fmt_rps, size_label

ALL_SERVERS = tuple(i for i in ALL_IMPLS if i != "static")

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
        self.impl = impl          # one of ALL_IMPLS
        self.mode = mode          # "embedded", "daemon" or None (static)
        self.venv = venv
        self.backend = None       # a backends.Backend for PROXY_IMPLS
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
        if impl in PROXY_IMPLS:
            self.backend = backends.Backend(
                impl, venv, self.root, self.apps,
                ",".join("%s=%s" % m for m in MOUNTS), config.DAEMON_PROCESSES,
                config.DAEMON_THREADS, SERVER_CPUS, apache_env())

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
        if self.impl in PROXY_IMPLS:
            # Apache keeps its connections to the backend (mod_proxy_http's
            # default pool: up to ThreadsPerChild per child, reused).
            lines += [
                "LoadModule proxy_module %s/mod_proxy.so" % MODDIR,
                "LoadModule proxy_http_module %s/mod_proxy_http.so" % MODDIR,
                "ProxyPass / http://127.0.0.1:%d/" % self.backend.port,
            ]
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
                % (config.DAEMON_PROCESSES, config.DAEMON_THREADS, self.venv),
                "WSGIProcessGroup bench",
            ]
        lines.append("WSGIApplicationGroup %{GLOBAL}")
        for url, script in MOUNTS:
            lines.append("WSGIScriptAlias %s %s/%s" % (url, self.apps, script))
        if self.impl == "rs":
            lines += ["<Location /server-metrics>", "    SetHandler wsgi-metrics",
                      "</Location>"]
        return "\n".join(lines) + "\n"

    def start(self, timeout=20.0):
        _live_servers.append(self)
        if self.backend is not None:
            bport = free_port()
            self.backend.start(bport, lambda: _answers(bport, "/hello"))
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
        kind is "daemon" for processes titled (wsgi:...) and for the
        processes of a proxied backend (Gunicorn, Granian), else "child"."""
        out = []
        if self.pid:
            for pid in descendants(self.pid):
                cmd = cmdline(pid)
                self.seen.add(pid)
                out.append((pid, "daemon" if cmd.startswith("(wsgi:") else "child",
                            cmd))
        if self.backend is not None and self.backend.proc is not None:
            top = self.backend.proc.pid
            for pid in [top] + descendants(top):
                if pid in ppid_map():
                    out.append((pid, "daemon", cmdline(pid)))
        return out

    def cpu_ticks(self):
        """(user, system) clock ticks used so far by the server's live
        processes (the parent included)."""
        user = system = 0
        pids = [self.pid] if self.pid else []
        for pid in pids + [p for p, _, _ in self.processes()]:
            try:
                with open("/proc/%d/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            user += int(fields[11])
            system += int(fields[12])
        return user, system

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
            self._stop_backend(grace)
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
        self._stop_backend(grace)

    def _stop_backend(self, grace):
        if self.backend is not None and self.backend.proc is not None:
            killed = self.backend.stop(grace)
            if killed:
                note("%s: %s still running %.0f s after SIGTERM; SIGKILLed: %s"
                     % (self.name, self.impl, grace, killed))

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)


def stop_all():
    for s in list(_live_servers):
        try:
            s.stop(grace=5.0)
        except Exception as e:  # keep stopping the others
            log("error stopping %s: %s" % (s.name, e))


# ------------------------------------------------------------------ client
def _answers(port, path):
    try:
        return http_request(port, "GET", path, timeout=2)[0] == 200
    except (OSError, http.client.HTTPException):
        return False


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


TICKS_PER_S = os.sysconf("SC_CLK_TCK")


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
        "cpu_user_us": median([r["cpu_user_us"] for r in ok if "cpu_user_us" in r]),
        "cpu_sys_us": median([r["cpu_sys_us"] for r in ok if "cpu_sys_us" in r]),
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


def impls_for(mode, args):
    """The servers measured in ``mode`` (static apart): every module, and in
    daemon mode the proxied application servers."""
    out = [i for i in MODULE_IMPLS if i in args.impls]
    if mode == "daemon":
        out += [i for i in PROXY_IMPLS if i in args.impls]
    return out


def run_scenario(sc, mode, args, venv, top, data, static_srv, expected, results):
    log("== %s, %s mode" % (sc.label, mode))
    entry = results.setdefault(sc.key, {}).setdefault(mode, {})
    servers = []
    try:
        for impl in impls_for(mode, args):
            s = Server(impl, mode, venv, top, data)
            servers.append(s)
            try:
                s.start()
            except Exception as e:
                note("%s, %s: could not start: %s" % (s.name, sc.label, str(e)[:1500]))
                entry[impl] = {"broken": "could not start"}
                s.stop()
        servers = [s for s in servers if s.proc is not None]
        targets = list(servers)
        if static_srv is not None and sc.static and mode == args.modes[0]:
            targets.append(static_srv)
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
                before = s.cpu_ticks()
                res = run_wrk(s.url(path), sc.conns, args.duration, sc.lua)
                after = s.cpu_ticks()
                if res.get("requests"):
                    per = 1e6 / TICKS_PER_S / res["requests"]
                    res["cpu_user_us"] = (after[0] - before[0]) * per
                    res["cpu_sys_us"] = (after[1] - before[1]) * per
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
    for n, l in enumerate(lines[i:i + 40]):
        if "failed to write response data" in l:
            return bool(re.search(r"Broken pipe|Connection reset by peer", l))
        # (mod_wsgi 6's first line names the exception type itself:
        # "WSGI0174: [script ...] OSError exception raised processing ...")
        if n and re.search(r"\] \w*(Error|Exception)\b", l):
            return False
    return False


def scan_backend_log(srv, label):
    """Errors logged by Gunicorn or Granian (their log and their output)."""
    text = srv.backend.log_tail(n=100000)
    bad = [l for l in text.splitlines()
           if re.search(r"\[(ERROR|CRITICAL)\]|Traceback", l)]
    if bad:
        note("%s, %s: %d error line(s) from %s, first: %s" % (
            srv.name, label, len(bad), srv.impl, bad[0][:300]))


def scan_error_log(srv, label):
    if srv.backend is not None:
        scan_backend_log(srv, label)
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
        for impl in [i for i in MODULE_IMPLS if i in args.impls]:
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
                # The Apache parent too: the sum of every process's PSS is
                # the physical memory the whole server holds.
                res["idle_parent_pss"] = read_pss(srv.pid)
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


# ---------------------------------------------------------------- versions
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


def venv_version(python, package):
    """Version of ``package`` as the given interpreter's metadata says, or '?'."""
    out = subprocess.run([python, "-c", "import importlib.metadata as m; "
                          "print(m.version(%r))" % package],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return out.stdout.decode().strip() or "?"


def mod_wsgi6_python(so):
    """The interpreter of the venv a pip-installed mod_wsgi .so lives in
    (<venv>/lib/python3.X/site-packages/mod_wsgi/server/<so>)."""
    venv = os.path.dirname(so)
    for _ in range(5):
        venv = os.path.dirname(venv)
    return os.path.join(venv, "bin", "python")


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
                    help="short rounds (about 6 minutes in all)")
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
    ap.add_argument("--servers", default=",".join(ALL_SERVERS),
                    help="comma-separated subset of: %s (gunicorn and granian: "
                         "daemon mode only)" % ", ".join(ALL_SERVERS))
    ap.add_argument("--mod-wsgi6", metavar="SO",
                    help="mod_wsgi 6.1.1's module (bench/run passes the one "
                         "scripts/reference-mod_wsgi makes)")
    ap.add_argument("--venv", required=True,
                    help="virtualenv with Flask, Gunicorn and Granian")
    ap.add_argument("--daemon", metavar="PROCESSES,THREADS",
                    help="the daemon mode's processes and threads (default %d,%d; "
                    "Gunicorn and Granian get the same)"
                    % (config.DAEMON_PROCESSES, config.DAEMON_THREADS))
    ap.add_argument("--command", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.daemon:
        try:
            config.DAEMON_PROCESSES, config.DAEMON_THREADS = (
                int(v) for v in args.daemon.split(","))
        except ValueError:
            ap.error("--daemon takes PROCESSES,THREADS, e.g. 2,15")
        if config.DAEMON_PROCESSES < 1 or config.DAEMON_THREADS < 1:
            ap.error("--daemon: processes and threads must be at least 1")
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
    args.impls = [i for i in args.servers.split(",") if i]
    for i in args.impls:
        if i not in ALL_SERVERS:
            ap.error("unknown server %r (choose among %s)" % (i, ", ".join(ALL_SERVERS)))
    if "mod_wsgi6" in args.impls:
        if not args.mod_wsgi6:
            ap.error("--mod-wsgi6 SO is needed for the mod_wsgi6 server (or leave it "
                     "out of --servers)")
        IMPLS["mod_wsgi6"] = os.path.abspath(args.mod_wsgi6)
    for impl in args.impls:
        so = IMPLS.get(impl)
        if impl in MODULE_IMPLS and not os.path.isfile(so or ""):
            sys.exit("bench: %s not found (%s)" % (IMPL_LABEL[impl], so))
        if impl in PROXY_IMPLS and not os.path.isfile(
                os.path.join(args.venv, "bin", impl)):
            sys.exit("bench: %s is not installed in %s (bench/run installs it)"
                     % (impl, args.venv))

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
    venv_python = os.path.join(args.venv, "bin", "python")
    for package in ("flask", "gunicorn", "granian"):
        info[package] = venv_version(venv_python, package)
    info["mod_wsgi6_so"] = IMPLS["mod_wsgi6"] or "not measured"
    info["mod_wsgi6"] = (venv_version(mod_wsgi6_python(IMPLS["mod_wsgi6"]), "mod_wsgi")
                         if IMPLS["mod_wsgi6"] else "not measured")
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
            for other in ("mod_wsgi", "mod_wsgi6"):
                if status == 200 or other not in args.impls:
                    continue
                probe = Server(other, "embedded", args.venv, top, data).start()
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
    rows = report.table_rows(results, args)
    print()
    print(report.text_table(report.summary_table(rows)))
    print()
    print("memory:")
    print(report.memory_text(mem, args))
    for line in report.memory_verdicts(mem, args):
        print(line)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "results.json"), "w") as f:
        json.dump({"info": info, "command": args.command, "pinning": args.pinning,
                   "rounds": args.rounds,
                   "duration": args.duration, "servers": args.impls,
                   "ratios": [{"scenario": r["key"], "mode": r["mode"],
                               "best_mod_wsgi": r["best"], "vs_best_mod_wsgi": r["vs_best"],
                               "vs_static": r["vs_static"]} for r in rows],
                   "results": results, "memory": mem,
                   "notes": _notes}, f, indent=1, default=str)
    report.write_results(os.path.join(args.out, "results.md"), rows, mem, args, info,
                         started, elapsed, loads, results, _notes)
    report.write_chart(rows, os.path.join(args.out, "results.png"), log)
    log("wrote %s/results.md, results.json, results.png (%.0f s)" % (args.out, elapsed))


if __name__ == "__main__":
    main()
