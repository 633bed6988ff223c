"""Large response blocks, which embedded mode hands to Apache by reference
(no copy) instead of copying: they must come out intact when a filter
transforms them (mod_deflate), when Apache keeps them past the handler
(pipelined requests on a keep-alive connection, a client that reads
slowly: the core output filter sets them aside), and through every way an
application produces them."""

import gzip
import hashlib
import http.client
import socket
import zlib

import pytest

BODY = r"""
WSGIScriptAlias /big @APPS@/big_output.wsgi
WSGIScriptAlias /zbig @APPS@/big_output.wsgi
<Location /zbig>
    AddOutputFilterByType DEFLATE application/octet-stream
</Location>
"""

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="large_output")


def expected(size, block):
    """The body big_output.wsgi produces (its sha256 and length)."""
    h = hashlib.sha256()
    i = 0
    while size > 0:
        n = min(block, size)
        h.update(bytes([65 + i % 26]) * n)
        size -= n
        i += 1
    return h.hexdigest()


class _Shared:
    """Lets several HTTPResponse objects read one buffered stream in turn
    (the responses to pipelined requests)."""

    def __init__(self, fp):
        self.fp = fp

    def makefile(self, *args, **kw):
        return self

    def close(self):
        pass    # a response closes its file when read: the next one needs it

    def __getattr__(self, name):
        return getattr(self.fp, name)


def read_responses(sock, count):
    fp = sock.makefile("rb")
    out = []
    for _ in range(count):
        r = http.client.HTTPResponse(_Shared(fp))
        r.begin()
        out.append((r.status, r.getheader("Content-Encoding"), r.read()))
    return out


@pytest.mark.parametrize("how", ["gen", "list", "write"])
@pytest.mark.parametrize("block", [4096, 65536, 300000])
def test_large_blocks_arrive_intact(srv, how, block):
    size = 10 * MIB if block >= 65536 else MIB
    r = srv.get("/big?how=%s&size=%d&block=%d" % (how, size, block), timeout=60)
    assert r.status == 200
    assert len(r.body) == size
    assert hashlib.sha256(r.body).hexdigest() == expected(size, block)


@pytest.mark.parametrize("how", ["gen", "list"])
def test_10mib_through_mod_deflate(srv, how):
    size = 10 * MIB
    r = srv.get("/zbig?how=%s&size=%d&block=65536" % (how, size),
                headers={"Accept-Encoding": "gzip"}, timeout=60)
    assert r.status == 200
    assert r.header("Content-Encoding") == "gzip"
    # Letters in long runs compress well: the filter really did its work.
    assert len(r.body) < size // 20
    body = gzip.decompress(r.body)
    assert len(body) == size
    assert hashlib.sha256(body).hexdigest() == expected(size, 65536)


@pytest.mark.parametrize("how", ["gen", "list"])
def test_pipelined_keepalive_requests(srv, how):
    """Three requests sent at once on one connection, read only after all
    were sent: the responses wait in Apache's buffers (set aside) while the
    next request runs."""
    # Daemon mode, list: the first response is handed to a spool writer
    # (the client reads only after sending all three); DONE must not go
    # through the spool, which closes the connection, or the second request
    # meets that close (a 502).
    sizes = [10 * MIB, 3 * MIB + 12345, 200000]
    s = srv.open_socket(timeout=60)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        reqs = b""
        for i, size in enumerate(sizes):
            last = i + 1 == len(sizes)
            reqs += (b"GET /big?how=%s&size=%d&block=65536 HTTP/1.1\r\n"
                     b"Host: 127.0.0.1\r\nConnection: %s\r\n\r\n" % (
                         how.encode(), size, b"close" if last else b"keep-alive"))
        s.sendall(reqs)
        responses = read_responses(s, len(sizes))
    finally:
        s.close()
    for (status, _, body), size in zip(responses, sizes):
        assert status == 200
        assert len(body) == size
        assert hashlib.sha256(body).hexdigest() == expected(size, 65536)


def test_pipelined_deflate(srv):
    """mod_deflate and pipelining together: two gzip responses on one
    connection, the second request sent before the first response is read."""
    s = srv.open_socket(timeout=60)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        one = (b"GET /zbig?how=gen&size=%d&block=65536 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Accept-Encoding: gzip\r\n" % (4 * MIB))
        s.sendall(one + b"\r\n" + one + b"Connection: close\r\n\r\n")
        responses = read_responses(s, 2)
    finally:
        s.close()
    for status, encoding, body in responses:
        assert status == 200
        assert encoding == "gzip"
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        assert hashlib.sha256(body).hexdigest() == expected(4 * MIB, 65536)
