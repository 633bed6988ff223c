"""Daemon mode I/O: a client that goes away stops the iteration and close()
runs in the daemon; a 200 MiB upload and a 200 MiB download stream through
with bounded memory in the Apache child and the daemon; a wsgi.file_wrapper
response is handed to the Apache child as a file descriptor."""

import hashlib
import os
import socket
import uuid

import pytest

from harness.apache import (dechunk, parse_raw_response, recv_until,
                            recv_until_close, wait_for)
from harness.daemon import (SKIP_IN_DAEMON_RUN, kib, open_files,
                            proc_status, wait_event)

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BODY = r"""
# Apache makes its children dumpable only with a CoreDumpDirectory: then
# their own user may read their /proc/<pid>/fd without CAP_SYS_PTRACE
# (test_file_wrapper_is_passed_to_the_apache_child reads it as www-data).
CoreDumpDirectory @STATE@
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess io processes=1 threads=1
WSGIDaemonProcess big processes=1 threads=2
WSGIScriptAlias /stream @APPS@/stream.wsgi process-group=io
WSGIScriptAlias /io-hello @APPS@/hello.wsgi process-group=io
WSGIScriptAlias /hash @APPS@/hash.wsgi process-group=big
WSGIScriptAlias /dl @APPS@/daemon.wsgi process-group=big
WSGIScriptAlias /fw @APPS@/filewrapper.wsgi process-group=big
"""

MIB = 1 << 20
BIG = 200  # MiB
# how much more than its resident size before the transfer a process may
# reach (peak RSS, VmHWM) while moving BIG MiB through it
MEMORY_SLACK_MIB = 64


@pytest.fixture(scope="module")
def srv(server_factory):
    s = server_factory(BODY, name="d-io")
    assert s.get("/io-hello").status == 200
    assert s.get("/dl?op=ident").status == 200
    return s


def block(i):
    # the same blocks as daemon.wsgi's ?op=download
    return hashlib.sha256(b"block-%d" % i).digest() * 32768


# ------------------------------------------------------ client disconnect

@pytest.mark.parametrize("how", ["rst", "fin"])
def test_client_disconnect_runs_close_in_the_daemon(srv, how):
    """threads=1: the app streams for ever; the client goes away; the
    generator's finally and close() run in the daemon within seconds and
    the only thread serves the next request."""
    tok = uuid.uuid4().hex[:12]
    s = srv.open_socket()
    try:
        s.sendall(b"GET /stream?mode=forever&token=" + tok.encode() +
                  b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while len(got) < 20000:
            b = s.recv(65536)
            assert b, "server closed early"
            got += b
    finally:
        if how == "rst":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    wait_event(srv, "close " + tok, timeout=5)
    wait_event(srv, "finally %s generatorexit" % tok, timeout=5)
    r = srv.get("/io-hello", timeout=5)
    assert r.status == 200 and r.body == b"hello world"


# --------------------------------------------------------- big transfers

def _memory_snapshot(srv):
    pids = list(srv.mpm_children()) + list(srv.daemon_processes())
    assert pids
    return {p: kib(proc_status(p), "VmRSS") for p in pids}


def _assert_memory_bounded(srv, before, what):
    grown = {}
    for pid, rss in before.items():
        st = proc_status(pid)
        assert st, "process %d went away during the %s" % (pid, what)
        hwm = kib(st, "VmHWM")
        grown[pid] = (hwm - rss) // 1024
    worst = max(grown.values())
    assert worst < MEMORY_SLACK_MIB, (
        "peak RSS grew by up to %d MiB during a %d MiB %s: %r"
        % (worst, BIG, what, grown))


def _children_anon_kib(srv):
    return sum(kib(proc_status(p), "RssAnon") for p in srv.mpm_children())


def test_large_responses_leave_no_memory_in_each_apache_thread(srv):
    """The Apache child receives large response blocks into buffers its
    threads share (returned when Apache has sent them), not into memory
    each thread's malloc keeps: after 24 sequential 1 MiB downloads, which
    Apache hands to ever other threads of its child, the child holds less
    than 1 MiB more anonymous memory than after the first (about 0.3 MiB;
    when each thread kept what it had relayed, 1.8-2.8 MiB)."""
    def download():
        r = srv.get("/dl?op=download&mib=1", timeout=30)
        assert r.status == 200 and r.body == block(0), (r.status, len(r.body))
    download()
    before = _children_anon_kib(srv)
    for _ in range(24):
        download()
    grown = _children_anon_kib(srv) - before
    assert grown < 1024, "the Apache child grew by %d KiB" % grown


def test_large_streamed_upload(srv):
    before = _memory_snapshot(srv)
    h = hashlib.sha256()

    def body():
        for i in range(BIG):
            b = block(i)
            h.update(b)
            yield b

    conn = srv.connection(timeout=120)
    try:
        conn.request("POST", "/hash", body=body(),
                     headers={"Content-Length": str(BIG * MIB),
                              "Content-Type": "application/octet-stream"})
        r = conn.getresponse()
        answer = r.read()
    finally:
        conn.close()
    assert r.status == 200, answer[:300]
    assert answer.decode() == "%s %d" % (h.hexdigest(), BIG * MIB)
    _assert_memory_bounded(srv, before, "upload")


def test_large_streamed_download(srv):
    before = _memory_snapshot(srv)
    expected = hashlib.sha256()
    for i in range(BIG):
        expected.update(block(i))
    got = hashlib.sha256()
    total = 0
    conn = srv.connection(timeout=120)
    try:
        conn.request("GET", "/dl?op=download&mib=%d" % BIG)
        r = conn.getresponse()
        assert r.status == 200
        assert r.getheader("Content-Length") == str(BIG * MIB)
        while True:
            b = r.read(MIB)
            if not b:
                break
            got.update(b)
            total += len(b)
    finally:
        conn.close()
    assert total == BIG * MIB
    assert got.hexdigest() == expected.hexdigest()
    _assert_memory_bounded(srv, before, "download")


# ----------------------------------------------------------- file_wrapper

FW_SIZE = 16 * MIB


def test_file_wrapper_is_passed_to_the_apache_child(srv):
    """The daemon opens the file; while a slow client holds up the
    response, the Apache child has that file open (or mapped): the
    descriptor came over the socket instead of the bytes. The body is
    complete and the file-like's close() runs in the daemon. The child's
    descriptors are read as its own user (harness.daemon.open_files), which
    needs no CAP_SYS_PTRACE."""
    path = os.path.join(srv.state, "data.bin")
    data = os.urandom(FW_SIZE)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
    tok = uuid.uuid4().hex[:12]
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)  # a slow reader
    s.settimeout(30)
    try:
        s.connect(("127.0.0.1", srv.port))
        s.sendall(("GET /fw?kind=file&token=%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n" % tok).encode())
        head = recv_until(s, b"\r\n\r\n", timeout=10)
        assert head.startswith(b"HTTP/1.1 200"), head[:300]

        def child_has_file():
            return [p for p in srv.mpm_children() if path in open_files(p)]

        holders = wait_for(child_has_file, timeout=5, interval=0.1,
                           what="an Apache child holding %s" % path)
        assert holders
        rest = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(head + rest)
    if headers.get("transfer-encoding") == ["chunked"]:
        body = dechunk(body)
    assert len(body) == FW_SIZE
    assert body == data
    wait_event(srv, "fileclose " + tok)
