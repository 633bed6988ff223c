"""wsgi.file_wrapper: real files (sendfile path), offsets, Content-Length,
non-file objects, close() of the file-like."""

import os
import random
import uuid

import pytest

from harness.apache import (dechunk, parse_raw_response, recv_until_close,
                            wait_for)

BODY = r"""
WSGIScriptAlias /fw @APPS@/filewrapper.wsgi
WSGIScriptAlias /fw-sendfile @APPS@/filewrapper.wsgi
<Location /fw-sendfile>
    WSGIEnableSendfile On
</Location>
WSGIScriptAlias /hello @APPS@/hello.wsgi
"""

SIZE = 256 * 1024 + 123


@pytest.fixture(scope="module")
def srv(server_factory):
    s = server_factory(BODY, name="filewrapper")
    s.data = random.Random(1234).randbytes(SIZE)
    path = os.path.join(s.state, "data.bin")
    with open(path, "wb") as f:
        f.write(s.data)
    os.chmod(path, 0o644)
    return s


def fetch(srv, query, prefix="/fw"):
    """Returns (status code, headers, body) read until the server closes."""
    s = srv.open_socket()
    try:
        s.sendall(("GET %s?%s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n" % (prefix, query)).encode())
        raw = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(raw)
    if headers.get("transfer-encoding") == ["chunked"]:
        body = dechunk(body)
    return int(status.split()[1]), headers, body


def events(srv):
    try:
        with open(os.path.join(srv.state, "events.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


@pytest.fixture(params=["/fw", "/fw-sendfile"], ids=["default", "sendfile"])
def prefix(request):
    return request.param


@pytest.mark.parametrize("kind", ["file", "bytesio"])
def test_whole_file(srv, prefix, kind):
    code, headers, body = fetch(srv, "kind=" + kind, prefix)
    assert code == 200
    assert len(body) == SIZE
    assert body == srv.data


@pytest.mark.parametrize("kind", ["file", "bytesio"])
def test_from_seeked_offset(srv, prefix, kind):
    code, headers, body = fetch(srv, "kind=%s&offset=1000" % kind, prefix)
    assert code == 200
    assert body == srv.data[1000:]


@pytest.mark.parametrize("kind", ["file", "bytesio"])
def test_content_length_smaller_than_file(srv, prefix, kind):
    code, headers, body = fetch(srv, "kind=%s&offset=1000&cl=5000" % kind, prefix)
    assert code == 200
    assert headers["content-length"] == ["5000"]
    assert body == srv.data[1000:6000]


@pytest.mark.parametrize("kind", ["file", "bytesio"])
def test_content_length_exact(srv, prefix, kind):
    code, headers, body = fetch(srv, "kind=%s&cl=%d" % (kind, SIZE), prefix)
    assert code == 200
    assert body == srv.data


@pytest.mark.parametrize("kind", ["file", "bytesio"])
def test_filelike_close_called(srv, prefix, kind):
    tok = uuid.uuid4().hex[:12]
    code, _, body = fetch(srv, "kind=%s&token=%s" % (kind, tok), prefix)
    assert code == 200 and body == srv.data
    wait_for(lambda: "fileclose " + tok in events(srv), timeout=5,
             what="close() of the %s object" % kind)


def test_head_of_file_wrapper(srv):
    s = srv.open_socket()
    try:
        s.sendall(b"HEAD /fw?kind=file&cl=100 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Connection: close\r\n\r\n")
        raw = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(raw)
    assert status.split()[1] == "200"
    assert body == b""


def test_keep_alive_after_file_wrapper(srv):
    conn = srv.connection()
    try:
        conn.request("GET", "/fw?kind=file&offset=10&cl=100")
        r = conn.getresponse()
        assert r.read() == srv.data[10:110]
        conn.request("GET", "/hello")
        r = conn.getresponse()
        assert r.read() == b"hello world"
    finally:
        conn.close()
