"""Helpers for the daemon-mode tests (tests/test_daemon_*.py): the apps'
event log, daemon sockets, process facts from /proc, running a snippet as
another user, and a small concurrent client."""

import glob
import http.client
import inspect
import json
import os
import subprocess
import sys
import threading
import time

from harness.apache import DAEMON_MODE, wait_for

# The test_daemon_* files set up their own daemon groups, so a
# MOD_WSGI_TEST_MODE=daemon run would repeat them unchanged. They are also
# marked rs_only: they check mod_wsgi_rs's log lines and behaviours that
# mod_wsgi 4.9.4 does not have (e.g. it refuses an unknown user= at
# configtest, its request-timeout is an average over the threads, its
# sockets are per generation, it streams file_wrapper bodies itself).
SKIP_IN_DAEMON_RUN = dict(
    condition=DAEMON_MODE,
    reason="sets up its own daemon groups: identical in both runs, so it runs "
           "in the embedded run only")


# ------------------------------------------------------------ events.log
def events(srv):
    try:
        with open(os.path.join(srv.state, "events.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def wait_event(srv, line, timeout=5):
    return wait_for(lambda: line in events(srv), timeout=timeout,
                    what="%r in events.log (have %r)" % (line, events(srv)[-10:]))


# ---------------------------------------------------------------- sockets
def socket_paths(srv):
    """The daemon sockets of ``srv`` (its WSGISocketPrefix is @SOCKETS@/wsgi)."""
    return sorted(glob.glob(os.path.join(srv.sockdir, "wsgi.*.sock")))


# ------------------------------------------------------------------ /proc
def proc_status(pid):
    """/proc/<pid>/status as a dict of str -> str (empty once the process is
    gone). Anyone may read it: no privilege is involved."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                out[k] = v.strip()
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def kib(status, key):
    """A "<n> kB" field of proc_status() in KiB (0 if missing)."""
    v = status.get(key, "0 kB").split()
    return int(v[0]) if v else 0


def _read_open_files(pid):
    """Targets of /proc/<pid>/fd/* and the files mapped in /proc/<pid>/maps,
    read by the calling process (empty once the process is gone). Runs
    in-process or, as source, in a snippet run as another user: so it
    imports what it needs itself. PermissionError propagates."""
    import os
    found = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                found.add(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
            except FileNotFoundError:
                pass  # closed since the listing
        with open("/proc/%d/maps" % pid) as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6:
                    found.add(parts[5].strip())
    except (FileNotFoundError, ProcessLookupError):
        return set()
    return found


def open_files(pid):
    """Targets of /proc/<pid>/fd/* and the files mapped in /proc/<pid>/maps
    (empty once the process is gone).

    Another user's descriptors and mappings are readable only with
    CAP_SYS_PTRACE, which Docker's default capabilities and hardened hosts
    leave out, or by that same user when the process is dumpable (Apache
    makes its children dumpable when CoreDumpDirectory is set). So a process
    of another user (Apache's children run as www-data) is always read by a
    snippet run as that user, which needs only setuid: the same path with
    and without CAP_SYS_PTRACE. What cannot be read raises PermissionError
    saying why, never an empty set that a poll would wait on until it times
    out."""
    st = proc_status(pid)
    if not st:
        return set()
    uid, gid = int(st["Uid"].split()[1]), int(st["Gid"].split()[1])
    if uid == os.geteuid():
        return _read_open_files(pid)
    if os.geteuid() != 0:
        raise PermissionError(
            "process %d runs as uid %d and the tests as uid %d: only root can "
            "read its /proc/%d/fd (as that user); run the tests as root"
            % (pid, uid, os.geteuid(), pid))
    code = (inspect.getsource(_read_open_files) +
            "\nimport json\nprint(json.dumps(sorted(_read_open_files(%d))))\n" % pid)
    rc, out = run_python_as(uid, gid, code)
    if rc == 0:
        return set(json.loads(out))
    why = out.strip().splitlines()[-1] if out.strip() else "exit status %d" % rc
    hint = ""
    try:
        if os.stat("/proc/%d/fd" % pid).st_uid != uid:
            hint = (" (the process is not dumpable, so not even its own user "
                    "may read it: an Apache child is dumpable only when "
                    "CoreDumpDirectory is set in the server's config)")
    except OSError:
        pass
    raise PermissionError("cannot read /proc/%d/fd as its user (uid %d): %s%s"
                          % (pid, uid, why, hint))


# ----------------------------------------------------- as another user
def run_python_as(uid, gid, code, timeout=20):
    """Run ``python3 -c code`` as uid/gid with no supplementary groups;
    returns (returncode, stdout+stderr)."""
    p = subprocess.run([sys.executable, "-c", code], user=uid, group=gid,
                       extra_groups=[], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, cwd="/")
    return p.returncode, p.stdout.decode("utf-8", "replace")


# ---------------------------------------------------------- client load
class Hammer:
    """``clients`` threads sending GET ``path`` on keep-alive connections
    (reopened after an error or a close) until stop() or ``max_requests``
    in total. Every request is recorded as (start, status or exception
    text, X-Pid, body). With keepalive=False each request has its own
    connection (no idle keep-alive connection for a restarting server to
    close under a client that is about to reuse it)."""

    def __init__(self, port, path, clients=4, max_requests=100000,
                 timeout=15, check=None, keepalive=True):
        self.keepalive = keepalive
        self.port, self.path, self.clients = port, path, clients
        self.max_requests, self.timeout = max_requests, timeout
        self.check = check or (lambda status, body: status == 200)
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._taken = 0

    def start(self):
        for _ in range(self.clients):
            t = threading.Thread(target=self._run, daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, timeout=None):
        self._stop.set()
        return self.join(timeout)

    def join(self, timeout=None):
        deadline = time.monotonic() + (self.timeout + 10 if timeout is None
                                       else timeout)
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self._threads if t.is_alive()]
        assert not alive, "%d client thread(s) still running" % len(alive)
        return self

    def count(self):
        with self._lock:
            return len(self.results)

    def wait_count(self, n, timeout=20):
        wait_for(lambda: self.count() >= n, timeout=timeout,
                 what="%d requests (have %d)" % (n, self.count()))

    @property
    def failures(self):
        with self._lock:
            return [r for r in self.results
                    if not (isinstance(r[1], int) and self.check(r[1], r[3]))]

    def pids(self):
        with self._lock:
            return [r[2] for r in self.results if r[2]]

    def _take(self):
        with self._lock:
            if self._taken >= self.max_requests:
                return False
            self._taken += 1
            return True

    def _run(self):
        conn = None
        while not self._stop.is_set() and self._take():
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                  timeout=self.timeout)
            start = time.monotonic()
            try:
                conn.request("GET", self.path, headers=(
                    {} if self.keepalive else {"Connection": "close"}))
                r = conn.getresponse()
                body = r.read()
                rec = (start, r.status, r.getheader("X-Pid"), body)
                if r.will_close or not self.keepalive:
                    conn.close()
                    conn = None
            except Exception as e:  # recorded, the test asserts on it
                rec = (start, "%s: %s" % (type(e).__name__, e), None, b"")
                conn.close()
                conn = None
            with self._lock:
                self.results.append(rec)
        if conn is not None:
            conn.close()
