"""Graceful restarts under steady load (issue #18): `apache2 -k graceful`
N times (20 by default, `MOD_WSGI_STRESS_RESTARTS=100` for the long run)
while keep-alive clients and one-connection-per-request clients keep
sending, in embedded and in daemon mode: not one answer may be other than
200 and no connection may fail.

The keep-alive clients do what HTTP clients do (RFC 9112, 9.3.1): a
request that fails on a reused connection before any byte of the answer
arrived (the server closed the idle connection as the old generation
exited) is sent again once on a new connection; those retries are counted
and reported, not failures. The one-connection-per-request clients have no
such excuse: every error of theirs counts.

On failure the message carries the error log's `[daemon-5xx ...]` lines
(src/daemon/client.rs logs one for every daemon-side 5xx, naming the case)
and the other error lines.
"""

import hashlib
import http.client
import os
import re
import socket
import struct
import subprocess
import time

import pytest

from harness.daemon import SKIP_IN_DAEMON_RUN
from harness.load import Load, Result
from test_hostile_response import (END, ENVIRON, DATA, FAKE_BODY, READY, FakeDaemon,
                                   frame, install_fake, ok_headers, read_frame)

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

RESTARTS = int(os.environ.get("MOD_WSGI_STRESS_RESTARTS", "20"))
# requests each kind of client completes between two restarts at least
BETWEEN = 10

BODIES = {
    "embedded": r"""
WSGIScriptAlias /app @APPS@/hello.wsgi
WSGIScriptAlias /hash @APPS@/hash.wsgi
""",
    # threads=3 for 9 clients: every thread busy happens, so idle
    # connections are given up with RETRY under load too
    "daemon": r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess stress processes=2 threads=3
WSGIScriptAlias /app @APPS@/hello.wsgi process-group=stress
WSGIScriptAlias /hash @APPS@/hash.wsgi process-group=stress
""",
}

UPLOAD = os.urandom(100 * 1024)
UPLOAD_ANSWER = ("%s %d" % (hashlib.sha256(UPLOAD).hexdigest(), len(UPLOAD))).encode()


class KeepAliveLoad(Load):
    """`Load` whose clients send a request again, once, on a new
    connection when a reused connection fails before any answer (the
    keep-alive race every HTTP client handles); `retried` counts them."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.retried = 0

    def _once(self, conn, path):
        conn.request("GET", path)
        resp = conn.getresponse()
        data = resp.read()
        return resp, data

    def _run(self, index):
        conn, used = None, False
        while not self._stop.is_set():
            if time.monotonic() - self.t0 > self.duration or not self._take():
                break
            start = time.monotonic()
            status, error, pid, body_ok = None, None, None, False
            for attempt in (1, 2):
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port,
                                                      timeout=self.timeout)
                    used = False
                try:
                    resp, data = self._once(conn, self.paths[0])
                    status, pid = resp.status, resp.getheader("X-Pid")
                    body_ok = status == 200 and data == b"hello world"
                    used = True
                    if resp.will_close:
                        conn.close()
                        conn = None
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError,
                        BrokenPipeError) as e:
                    conn.close()
                    conn = None
                    if used and attempt == 1:
                        with self._lock:
                            self.retried += 1
                        continue
                    error = "%s: %s" % (type(e).__name__, e)
                    break
                except (OSError, http.client.HTTPException, socket.timeout) as e:
                    error = "%s: %s" % (type(e).__name__, e)
                    conn.close()
                    conn = None
                    break
            self._record(Result(start, time.monotonic(), status, error, pid, body_ok))
        if conn is not None:
            conn.close()


def done(load):
    with load._lock:
        return load.count_ok + load.count_failed


@pytest.mark.parametrize("mode", ["embedded", "daemon"])
def test_graceful_restarts_under_load_fail_no_request(fresh_server, mode):
    srv = fresh_server(BODIES[mode], name="gstress-" + mode)
    r = srv.get("/app")
    assert r.status == 200 and r.body == b"hello world", r
    budget = 60 + 4 * RESTARTS
    check = lambda status, body: status == 200 and body == b"hello world"  # noqa: E731
    keep = KeepAliveLoad(srv.port, "/app", clients=3, duration=budget,
                         timeout=20, keep_results=False)
    fresh = Load(srv.port, "/app", clients=3, duration=budget, timeout=20,
                 keepalive=False, check=check, keep_results=False)
    # uploads, one per connection: a request that meets RETRY is sent
    # again with its body
    posts = Load(srv.port, "/hash", clients=3, duration=budget, timeout=20,
                 keepalive=False, method="POST", body=UPLOAD,
                 check=lambda status, body: status == 200 and body == UPLOAD_ANSWER,
                 keep_results=False)
    loads = (keep, fresh, posts)
    mark = srv.log_mark()
    t0 = time.monotonic()
    for load in loads:
        load.start()
    restarts = 0
    try:
        for load in loads:
            load.wait_requests(BETWEEN, timeout=20)
        for restarts in range(1, RESTARTS + 1):
            srv.graceful()
            counts = [done(load) for load in loads]
            for load, n in zip(loads, counts):
                load.wait_requests(n + BETWEEN, timeout=30)
    finally:
        for load in loads:
            load.stop()
    elapsed = time.monotonic() - t0
    log = srv.log_since(mark).splitlines()
    tagged = [l for l in log if "[daemon-5xx " in l]
    # requests the Apache child sent again because a new connection was
    # dropped unaccepted (not failures: the request had not run)
    resent = [l for l in log if "[daemon-retry " in l]
    errors = [l for l in log if ":error]" in l or ":crit]" in l]
    total = sum(done(load) for load in loads)
    failed = sum(load.count_failed for load in loads)
    kinds = {name: load.failure_kinds
             for name, load in zip(("keep-alive", "one per connection", "uploads"), loads)
             if load.failure_kinds}
    print("graceful stress, %s mode: %d restarts in %.0f s, %d requests "
          "(%d keep-alive, %d one per connection, %d uploads), %d failed %r, "
          "%d keep-alive retries, %d [daemon-5xx] lines, %d [daemon-retry] lines"
          % (mode, restarts, elapsed, total, done(keep), done(fresh), done(posts),
             failed, kinds, keep.retried, len(tagged), len(resent)))
    assert restarts == RESTARTS
    assert failed == 0, (
        "%d of %d requests failed over %d graceful restarts (%s mode): %r\n"
        "[daemon-5xx] lines:\n%s\nother error lines:\n%s"
        % (failed, total, restarts, mode, kinds,
           "\n".join(tagged[:40]), "\n".join(errors[:40])))
    assert not tagged, "\n".join(tagged[:40])


# ------------------------------------------------ a connection dropped unaccepted

class DroppingDaemon(FakeDaemon):
    """A stand-in daemon that closes the first `drop` new connections after
    reading HELLO and ENVIRON, without a word (as a process that stopped
    accepting does to the connections left in its backlog), then answers
    200 "fake"."""

    drop = 0

    def _serve(self, conn):
        self.conns.append(conn)
        conn.settimeout(10)
        try:
            read_frame(conn)
            kind, _ = read_frame(conn)
            assert kind == ENVIRON
            if len(self.conns) <= self.drop:
                return
            conn.sendall(frame(READY, struct.pack(">I", 4242)) + ok_headers()
                         + frame(DATA, b"fake") + frame(END))
            self.stop.wait(0.3)
        except (OSError, EOFError, AssertionError):
            pass
        finally:
            conn.close()


def test_a_request_dropped_unaccepted_is_sent_again(fresh_server):
    """A new connection the daemon closes before READY carried a request
    that never ran: the Apache child sends it again on a new connection
    (logging `[daemon-retry closed]`), up to 4 times, then answers 502
    with a `[daemon-5xx closed]` line."""
    srv = fresh_server(FAKE_BODY, name="gstress-unaccepted")
    assert srv.get("/f").status == 200
    d = install_fake(srv, DroppingDaemon)
    try:
        d.drop = 2
        mark = srv.log_mark()
        r = srv.get("/f", headers={"Connection": "close"})
        assert (r.status, r.body) == (200, b"fake"), (r, srv.log_since(mark))
        log = srv.log_since(mark)
        assert log.count("[daemon-retry closed]") == 2, log
        assert "[daemon-5xx" not in log, log
        d.drop = 1000
        mark = srv.log_mark()
        r = srv.get("/f", headers={"Connection": "close"})
        assert r.status == 502, r
        log = srv.log_since(mark)
        assert log.count("[daemon-retry closed]") == 4, log
        assert re.search(r"\[daemon-5xx closed\] .*closed the connection before sending a "
                         r"complete response.*\(5 tries on new connections\)", log), log
    finally:
        d.close()


class CuttingDaemon(FakeDaemon):
    """A stand-in daemon that says READY with pid `pid`, starts a response
    and closes the connection in the middle of it."""

    pid = 0

    def _serve(self, conn):
        self.conns.append(conn)
        conn.settimeout(10)
        try:
            read_frame(conn)
            read_frame(conn)
            conn.sendall(frame(READY, struct.pack(">I", self.pid)) + ok_headers()
                         + frame(DATA, b"partial"))
        except (OSError, EOFError):
            pass
        finally:
            conn.close()


def test_a_cut_response_names_a_live_daemon_as_alive(fresh_server):
    """A daemon that closes the connection mid-response while its process
    is still running is not reported as having "exited or was killed"; one
    whose process is gone is."""
    srv = fresh_server(FAKE_BODY, name="gstress-cut")
    assert srv.get("/f").status == 200
    d = install_fake(srv, CuttingDaemon)
    try:
        d.pid = os.getpid()  # alive: this test's process
        mark = srv.log_mark()
        srv.raw(b"GET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        line = srv.wait_for_log(r"\[daemon-5xx closed\].*", since=mark).group(0)
        assert "(pid %d)" % d.pid in line and "while still running" in line, line
        gone = subprocess.Popen(["true"])
        gone.wait()
        d.pid = gone.pid  # exited and reaped
        mark = srv.log_mark()
        srv.raw(b"GET /f HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        line = srv.wait_for_log(r"\[daemon-5xx closed\].*", since=mark).group(0)
        assert "exited or was killed" in line, line
    finally:
        d.close()
