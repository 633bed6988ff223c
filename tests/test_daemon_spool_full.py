"""A full TMPDIR must not cut daemon-mode responses (issue #18).

When the Apache child takes nothing for 200 ms, the daemon hands the rest
of the response to a spool writer (1 MiB in memory, then a temporary file
in the daemon's TMPDIR). With TMPDIR on a full filesystem the spool cannot
take more: the daemon thread then waits for the client itself, so a slow
client still gets the whole response, and the daemon logs what happened
once per process. An upload that cannot be spooled in the Apache child
gets a clean 500.

The full TMPDIR is a 64 KiB tmpfs filled up, which needs mount(2)
privileges (CAP_SYS_ADMIN): without them the tests are skipped.
"""

import hashlib
import os
import random
import re
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from harness.apache import recv_until
from harness.daemon import SKIP_IN_DAEMON_RUN

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess spool processes=1 threads=2
WSGIScriptAlias /p @APPS@/pattern.wsgi process-group=spool
WSGIScriptAlias /hash @APPS@/hash.wsgi process-group=spool
"""

MIB = 1 << 20
SIZE_MIB = 24
SPOOL_LINE = re.compile(r"daemon process 'spool' \(pid \d+\): cannot .*stalled response.*"
                        r"the thread waits for the client instead")


def expected(mib, seed):
    rnd = random.Random(seed)
    h = hashlib.sha256()
    for _ in range(mib * 16):
        h.update(rnd.randbytes(64 * 1024))
    return h.hexdigest()


@pytest.fixture(scope="module")
def full_tmpdir():
    """A tmpfs of 64 KiB, world-writable, filled until ENOSPC."""
    d = tempfile.mkdtemp(prefix="mwrs-full-tmp-")
    os.chmod(d, 0o1777)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=1777", "tmpfs", d],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if p.returncode != 0:
        os.rmdir(d)
        pytest.skip("cannot mount a small tmpfs to fill up (needs CAP_SYS_ADMIN): %s"
                    % p.stdout.decode(errors="replace").strip())
    try:
        with open(os.path.join(d, "filler"), "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"x" * 4096)
            except OSError as e:
                assert e.errno == 28, e  # ENOSPC
        yield d
    finally:
        if subprocess.run(["umount", d]).returncode != 0:
            subprocess.run(["umount", "-l", d])
        os.rmdir(d)


@pytest.fixture(scope="module")
def srv(full_tmpdir, server_factory):
    # (full_tmpdir first: it is torn down after the server is stopped)
    # The daemon inherits Apache's environment: its TMPDIR is the full one
    # (so is the Apache children's, for request bodies).
    old = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = full_tmpdir
    try:
        return server_factory(BODY, name="d-spoolfull")
    finally:
        if old is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = old


def slow_download(srv, mib, seed, pauses=(0.5, 0.4, 0.3, 0.3)):
    """GET a `mib` MiB pattern, pausing before reading on (so the daemon
    stalls and spools); returns (status line, length, sha256)."""
    s = srv.open_socket(timeout=30)
    # a small receive buffer so the pauses stall the Apache child at once
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    try:
        s.sendall(b"GET /p?mb=%d&seed=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  % (mib, seed))
        head = recv_until(s, b"\r\n\r\n", timeout=30)
        header, body = head.split(b"\r\n\r\n", 1)
        h = hashlib.sha256(body)
        got = len(body)
        for pause in pauses:
            time.sleep(pause)
            chunk = s.recv(256 * 1024)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
        while True:
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            h.update(chunk)
            got += len(chunk)
        return header.split(b"\r\n", 1)[0], got, h.hexdigest()
    finally:
        s.close()


def test_full_tmpdir_does_not_cut_a_slow_response(srv):
    """Two slow readers of 24 MiB each (one after the other, then two at
    once): every body arrives whole (length and sha256), the daemon logs
    the spool failure once, and no line claims the daemon died."""
    mark = srv.log_mark()
    want = expected(SIZE_MIB, 7)
    status, got, digest = slow_download(srv, SIZE_MIB, 7)
    assert status.startswith(b"HTTP/1.1 200"), status
    assert (got, digest) == (SIZE_MIB * MIB, want), (
        "response cut or corrupted: %d of %d bytes\n%s"
        % (got, SIZE_MIB * MIB, srv.log_since(mark)))
    # two at once, on the group's two threads
    results = [None, None]

    def run(i):
        results[i] = slow_download(srv, SIZE_MIB, 7)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for r in results:
        assert r is not None and r[0].startswith(b"HTTP/1.1 200"), r
        assert r[1:] == (SIZE_MIB * MIB, want), (r[1], srv.log_since(mark))
    log = srv.log_since(mark)
    lines = [l for l in log.splitlines() if SPOOL_LINE.search(l)]
    assert len(lines) == 1, log
    assert "No space left on device" in lines[0], lines[0]
    assert "exited or was killed" not in log, log
    assert "closed the connection before sending a complete response" not in log, log


def test_full_tmpdir_upload_gets_a_clean_500(srv):
    """A 3 MiB upload is spooled by the Apache child (over 1 MiB): with
    TMPDIR full it gets a 500 and a log line naming the temporary file,
    and the next request is served."""
    mark = srv.log_mark()
    r = srv.post("/hash", b"u" * (3 * MIB), timeout=30)
    assert r.status == 500, r
    log = srv.log_since(mark)
    assert "No space left on device" in log, log
    r = srv.post("/hash", b"small", timeout=10)
    assert r.status == 200 and r.body.endswith(b" 5"), r
