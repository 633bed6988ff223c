"""Request bodies, streaming, errors, static files and HEAD, in embedded
and in daemon mode."""

import hashlib
import os
import time
import uuid


from dockerized_client import wait_for_log


# A body over 1 MiB is spooled to a temporary file in daemon mode; container
# filesystems may refuse O_TMPFILE, so this checks the fallback works there.
def test_post_body_echo(server):
    body = os.urandom(1024 * 1024 + 17)
    r = server.post("/echo?block=65536", body,
                    headers={"Content-Type": "application/x-test-bytes"})
    assert r.status == 200, r
    assert r.headers["X-Body-Length"] == str(len(body))
    assert r.headers["X-Content-Length-Seen"] == str(len(body))
    assert r.headers["X-Body-SHA256"] == hashlib.sha256(body).hexdigest()
    assert r.headers["Content-Type"] == "application/x-test-bytes"
    assert r.body == body


def test_post_body_echo_small_reads(server):
    """300 KiB read in 4 KiB blocks (stays in memory on the way to a daemon)."""
    body = os.urandom(300 * 1024 + 5)
    r = server.post("/echo?block=4096", body)
    assert r.status == 200, r
    assert r.headers["X-Body-SHA256"] == hashlib.sha256(body).hexdigest()
    assert r.body == body


def test_post_empty_body(server):
    r = server.post("/echo", b"")
    assert r.status == 200, r
    assert r.headers["X-Body-Length"] == "0"
    assert r.body == b""


def test_streaming_blocks_arrive_as_produced(server):
    n, delay = 4, 0.4
    conn = server.connection()
    try:
        t0 = time.monotonic()
        conn.request("GET", "/stream?n=%d&delay=%s" % (n, delay))
        r = conn.getresponse()
        assert r.status == 200
        # No Content-Length from the app: HTTP/1.1 chunked encoding.
        assert r.getheader("Content-Length") is None
        assert r.getheader("Transfer-Encoding") == "chunked"
        lines, times = [], []
        while True:
            line = r.readline()
            if not line:
                break
            lines.append(line)
            times.append(time.monotonic() - t0)
    finally:
        conn.close()
    assert lines == [b"block %d of %d\n" % (i + 1, n) for i in range(n)]
    total = times[-1]
    assert total >= (n - 1) * delay * 0.9
    # The first block is on the wire long before the last one is produced.
    assert times[0] < total - (n - 2) * delay, times
    # And the blocks come apart, one per delay (not all at the end).
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) > delay * 0.5, gaps


def test_exception_gives_500_and_logs_traceback(server):
    token = uuid.uuid4().hex
    r = server.get("/error?token=" + token)
    assert r.status == 500, r
    needle = "docker-test-failure-" + token
    assert needle not in r.text  # the traceback goes to the log, not the client
    log = wait_for_log(needle)
    assert needle in log, "traceback not in the error log"
    assert "RuntimeError" in log


def test_exception_after_first_block_cuts_the_response(server):
    token = uuid.uuid4().hex
    conn = server.connection()
    try:
        conn.request("GET", "/error?when=after&token=" + token)
        r = conn.getresponse()
        # Headers were sent with the first block: too late for a 500.
        assert r.status == 200
        try:
            data = r.read()
        except Exception as e:  # IncompleteRead: the chunked body is cut
            data = getattr(e, "partial", b"")
        else:
            raise AssertionError("a failed response must not end as complete: %r" % data)
        assert data.startswith(b"first block")
    finally:
        conn.close()
    assert "docker-test-failure-" + token in wait_for_log("docker-test-failure-" + token)


def test_static_file_and_404(server):
    r = server.get("/static/hello.txt")
    assert r.status == 200, r
    assert r.body == b"static file served by Apache, not by WSGI\n"
    r = server.get("/static/missing.txt")
    assert r.status == 404, r
    r = server.get("/no-such-mount/x")
    assert r.status == 404, r


def test_head(server):
    g = server.get("/env")
    r = server.head("/env")
    assert r.status == 200, r
    assert r.body == b""
    assert r.headers["Content-Type"] == "application/json"
    # The app ran (its header is there) and declared a length.
    assert r.headers["X-Request-Method"] in ("HEAD", "GET")
    assert r.headers["X-Pid"]
    assert int(r.headers["Content-Length"]) > 0
    assert g.status == 200


def test_head_on_streamed_response(server):
    r = server.head("/stream?n=2&delay=0")
    assert r.status == 200, r
    assert r.body == b""
