"""Request framing, in embedded and daemon mode (WSGIBufferRequestBody On
and Off): bad Content-Length values, Content-Length with chunked, broken
chunked encodings, LimitRequestBody → 413, an unread body followed by a
pipelined request, and pipelined [bad, good] where the good request must
not run once the bad one closed the connection.

Every request that reaches tests/apps/faults.wsgi with ?read=1&tag=T
records "enter T" in the state dir, so a test can prove that a request
smuggled in a body, or sent after a rejected one, never ran.
"""

import json
import os
import socket

import pytest

from harness.apache import dechunk, parse_raw_response, recv_until_close

pytestmark = [
    pytest.mark.skipif(os.environ.get("MOD_WSGI_TEST_MODE") == "daemon",
                       reason="covers embedded and daemon mode itself"),
    # rs_only: WSGIBufferRequestBody (the 'o' mounts) does not exist in mod_wsgi 4.9.4
    pytest.mark.rs_only,
]

# Mount points: e = embedded, d = daemon (buffered), o = daemon with
# WSGIBufferRequestBody Off.
MODES = ["e", "d", "o"]


def config():
    lines = ["WSGISocketPrefix @ROOT@/run/wsgi",
             "WSGIDaemonProcess fr processes=1 threads=6",
             "WSGIChunkedRequest On"]
    for m in MODES:
        pg = "" if m == "e" else " process-group=fr"
        for name, app in (("rec", "faults"), ("hash", "hash"), ("echo", "echo"),
                          ("hello", "hello"), ("limit", "hash")):
            lines.append("WSGIScriptAlias /%s/%s @APPS@/%s.wsgi%s" % (m, name, app, pg))
        lines += ["<Location /%s/limit>" % m, "    LimitRequestBody 1000", "</Location>"]
        if m == "o":
            lines += ["<Location /o>", "    WSGIBufferRequestBody Off", "</Location>"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(config(), name="framing")


def events(srv):
    try:
        with open(os.path.join(srv.state, "events.log")) as f:
            return f.read()
    except FileNotFoundError:
        return ""


def exchange(srv, data, shutdown=False, timeout=10):
    s = srv.open_socket(timeout=timeout)
    try:
        s.sendall(data)
        if shutdown:
            s.shutdown(socket.SHUT_WR)
        return recv_until_close(s)
    finally:
        s.close()


def responses(raw):
    """Splits pipelined responses using their own framing; returns
    [(status, body)]. Raises if something that is not a response follows."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        assert sep and head.startswith(b"HTTP/1.1 "), ("not a response", raw[:200])
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(b":")
            headers[k.strip().lower()] = v.strip()
        if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
            body = b""
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                n = int(size_line.split(b";")[0], 16)
                if n == 0:
                    rest = rest.partition(b"\r\n")[2]
                    break
                body += rest[:n]
                rest = rest[n + 2:]
        elif b"content-length" in headers:
            n = int(headers[b"content-length"])
            body, rest = rest[:n], rest[n:]
        else:
            body, rest = rest, b""
        out.append((status, body))
        raw = rest
    return out


def statuses(raw):
    return [st for st, _ in responses(raw)]


def post(m, path, headers, body=b""):
    return (b"POST /%s/%s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (m.encode(), path, headers)) + body


def good(m, tag):
    return (b"GET /%s/rec?read=1&tag=%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            % (m.encode(), tag.encode()))


BAD_FRAMING = {
    "cl_minus_one": (b"hash", b"Content-Length: -1\r\n", b"", 400),
    "cl_abc": (b"hash", b"Content-Length: abc\r\n", b"", 400),
    "cl_overflow": (b"hash", b"Content-Length: 99999999999999999999999\r\n", b"", 400),
    "cl_plus_sign": (b"hash", b"Content-Length: +5\r\n", b"hello", 400),
    "cl_duplicate_different": (b"hash", b"Content-Length: 5\r\nContent-Length: 6\r\n", b"hello!", 400),
    "cl_duplicate_same": (b"hash", b"Content-Length: 5\r\nContent-Length: 5\r\n", b"hello", 400),
    "cl_list": (b"hash", b"Content-Length: 5, 5\r\n", b"hello", 400),
    "chunk_bad_hex": (b"hash", b"Transfer-Encoding: chunked\r\n", b"zz\r\nhello\r\n0\r\n\r\n", 400),
    "chunk_missing_crlf": (b"hash", b"Transfer-Encoding: chunked\r\n", b"5\r\nhelloXX0\r\n\r\n", 400),
    "chunk_negative": (b"hash", b"Transfer-Encoding: chunked\r\n", b"-5\r\nhello\r\n0\r\n\r\n", 400),
    "chunk_size_overflow": (b"hash", b"Transfer-Encoding: chunked\r\n",
                            b"ffffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 413),
    "chunk_longer_than_declared": (b"hash", b"Transfer-Encoding: chunked\r\n",
                                   b"3\r\nhello\r\n0\r\n\r\n", 400),
    "te_chunked_identity": (b"hash", b"Transfer-Encoding: chunked, identity\r\n",
                            b"5\r\nhello\r\n0\r\n\r\n", 400),
    "te_gzip": (b"hash", b"Transfer-Encoding: gzip\r\n", b"5\r\nhello\r\n0\r\n\r\n", 400),
    "te_chunked_twice": (b"hash", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                         b"5\r\nhello\r\n0\r\n\r\n", 501),
}


@pytest.mark.parametrize("m", MODES)
@pytest.mark.parametrize("case", list(BAD_FRAMING))
def test_bad_framing_then_pipelined_good_request(srv, m, case):
    """The bad request is refused with the right status; the pipelined good
    request after it never runs (the connection is closed)."""
    path, headers, body, want = BAD_FRAMING[case]
    tag = "after-%s-%s" % (m, case)
    raw = exchange(srv, post(m, path, headers, body) + good(m, tag))
    got = statuses(raw)
    assert got and got[0] == want, (got, raw[:300])
    assert got == [want], ("the request after a refused one was answered", got)
    assert ("enter " + tag) not in events(srv)


@pytest.mark.parametrize("m", MODES)
@pytest.mark.parametrize("bad", [
    b"GET /%s/rec HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    b"GET /%s/rec HTTP/1.1\r\nHost: x\r\nX-Nul: a\0b\r\n\r\n",
    b"GET /%s/rec HTTP/1.1\r\nHost: x\r\n X-Folded: continuation\r\n\r\n",
    b"GET /%s/rec HTTP/1.1\r\nX-No-Host: 1\r\n\r\n",
    b"GE\x01T /%s/rec HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /%s/rec HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n",
    b"GET /%s/rec?\x7f HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /%s/rec HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
], ids=["no_colon", "nul_in_header", "obs_fold_first", "no_host", "ctl_in_method",
        "header_too_long", "del_in_uri", "two_hosts"])
def test_bad_request_then_pipelined_good_request(srv, m, bad):
    tag = "after-bad-%s-%d" % (m, abs(hash(bad)) % 100000)
    raw = exchange(srv, (bad.replace(b"%s", m.encode()) if b"%s" in bad else bad) + good(m, tag))
    got = statuses(raw)
    assert got and got[0] in (400, 413, 431, 501), (got, raw[:300])
    assert len(got) == 1, got
    assert ("enter " + tag) not in events(srv)


@pytest.mark.parametrize("m", MODES)
def test_content_length_with_chunked(srv, m):
    """Both framings: the body is the chunked one, CONTENT_LENGTH never
    claims the other length (an app reading exactly CONTENT_LENGTH would
    desynchronise), and the connection is closed afterwards so nothing
    after it can be smuggled."""
    tag = "after-clte-" + m
    raw = exchange(srv, post(m, b"echo", b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                             b"5\r\nhello\r\n0\r\n\r\n") + good(m, tag))
    got = statuses(raw)
    assert got[0] in (200, 400), got
    if got[0] == 200:
        status, headers, body = parse_raw_response(raw)
        if "chunked" in ",".join(headers.get("transfer-encoding", [])):
            body = dechunk(body)
        out = json.loads(body[:int(headers["content-length"][0])] if "content-length" in headers else body)
        assert out["data"] == "hello"
        assert out["content_length"] in (None, "", "5"), out
    assert len(got) == 1, got
    assert ("enter " + tag) not in events(srv)


@pytest.mark.parametrize("m", MODES)
@pytest.mark.parametrize("framing", ["length", "chunked"])
@pytest.mark.parametrize("size", [100, 300000])
def test_unread_body_then_pipelined_request(srv, m, framing, size):
    """hello.wsgi never reads its body, which holds an HTTP request; the
    next pipelined request is parsed cleanly and the one in the body never
    runs. (A large unread body may instead make Apache close the
    connection: then the second request is not answered, never mis-parsed.)"""
    tag = "smuggled-%s-%s-%d" % (m, framing, size)
    smuggled = (b"GET /%s/rec?read=1&tag=%s HTTP/1.1\r\nHost: x\r\n\r\n"
                % (m.encode(), tag.encode()))
    body = (smuggled * (size // len(smuggled) + 1))[:size]
    if framing == "length":
        first = post(m, b"hello", b"Content-Length: %d\r\n" % len(body), body)
    else:
        first = post(m, b"hello", b"Transfer-Encoding: chunked\r\n",
                     b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    second_tag = "second-%s-%s-%d" % (m, framing, size)
    raw = exchange(srv, first + good(m, second_tag), timeout=15)
    got = statuses(raw)
    assert got[0] == 200, got
    assert got in ([200], [200, 200]), got
    if got == [200, 200]:
        assert responses(raw)[1][1] == b"read 0", raw[-200:]
        assert ("enter " + second_tag) in events(srv)
    else:
        assert size > 100, "a small unread body must not cost the next request"
    assert ("enter " + tag) not in events(srv)


@pytest.mark.parametrize("m", MODES)
@pytest.mark.parametrize("framing", ["length", "chunked"])
def test_limit_request_body_413(srv, m, framing):
    body = b"x" * 2000
    if framing == "length":
        data = post(m, b"limit", b"Content-Length: 2000\r\n", body)
    else:
        data = post(m, b"limit", b"Transfer-Encoding: chunked\r\n",
                    b"7d0\r\n" + body + b"\r\n0\r\n\r\n")
    raw = exchange(srv, data + good(m, "after-limit-%s-%s" % (m, framing)))
    assert statuses(raw) == [413], raw[:300]
    # under the limit: fine
    raw = exchange(srv, post(m, b"limit", b"Content-Length: 1000\r\nConnection: close\r\n",
                             b"y" * 1000))
    assert statuses(raw) == [200]
    assert raw.endswith(b" 1000")


# When the application itself reads the truncated body (embedded mode, or
# daemon mode without buffering), wsgi.input.read() raises and the
# uncaught exception gives a 500; a buffered daemon request gets a 400
# before the application runs.
TRUNCATED_APP_STATUS = {"e": [500], "d": [400], "o": [500]}


@pytest.mark.parametrize("m", MODES)
def test_truncated_chunked_body_is_refused(srv, m):
    """The client half-closes in the middle of a chunk: 400 (or a closed
    connection), a log line, nothing hangs, and the server still serves."""
    mark = srv.log_mark()
    raw = exchange(srv, post(m, b"hash", b"Transfer-Encoding: chunked\r\n", b"10\r\nhello"),
                   shutdown=True)
    assert statuses(raw) in ([], [400], TRUNCATED_APP_STATUS[m]), raw[:300]
    srv.wait_for_log(r"(Error reading|could not receive|client went away|timed out|IOError|OSError)",
                     since=mark, timeout=5)
    assert srv.get("/%s/hello" % m).status == 200


@pytest.mark.parametrize("m", MODES)
def test_truncated_content_length_body_is_refused(srv, m):
    mark = srv.log_mark()
    raw = exchange(srv, post(m, b"hash", b"Content-Length: 1000\r\n", b"x" * 10), shutdown=True)
    assert statuses(raw) in ([], [400], TRUNCATED_APP_STATUS[m]), raw[:300]
    srv.wait_for_log(r"(could not receive|client went away|timed out|IOError|OSError|Error reading)",
                     since=mark, timeout=5)
    assert srv.get("/%s/hello" % m).status == 200


# Who answers `Expect: 100-continue`: the application's first read
# (embedded, and daemon with WSGIBufferRequestBody Off), or Apache itself
# before a daemon thread is taken (buffered daemon mode), so that the
# header cannot be used to bypass the buffering.
CONTINUE_BEFORE_APP = {"e": False, "d": True, "o": False}


@pytest.mark.parametrize("m", MODES)
def test_expect_continue_by_mode(srv, m):
    """An app that does not read: the 100 is sent only where Apache buffers
    the body; with a body sent after the 100, the response is the app's."""
    s = srv.open_socket(timeout=5)
    try:
        s.sendall(post(m, b"hello", b"Content-Length: 5\r\nExpect: 100-continue\r\n"
                       b"Connection: close\r\n"))
        first = s.recv(4096)
        if CONTINUE_BEFORE_APP[m]:
            assert first.startswith(b"HTTP/1.1 100 Continue\r\n"), first
            s.sendall(b"hello")
        else:
            assert first.startswith(b"HTTP/1.1 200"), first
        raw = first + recv_until_close(s)
    finally:
        s.close()
    if CONTINUE_BEFORE_APP[m]:
        raw = raw.split(b"\r\n\r\n", 1)[1]
    else:
        assert b"100 Continue" not in raw
    assert [(st, b) for st, b in responses(raw)] == [(200, b"hello world")], raw[:300]
