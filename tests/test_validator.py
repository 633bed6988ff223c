"""An app wrapped in wsgiref.validate.validator (WSGIWarning -> error):
any violation of the spec by the server turns into a 500 and an
AssertionError or WSGIWarning in the error log."""

import hashlib

import pytest

BODY = r"""
WSGIScriptAlias /v @APPS@/validated.wsgi
<Location /v-chunked>
    WSGIChunkedRequest On
</Location>
WSGIScriptAlias /v-chunked @APPS@/validated.wsgi
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="validator")


def check_log_clean(srv, mark):
    text = srv.log_since(mark)
    for bad in ("AssertionError", "WSGIWarning", "Traceback"):
        assert bad not in text, text[-4000:]


def test_get(srv):
    mark = srv.log_mark()
    r = srv.get("/v")
    assert r.status == 200, r
    assert r.text == "GET 0 " + hashlib.sha256(b"").hexdigest()
    r = srv.get("/v/sub/path?a=1&b=%20")
    assert r.status == 200, r
    srv.wait_for_log(r"validated app saw 0 bytes", since=mark)
    srv.get("/v")  # lets the previous iterator be collected and checked
    check_log_clean(srv, mark)


def test_post_with_body(srv):
    mark = srv.log_mark()
    body = b"x=1&y=" + b"z" * 10000
    r = srv.post("/v", body, headers={"Content-Type":
                                       "application/x-www-form-urlencoded"})
    assert r.status == 200, r
    assert r.text == "POST %d %s" % (len(body), hashlib.sha256(body).hexdigest())
    srv.wait_for_log(r"validated app saw %d bytes" % len(body), since=mark)
    srv.get("/v")
    check_log_clean(srv, mark)


def test_head_and_other_methods(srv):
    mark = srv.log_mark()
    for method in ("HEAD", "PUT", "DELETE", "OPTIONS"):
        r = srv.request(method, "/v", body=b"data" if method == "PUT" else None)
        assert r.status == 200, (method, r)
    srv.get("/v")
    check_log_clean(srv, mark)


def test_chunked_post(srv):
    mark = srv.log_mark()
    raw = srv.raw(b"POST /v-chunked HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200"), raw[:300]
    assert b"POST 5 " + hashlib.sha256(b"abcde").hexdigest().encode() in raw
    srv.get("/v")
    check_log_clean(srv, mark)
