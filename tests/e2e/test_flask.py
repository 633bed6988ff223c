"""Flask (tests/apps/e2e/flaskapp) in a virtualenv, embedded and daemon
mode, mounted at / and at /sub."""

import os
import uuid

from browser import random_bytes, sha256
from harness.apache import dechunk, parse_raw_response, recv_until, recv_until_close


def test_served_from_the_virtualenv_in_the_right_mode(flask_app):
    r = flask_app.get("/")
    assert r.status == 200, r
    flask_app.check_probe(r)


def test_login_session_cookie_and_logout(flask_app):
    app, b = flask_app, flask_app.browser()
    p = app.path

    r = b.get(p("/"))
    assert r.status == 200
    assert "Hello, stranger." in r.text
    assert 'href="%s"' % p("/login") in r.text

    # A protected page redirects to the login form, with ?next= under the mount.
    r = b.get(p("/private"))
    assert r.history == [(302, p("/login") + "?next=" + p("/private"))]
    assert r.status == 200
    assert 'action="%s"' % p("/login") in r.text
    login_url = r.url

    r = b.post_form(login_url, {"username": "alice", "password": "wrong"})
    assert r.status == 401
    assert "session" not in b.cookies

    r = b.post_form(login_url, {"username": "alice", "password": "wonderland"})
    assert r.history == [(302, p("/private"))], r.history
    assert r.status == 200
    assert r.json() == {"user": "alice", "secret": "the cake is a lie"}
    assert "session" in b.cookies

    r = b.get(p("/"))
    assert "Hello, alice!" in r.text
    assert 'href="%s"' % p("/logout") in r.text

    r = b.get(p("/logout"))
    assert r.history == [(302, p("/"))]
    assert "Hello, stranger." in r.text
    assert "session" not in b.cookies

    # A non-ASCII user name and password survive the form and the cookie.
    r = b.post_form(p("/login"), {"username": "jürgen", "password": "passwört"})
    assert r.history == [(302, p("/"))]
    assert "Hello, jürgen!" in r.text


def test_url_for_and_request_urls_under_the_mount(flask_app):
    app = flask_app
    r = app.get("/urls")
    assert r.status == 200, r
    d = r.json()
    base = "http://127.0.0.1:%d" % app.srv.port
    assert d["environ_script_name"] == app.prefix
    assert d["environ_path_info"] == "/urls"
    assert d["script_root"] == app.prefix
    assert d["path"] == "/urls"
    assert d["index"] == app.path("/")
    assert d["login"] == app.path("/login") + "?next=/x+y"
    assert d["cafe"] == app.path("/caf%C3%A9")
    assert d["external"] == base + app.path("/caf%C3%A9")
    assert d["url"] == base + app.path("/urls")


def test_form_with_non_ascii_values(flask_app):
    b = flask_app.browser()
    r = b.get(flask_app.path("/form"))
    assert 'action="%s"' % flask_app.path("/form") in r.text
    comment = "Grüße aus Köln ☕\r\nzweite Zeile & = ? %"
    r = b.post_form(flask_app.path("/form"),
                    [("name", "Jürgen"), ("comment", comment), ("tags", "a"), ("tags", "b")])
    assert r.status == 200, r
    assert r.json() == {"name": "Jürgen", "comment": comment, "tags": ["a", "b"],
                        "content_type": "application/x-www-form-urlencoded"}


def test_multipart_upload_of_several_mib(flask_app):
    big = random_bytes(6 * 1024 * 1024 + 7, "flask-upload")
    small = "naïve text ✓\n".encode("utf-8") * 100
    b = flask_app.browser()
    r = b.post_multipart(
        flask_app.path("/upload"),
        fields=[("title", "Größe"), ("title", "second")],
        files=[("big", "big.bin", "application/octet-stream", big),
               ("small", "notes ü.txt", "text/plain; charset=utf-8", small)],
        timeout=60)
    assert r.status == 200, r
    d = r.json()
    assert d["form"] == {"title": ["Größe", "second"]}
    files = {f["field"]: f for f in d["files"]}
    assert files["big"]["size"] == len(big)
    assert files["big"]["sha256"] == sha256(big)
    assert files["big"]["filename"] == "big.bin"
    assert files["small"]["sha256"] == sha256(small)
    assert files["small"]["filename"] == "notes ü.txt"
    assert files["small"]["content_type"] == "text/plain; charset=utf-8"
    assert d["content_length"] > len(big) + len(small)


def test_send_file_goes_through_wsgi_file_wrapper(flask_app, blob):
    r = flask_app.get("/download")
    assert r.status == 200, r
    assert r.header("X-Flask-Used-File-Wrapper") == "1"
    assert r.header("X-E2E-File-Wrapper") == "1", r.header("X-E2E-Iterable")
    assert len(r.body) == len(blob)
    assert r.body == blob
    assert r.header("Content-Length") == str(len(blob))
    assert r.header("Content-Type") == "application/octet-stream"
    cd = r.header("Content-Disposition")
    assert cd.startswith("attachment;") and "filename*=UTF-8''blob%20%C3%BCn%C3%AFcode.bin" in cd
    etag = r.header("ETag")
    assert etag

    # Conditional GET: 304 without a body.
    r = flask_app.get("/download", headers={"If-None-Match": etag})
    assert r.status == 304
    assert r.body == b""

    # A range: werkzeug answers 206 itself.
    r = flask_app.get("/download", headers={"Range": "bytes=1000-1999"})
    assert r.status == 206, r
    assert r.body == blob[1000:2000]
    assert r.header("Content-Range") == "bytes 1000-1999/%d" % len(blob)


def test_head_of_send_file(flask_app, blob):
    """HEAD: werkzeug returns no body but the GET's Content-Length (as
    HTTP wants); the server must not take that for a truncated body."""
    r = flask_app.srv.request("HEAD", flask_app.path("/download"))
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Length") == str(len(blob))
    r = flask_app.srv.request("HEAD", flask_app.path("/urls"))
    assert r.status == 200, r
    assert r.body == b""
    assert int(r.header("Content-Length")) > 0


def test_streamed_response_arrives_before_it_ends(flask_app):
    """The first line reaches the client while the generator is still
    waiting for the release file the test writes after seeing it."""
    token = uuid.uuid4().hex
    s = flask_app.srv.open_socket(timeout=15)
    try:
        s.sendall(("GET %s?token=%s&n=20 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n" % (flask_app.path("/stream"), token)).encode())
        head = recv_until(s, b"first line", timeout=10)
        with open(os.path.join(flask_app.srv.state, "release-" + token), "w"):
            pass
        data = head + recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    assert status == "HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == ["chunked"]
    assert headers["content-type"][0].startswith("text/plain")
    text = dechunk(body).decode()
    lines = text.splitlines()
    assert lines[0] == "first line (script_root=%s)" % flask_app.prefix
    assert lines[1] == "released=True"
    assert lines[2:22] == ["line %d %s" % (i, "x" * 1000) for i in range(20)]
    assert lines[-1] == "done"


def test_non_ascii_route(flask_app):
    r = flask_app.get("/caf%C3%A9?q=%C3%BCber")
    assert r.status == 200, r
    assert r.json() == {"route": "café", "path": "/café", "args": {"q": "über"},
                        "url": flask_app.path("/caf%C3%A9")}
    assert flask_app.get("/caf%C3%A8").status == 404


def test_error_status_from_abort(flask_app):
    r = flask_app.get("/teapot")
    assert r.status == 418
    assert flask_app.get("/no/such/page").status == 404
