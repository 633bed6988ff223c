"""wsgi.input: the read methods, EOF, Expect: 100-continue, big bodies."""

import hashlib
import json
import os
import socket
import time

import pytest

from harness.apache import IMPL, TEST_MODE, parse_raw_response, recv_until, recv_until_close

BODY = r"""
WSGIScriptAlias /echo @APPS@/echo.wsgi
WSGIScriptAlias /hash @APPS@/hash.wsgi
WSGIScriptAlias /hello @APPS@/hello.wsgi
WSGIScriptAlias /env @APPS@/environ.wsgi
"""

TEXT = b"line1\nline2 is longer\n\nline4 no newline"


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="input")


def echo(srv, mode, body=TEXT, n=None, timeout=10):
    q = "/echo?mode=%s" % mode + ("&n=%d" % n if n is not None else "")
    r = srv.post(q, body, timeout=timeout)
    assert r.status == 200, r
    out = r.json()
    assert out["types"] == ["bytes"]
    return out


def test_read_n_chunks(srv):
    out = echo(srv, "readn", n=4)
    calls = out["calls"]
    assert calls[-1] == ""
    assert all(0 < len(c) <= 4 for c in calls[:-1])
    assert "".join(calls).encode("latin-1") == TEXT
    assert out["after"] == [""] * 6


def test_read_n_larger_than_body(srv):
    out = echo(srv, "readn", n=1 << 20)
    assert "".join(out["calls"]).encode("latin-1") == TEXT
    assert out["calls"][-1] == ""


def test_read_all(srv):
    out = echo(srv, "readall")
    assert out["calls"] == [TEXT.decode()]
    assert out["after"] == [""] * 6


def test_readline_with_size(srv):
    out = echo(srv, "readline", n=3)
    assert out["calls"] == ["lin", "e1\n", "lin", "e2 ", "is ", "lon", "ger",
                            "\n", "\n", "lin", "e4 ", "no ", "new", "lin", "e",
                            ""]


def test_readline_without_size(srv):
    out = echo(srv, "readline")
    assert out["calls"] == ["line1\n", "line2 is longer\n", "\n",
                            "line4 no newline", ""]
    assert out["after"] == [""] * 6


def test_readlines_with_hint(srv):
    out = echo(srv, "readlines", n=8)
    # whole lines until the total reaches the hint; the rest stays readable
    assert out["calls"] == ["line1\n", "line2 is longer\n"]
    assert out["after"][0] == "\nline4 no newline"
    assert out["after"][1:] == [""] * 5


def test_readlines_without_hint(srv):
    out = echo(srv, "readlines")
    assert out["calls"] == ["line1\n", "line2 is longer\n", "\n",
                            "line4 no newline"]


def test_iteration(srv):
    out = echo(srv, "iter")
    assert out["calls"] == ["line1\n", "line2 is longer\n", "\n",
                            "line4 no newline"]
    assert out["after"] == [""] * 6


def test_reading_past_content_length_does_not_block(srv):
    t0 = time.monotonic()
    out = echo(srv, "over", timeout=5)
    assert out["calls"] == [TEXT.decode()]
    assert time.monotonic() - t0 < 3


def test_empty_body(srv):
    out = echo(srv, "readall", body=b"")
    assert out["calls"] == [""]
    assert out["after"] == [""] * 6


def test_get_without_body_reads_empty(srv):
    r = srv.get("/echo?mode=readn&n=10", timeout=5)
    assert r.status == 200
    assert r.json()["calls"] == [""]


def test_binary_body_roundtrip(srv):
    body = bytes(range(256)) * 64
    out = echo(srv, "readn", body=body, n=1000)
    assert "".join(out["calls"]).encode("latin-1") == body


def test_large_upload_hashed(srv):
    body = hashlib.sha256(b"seed").digest() * (5 * 1024 * 1024 // 32)
    assert len(body) == 5 * 1024 * 1024
    r = srv.post("/hash", body, timeout=30)
    assert r.status == 200
    digest, length = r.text.split()
    assert int(length) == len(body)
    assert digest == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("n", [65536, 100000, 1 << 20])
def test_large_reads_are_exact(srv, n):
    """read(n) of 64 KiB or more goes straight into the bytes object it
    returns: every byte in place, the last read short, then EOF."""
    body = os.urandom(3 * 1024 * 1024 + 77)
    out = echo(srv, "readn", body=body, n=n, timeout=60)
    calls = [c.encode("latin-1") for c in out["calls"]]
    assert b"".join(calls) == body
    assert all(len(c) == n for c in calls[:-2])
    assert calls[-1] == b""
    assert out["after"] == [""] * 6


@pytest.mark.parametrize("n", [65536, 300000])
def test_large_reads_interleaved_with_output_and_log(srv, n):
    """read(n) of a large block, then a wsgi.errors line and a write() before
    the next read (in daemon mode the rest of the Apache child's body frame
    is still unread when the daemon sends): every block arrives whole, in
    order, and so does the output."""
    body = os.urandom(1024 * 1024 + 5)
    r = srv.post("/echo?mode=interleave&n=%d" % n, body, timeout=60)
    assert r.status == 200, r
    lines = r.text.split("\n")
    blocks = [body[i:i + n] for i in range(0, len(body), n)]
    assert lines[:-2] == [hashlib.sha256(b).hexdigest() for b in blocks]
    assert lines[-2] == "whole " + hashlib.sha256(body).hexdigest()


def test_one_large_read_then_the_rest_unread_on_a_kept_connection(srv):
    """The app reads 64 KiB of a 1 MiB body and answers: the answer is
    complete, and the next requests on the same client connection (a new
    daemon connection, in daemon mode, when the old one still held body
    bytes) are served."""
    conn = srv.connection()
    try:
        for i in range(3):
            body = os.urandom(1024 * 1024)
            conn.request("POST", "/echo?mode=first&n=65536", body=body,
                         headers={"Content-Type": "application/octet-stream"})
            r = conn.getresponse()
            assert r.status == 200
            assert r.read() == b"65536 " + hashlib.sha256(body[:65536]).hexdigest().encode()
        conn.request("GET", "/env/after")
        r = conn.getresponse()
        assert r.status == 200
        assert json.loads(r.read())["environ"]["PATH_INFO"] == "/after"
    finally:
        conn.close()


def _expect_headers(path, length):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: text/plain\r\nContent-Length: " + str(length).encode() +
            b"\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")


def test_expect_100_continue_sent_when_app_reads(srv):
    s = srv.open_socket(timeout=5)
    try:
        s.sendall(_expect_headers(b"/echo?mode=readall", 5))
        interim = recv_until(s, b"\r\n\r\n", timeout=5)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        s.sendall(b"hello")
        rest = recv_until_close(s)
    finally:
        s.close()
    final = interim.split(b"\r\n\r\n", 1)[1] + rest
    status, headers, body = parse_raw_response(final)
    assert status.startswith("HTTP/1.1 200"), status
    assert json.loads(body)["data"] == "hello"


@pytest.mark.skipif(IMPL == "rs" and TEST_MODE == "daemon",
                    reason="buffered daemon mode: Apache answers the 100 before the app runs "
                           "(test_hostile_framing.py::test_expect_continue_by_mode)")
def test_no_100_continue_when_app_does_not_read(srv):
    s = srv.open_socket(timeout=5)
    try:
        s.sendall(_expect_headers(b"/hello", 5))
        data = recv_until_close(s)
    finally:
        s.close()
    assert b"100 Continue" not in data
    status, headers, body = parse_raw_response(data)
    assert status.startswith("HTTP/1.1 200")
    assert body == b"hello world"


def test_unread_body_then_next_request_on_same_connection(srv):
    """The app ignores the body; the next request on the connection must be
    parsed cleanly (the body must not be taken for a request)."""
    conn = srv.connection()
    try:
        conn.request("POST", "/hello", body=b"GET /env HTTP/1.1\r\nX: y\r\n\r\n",
                     headers={"Content-Type": "text/plain"})
        r = conn.getresponse()
        assert r.read() == b"hello world"
        conn.request("GET", "/env/second")
        r = conn.getresponse()
        e = json.loads(r.read())["environ"]
        assert r.status == 200
        assert e["PATH_INFO"] == "/second"
        assert e["REQUEST_METHOD"] == "GET"
    finally:
        conn.close()
