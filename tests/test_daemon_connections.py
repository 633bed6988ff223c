"""Connections between Apache children and daemons carry many requests: a
daemon that keeps a connection says DONE after a request, the Apache thread
sends its next request on it (no READY: the pid is known), and a daemon that
gives an idle connection up says RETRY, so a request that met it is sent
again on a new connection, body and all. A process whose threads are all
busy gives its idle connections up when the group has other processes, so
requests go to whichever process is free."""

import hashlib
import itertools
import json
import os
import select
import struct
import threading

import pytest

from harness.daemon import SKIP_IN_DAEMON_RUN
from test_hostile_response import (DATA, END, HEADERS, READY, FakeDaemon, decode_environ,
                                   frame, headers_payload, read_frame,
                                   serve_through_fake)

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BODY_KIND, BODY_END, READ, DONE, RETRY = 3, 4, 0x11, 0x19, 0x1A

FAKE = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess fake processes=1 threads=4
WSGIScriptAlias /f @APPS@/hello.wsgi process-group=fake
"""

REAL = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess spread processes=2 threads=2
WSGIDaemonProcess recycle processes=1 threads=2 maximum-requests=3
WSGIScriptAlias /slow @APPS@/slow.wsgi process-group=spread
WSGIScriptAlias /spread-hello @APPS@/hello.wsgi process-group=spread
WSGIScriptAlias /recycle @APPS@/daemon.wsgi process-group=recycle
"""


def response(text, ready):
    """One answer, as a daemon that keeps the connection sends it."""
    body = text.encode()
    head = frame(READY, struct.pack(">I", os.getpid())) if ready else b""
    return (head + frame(HEADERS, headers_payload(b"200 OK", [(b"Content-Type", b"text/plain")]))
            + frame(DATA, body) + frame(END) + frame(DONE))


class ReusingFake(FakeDaemon):
    """Stands in for the daemon on the group's socket, keeping connections:
    answers "conn=C req=N" (N-th request on connection C). For ?retry, a
    reused connection is given up with RETRY; on a new one the body is
    pulled with READ and its sha256 answered."""

    def __init__(self, path):
        self.ids = itertools.count()
        self.connections = 0
        self.retries = 0
        # While set, a kept connection is closed with the next request on
        # it unread (as by a daemon that went away), which resets it.
        self.vanish = False
        self.vanished = 0
        super().__init__(path)

    def _serve(self, conn):
        self.connections += 1
        self._serve_requests(conn, next(self.ids))

    def _serve_requests(self, conn, cid):
        conn.settimeout(10)
        try:
            for n in itertools.count():
                if n > 0:
                    select.select([conn], [], [], 10)
                    if self.vanish:
                        self.vanished += 1
                        return
                try:
                    read_frame(conn)  # HELLO
                except (EOFError, OSError):
                    return
                _, env = read_frame(conn)
                query = decode_environ(env).get("QUERY_STRING", "")
                if query == "retry":
                    if n > 0:
                        self.retries += 1
                        conn.sendall(frame(RETRY))
                        return
                    conn.sendall(frame(READY, struct.pack(">I", os.getpid()))
                                 + frame(READ, struct.pack(">I", 1 << 20)))
                    h = hashlib.sha256()
                    while True:
                        kind, chunk = read_frame(conn)
                        if kind == BODY_END:
                            break
                        assert kind == BODY_KIND, kind
                        h.update(chunk)
                        conn.sendall(frame(READ, struct.pack(">I", 1 << 20)))
                    conn.sendall(response(h.hexdigest(), ready=False))
                else:
                    conn.sendall(response("conn=%d req=%d" % (cid, n), ready=n == 0))
        except (EOFError, OSError, AssertionError):
            pass
        finally:
            conn.close()


@pytest.fixture(scope="module")
def fake(server_factory):
    yield from serve_through_fake(server_factory, FAKE, "reusefake", ReusingFake)


def test_a_connection_carries_the_next_requests(fake):
    srv, d = fake
    answers = []
    before = d.connections
    # The event MPM hands sequential requests to its 25 threads in turn:
    # each thread sends its next request on the connection it kept.
    for i in range(75):
        r = srv.get("/f?n=%d" % i)
        assert r.status == 200, r
        answers.append(r.body.decode())
    reqs = [int(a.split("req=")[1]) for a in answers]
    assert max(reqs) >= 2, answers
    assert d.connections - before <= 30, (d.connections - before, answers)


def test_retry_sends_the_request_again_with_its_body(fake):
    srv, d = fake
    for i in range(30):  # every Apache thread keeps a connection
        assert srv.get("/f?warm=%d" % i).status == 200
    before = d.retries
    for i in range(8):
        body = os.urandom(100_000 + i)
        r = srv.request("POST", "/f?retry", body=body)
        assert r.status == 200, r
        assert r.body.decode() == hashlib.sha256(body).hexdigest()
    assert d.retries > before, "no request met a RETRY: the test did not exercise it"


def test_kept_connection_reset_unread_is_retried_on_a_new_one(fake):
    # Kept connections are not probed before use: a daemon that closed one
    # with the request unread resets it, and the request (never run) goes
    # again on a new connection, answered once.
    srv, d = fake
    for i in range(30):  # every Apache thread keeps a connection
        assert srv.get("/f?warm=%d" % i).status == 200
    before = d.vanished
    d.vanish = True
    try:
        for i in range(30):
            r = srv.get("/f?v=%d" % i)
            assert r.status == 200, r
            assert r.body.decode().endswith("req=0"), r.body
    finally:
        d.vanish = False
    assert d.vanished > before, "no request met a reset connection"
    assert "daemon-5xx" not in srv.error_log(), srv.error_log()[-2000:]


def slow_answers(srv, n, seconds):
    out, errors = [None] * n, []

    def one(i):
        try:
            r = srv.get("/slow?%s" % seconds, timeout=30)
            out[i] = (r.status, r.body.decode())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return out


@pytest.fixture(scope="module")
def real(server_factory):
    s = server_factory(REAL, name="reusereal")
    assert s.get("/spread-hello").status == 200
    return s


def test_busy_process_lets_requests_go_to_a_free_one(real):
    # Apache threads keep connections to either process of the group.
    for _ in range(30):
        assert real.get("/spread-hello").status == 200
    # Four requests for four threads (two processes of two): all four run
    # at the same time only if none waits behind a busy process.
    answers = slow_answers(real, 4, 1.0)
    assert all(a and a[0] == 200 for a in answers), answers
    runs = [a[1].split() for a in answers]
    pids = {r[0] for r in runs}
    starts, ends = [float(r[2]) for r in runs], [float(r[3]) for r in runs]
    assert len(pids) == 2, runs
    assert max(starts) < min(ends), "a request waited for a busy process: %r" % runs


def test_recycling_with_kept_connections_loses_no_request(real):
    pids = set()
    for i in range(20):
        r = real.get("/recycle?op=ident")
        assert r.status == 200, (i, r)
        pids.add(json.loads(r.body)["pid"])
    # maximum-requests=3: the process was replaced several times, and each
    # time its idle connections were given up without losing a request.
    assert len(pids) >= 5, pids
    log = real.log_since(0)
    assert "closed the connection before sending" not in log, log[-3000:]
