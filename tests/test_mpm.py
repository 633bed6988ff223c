"""Core checks under each MPM, and parallelism."""

import hashlib
import os
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness import apache as harness
from harness.apache import (MPMS, recv_until, recv_until_close, start_server,
                            wait_for)

BODY = r"""
WSGIScriptAlias /env @APPS@/environ.wsgi
WSGIScriptAlias /hash @APPS@/hash.wsgi
WSGIScriptAlias /slow @APPS@/slow.wsgi
WSGIScriptAlias /stream @APPS@/stream.wsgi
WSGIScriptAlias /app-error @APPS@/app_error.wsgi
WSGIScriptAlias /hello @APPS@/hello.wsgi
"""


@pytest.fixture(scope="module", params=MPMS)
def srv(request):
    return start_server(request, BODY, mpm=request.param,
                        name="mpm-" + request.param)


def events(srv):
    try:
        with open(os.path.join(srv.state, "events.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def test_hello(srv):
    r = srv.get("/hello")
    assert r.status == 200 and r.body == b"hello world"


def test_multithread_flags(srv):
    e = srv.get("/env").json()["environ"]
    if srv.daemon_mode:
        # the daemon group's processes=/threads= decide, not the MPM
        assert e["wsgi.multithread"] == str(harness.DAEMON_THREADS > 1)
        assert e["wsgi.multiprocess"] == str(harness.DAEMON_PROCESSES > 1)
    elif srv.mpm == "prefork":
        assert e["wsgi.multithread"] == "False"
        assert e["wsgi.multiprocess"] == "True"
    else:
        assert e["wsgi.multithread"] == "True"


def test_upload(srv):
    body = os.urandom(1024 * 1024 + 7)
    r = srv.post("/hash", body, timeout=30)
    assert r.text == "%s %d" % (hashlib.sha256(body).hexdigest(), len(body))


def test_streaming_is_not_buffered(srv):
    tok = uuid.uuid4().hex[:12]
    s = srv.open_socket()
    try:
        s.sendall(b"GET /stream?mode=release&token=" + tok.encode() +
                  b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        first = recv_until(s, ("first-block %s\n" % tok).encode(), timeout=5)
        open(os.path.join(srv.state, "release-" + tok), "w").close()
        rest = recv_until_close(s)
    finally:
        s.close()
    assert b"second-block released" in first + rest


def test_close_on_client_disconnect(srv):
    tok = uuid.uuid4().hex[:12]
    s = srv.open_socket()
    try:
        s.sendall(b"GET /stream?mode=forever&token=" + tok.encode() +
                  b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        recv_until(s, b"x" * 1000)
    finally:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    wait_for(lambda: "finally %s generatorexit" % tok in events(srv),
             timeout=5, what="generator finally after disconnect")
    assert "close " + tok in events(srv)


def test_error_then_ok(srv):
    mark = srv.log_mark()
    assert srv.get("/app-error?mpm").status == 500
    srv.wait_for_log(r"RuntimeError: app-failure-mpm", since=mark)
    assert srv.get("/hello").status == 200


def _parallel(srv, n, seconds):
    def one(_):
        r = srv.get("/slow?%s" % seconds, timeout=30)
        assert r.status == 200
        pid, tid, start, end = r.text.split()
        return int(pid), int(tid), float(start), float(end)

    # warm up: the script is loaded once per process
    srv.get("/slow?0")
    t0 = time.monotonic()
    with ThreadPoolExecutor(max_workers=n) as ex:
        results = list(ex.map(one, range(n)))
    return time.monotonic() - t0, results


def test_concurrent_requests_run_in_parallel(srv):
    if srv.mpm == "prefork":
        n, limit = 4, 1.6   # 4 processes; serial would take 2.0 s
    else:
        n, limit = 20, 5.0  # serial would take 10 s
    wall, results = _parallel(srv, n, 0.5)
    assert wall < limit, "%d requests of 0.5 s took %.2f s" % (n, wall)
    workers = {(pid, tid) for pid, tid, _, _ in results}
    assert len(workers) > 1
    # at one instant, several requests were inside the app together
    starts = sorted(s for _, _, s, _ in results)
    ends = sorted(e for _, _, _, e in results)
    overlap = sum(1 for s in starts if s < ends[0])
    assert overlap >= min(n, 4), (starts, ends)
