"""httpbin (PyPI, unchanged) in a virtualenv, embedded and daemon mode,
mounted at / and at /sub."""

import json
import time

from harness.apache import dechunk, parse_raw_response, recv_until, recv_until_close


def base(app):
    return "http://127.0.0.1:%d" % app.srv.port


def test_served_from_the_virtualenv_in_the_right_mode(httpbin_app):
    r = httpbin_app.get("/get")
    assert r.status == 200, r
    httpbin_app.check_probe(r)


def test_anything_echoes_the_request(httpbin_app):
    app = httpbin_app
    r = app.srv.get(app.path("/anything/foo/b%C3%A4r?x=1&y=%C3%BC&x=2"),
                    headers={"X-Custom": "value", "Accept": "application/json"})
    assert r.status == 200, r
    d = r.json()
    assert d["method"] == "GET"
    # werkzeug gives request.url as an IRI
    assert d["url"] == base(app) + app.path("/anything/foo/bär?x=1&y=ü&x=2")
    assert d["args"] == {"x": ["1", "2"], "y": "ü"}
    assert d["headers"]["X-Custom"] == "value"
    assert d["headers"]["Host"] == "127.0.0.1:%d" % app.srv.port
    assert d["origin"] == "127.0.0.1"
    assert d["data"] == "" and d["form"] == {} and d["files"] == {}

    body = json.dumps({"k": "välue", "n": [1, 2, 3]}).encode()
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        r = app.srv.request(method, app.path("/anything"), body=body,
                            headers={"Content-Type": "application/json"})
        assert r.status == 200, (method, r)
        d = r.json()
        assert d["method"] == method
        assert d["json"] == {"k": "välue", "n": [1, 2, 3]}
        assert d["headers"]["Content-Length"] == str(len(body))


def test_post_multipart(httpbin_app):
    text = "Zeile 1 ✓\nZeile 2 ü\n" * 2000
    r = httpbin_app.browser().post_multipart(
        httpbin_app.path("/post"),
        fields=[("name", "Jürgen"), ("empty", "")],
        files=[("upload", "notes.txt", "text/plain", text.encode("utf-8"))])
    assert r.status == 200, r
    d = r.json()
    assert d["form"] == {"name": "Jürgen", "empty": ""}
    assert d["files"] == {"upload": text}
    assert d["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    assert d["url"] == base(httpbin_app) + httpbin_app.path("/post")


def test_stream_n(httpbin_app):
    s = httpbin_app.srv.open_socket()
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % httpbin_app.path("/stream/7")).encode())
        data = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    assert status == "HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == ["chunked"]
    lines = dechunk(body).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == list(range(7))
    # Host: 127.0.0.1 (no port) was sent
    assert json.loads(lines[0])["url"] == "http://127.0.0.1" + httpbin_app.path("/stream/7")


def test_drip_is_delivered_over_time(httpbin_app):
    """/drip sends one byte every 0.1 s: the first ones reach the client
    long before the last (no buffering of the whole response)."""
    assert httpbin_app.get("/get").status == 200  # the app is imported
    s = httpbin_app.srv.open_socket(timeout=10)
    try:
        t0 = time.monotonic()
        s.sendall(("GET %s?numbytes=10&duration=1&delay=0&code=200 HTTP/1.1\r\n"
                   "Host: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % httpbin_app.path("/drip")).encode())
        head = recv_until(s, b"\r\n\r\n")
        first = time.monotonic() - t0
        if not parse_raw_response(head)[2]:
            head += recv_until(s, b"*")
        first_byte = time.monotonic() - t0
        data = head + recv_until_close(s)
        total = time.monotonic() - t0
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    assert status == "HTTP/1.1 200 OK"
    if "transfer-encoding" in headers:
        body = dechunk(body)
    assert body == b"*" * 10
    assert headers["content-length"] == ["10"] or "transfer-encoding" in headers
    assert total >= 0.8, total
    # The first byte left at once, the last about 0.9 s later.
    assert first_byte < total - 0.5, (first, first_byte, total)


def test_redirect_n_under_the_mount(httpbin_app):
    app = httpbin_app
    b = app.browser()
    r = b.get(app.path("/redirect/3"))
    assert r.status == 200, r
    assert r.history == [(302, app.path("/relative-redirect/2")),
                         (302, app.path("/relative-redirect/1")),
                         (302, app.path("/get"))], r.history
    assert r.json()["url"] == base(app) + app.path("/get")

    r = b.get(app.path("/redirect/2?absolute=true"))
    assert r.status == 200
    assert r.history == [(302, base(app) + app.path("/absolute-redirect/1")),
                         (302, base(app) + app.path("/get"))], r.history

    r = b.get(app.path("/redirect-to?url=/elsewhere&status_code=307"), follow=False)
    assert r.status == 307
    assert r.header("Location") == "/elsewhere"


def test_cookies_set_and_delete(httpbin_app):
    app = httpbin_app
    b = app.browser()
    r = b.get(app.path("/cookies/set?flavour=choc&n=42"))
    assert r.history == [(302, app.path("/cookies"))], r.history
    assert r.json() == {"cookies": {"flavour": "choc", "n": "42"}}
    r = b.get(app.path("/cookies/delete?flavour"))
    assert r.history == [(302, app.path("/cookies"))]
    assert r.json() == {"cookies": {"n": "42"}}


def test_status_codes(httpbin_app):
    app = httpbin_app
    s = app.srv.open_socket()
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % app.path("/status/204")).encode())
        data = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    # The application's reason phrase ("NO CONTENT" from werkzeug) is kept,
    # as mod_wsgi does.
    assert status.upper() == "HTTP/1.1 204 NO CONTENT"
    assert body == b""
    assert "transfer-encoding" not in headers
    assert headers.get("content-length", ["0"]) == ["0"]

    r = app.get("/status/418")
    assert r.status == 418 and "teapot" in r.text
    assert app.get("/status/503").status == 503
    r = app.get("/status/404")
    assert r.status == 404
    assert r.header("X-E2E-Prefix") == app.venv  # httpbin's own 404


def test_response_headers(httpbin_app):
    r = httpbin_app.get("/response-headers?X-Foo=bar&X-Foo=baz&X-Single=%C3%BC")
    assert r.status == 200, r
    # Two X-Foo headers (mod_wsgi 4.9.4's daemon mode joins them into one
    # "bar, baz", which means the same).
    values = [v.strip() for h in r.headers.get_all("X-Foo") for v in h.split(",")]
    assert values == ["bar", "baz"]
    # A non-ASCII value: werkzeug sends it as latin-1 bytes.
    assert r.header("X-Single").encode("latin-1").decode("latin-1") == "ü"
    d = r.json()
    assert d["X-Foo"] == ["bar", "baz"]


def test_bytes_download(httpbin_app):
    r = httpbin_app.get("/bytes/65536?seed=7")
    assert r.status == 200
    assert len(r.body) == 65536
    assert r.header("Content-Type") == "application/octet-stream"
    again = httpbin_app.get("/bytes/65536?seed=7")
    assert again.body == r.body


def test_head_requests(httpbin_app):
    """HEAD gives the GET's headers and no body (werkzeug drops the body but
    keeps Content-Length, as HTTP wants)."""
    app = httpbin_app
    get = app.get("/bytes/4096?seed=1")
    r = app.srv.request("HEAD", app.path("/bytes/4096?seed=1"))
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Length") == get.header("Content-Length") == "4096"

    r = app.srv.request("HEAD", app.path("/get"))
    assert r.status == 200, r
    assert r.body == b""
    assert int(r.header("Content-Length")) > 0

    # Raw: nothing at all after the headers.
    s = app.srv.open_socket()
    try:
        s.sendall(("HEAD %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                   % app.path("/html")).encode())
        data = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    assert status == "HTTP/1.1 200 OK"
    assert body == b""
    assert headers["content-type"][0].startswith("text/html")


def test_head_of_a_streamed_response(httpbin_app):
    r = httpbin_app.srv.request("HEAD", httpbin_app.path("/stream/3"))
    assert r.status == 200, r
    assert r.body == b""
