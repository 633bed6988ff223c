"""Django (tests/apps/e2e/e2eproj, with the admin) in a virtualenv,
embedded and daemon mode, mounted at / and at /sub. Static files are served
by Apache (Alias <mount>/static/ -> collectstatic's STATIC_ROOT)."""

import os
import re
import uuid

from browser import hidden_field, random_bytes, sha256
from e2e_support import DJANGO_ADMIN
from harness.apache import dechunk, parse_raw_response, recv_until, recv_until_close


def origin(app):
    return {"Origin": "http://127.0.0.1:%d" % app.srv.port}


def test_served_from_the_virtualenv_in_the_right_mode(django_app):
    r = django_app.get("/")
    assert r.status == 200, r
    django_app.check_probe(r)


def test_script_name_and_reverse_under_the_mount(django_app):
    app = django_app
    p = app.path
    d = app.get("/").json()
    assert d["script_prefix"] == p("/")
    assert d["path"] == p("/")
    assert d["path_info"] == "/"
    assert d["absolute"] == "http://127.0.0.1:%d%s" % (app.srv.port, p("/"))
    assert d["reverse_upload"] == p("/upload/")
    assert d["reverse_cafe"] == p("/caf%C3%A9/")
    assert d["reverse_admin"] == p("/admin/")
    assert d["reverse_note_add"] == p("/admin/notes/note/add/")
    assert d["static"] == p("/static/admin/css/base.css")

    # redirect() to a named view, and APPEND_SLASH, both under the mount.
    b = app.browser()
    r = b.get(p("/go/"))
    assert r.history == [(302, p("/caf%C3%A9/"))]
    assert r.json()["view"] == "café"
    r = b.get(p("/upload"), follow=False)
    assert r.status == 301
    assert r.header("Location") == p("/upload/")


def test_admin_login_create_and_list_an_object_logout(django_app):
    app, b = django_app, django_app.browser()
    p = app.path

    # Not logged in: the admin sends us to its login form.
    r = b.get(p("/admin/"))
    assert r.history == [(302, p("/admin/login/?next=") + p("/admin/"))], r.history
    assert r.status == 200
    assert "csrftoken" in b.cookies
    token = hidden_field(r.body, "csrfmiddlewaretoken")
    assert 'action="%s"' % (p("/admin/login/?next=") + p("/admin/")) in r.text
    login_url = r.url

    # CSRF is enforced: the same POST without the token is refused.
    r = b.post_form(login_url, {"username": DJANGO_ADMIN[0], "password": DJANGO_ADMIN[2]},
                    headers=origin(app), follow=False)
    assert r.status == 403, r

    r = b.post_form(login_url, {"csrfmiddlewaretoken": token, "username": DJANGO_ADMIN[0],
                                "password": "wrong", "next": p("/admin/")},
                    headers=origin(app))
    assert r.status == 200 and "Please enter the correct username and password" in r.text
    assert "sessionid" not in b.cookies

    token = hidden_field(r.body, "csrfmiddlewaretoken")
    r = b.post_form(login_url, {"csrfmiddlewaretoken": token, "username": DJANGO_ADMIN[0],
                                "password": DJANGO_ADMIN[2], "next": p("/admin/")},
                    headers=origin(app))
    assert r.history == [(302, p("/admin/"))], (r.history, r.text[:2000])
    assert r.status == 200
    assert "Site administration" in r.text
    assert "sessionid" in b.cookies
    assert 'href="%s"' % p("/admin/notes/note/") in r.text

    # Create a Note through the admin's add form, then see it listed.
    r = b.get(p("/admin/notes/note/add/"))
    assert r.status == 200, r
    token = hidden_field(r.body, "csrfmiddlewaretoken")
    title = "Notiz über Größe %s" % uuid.uuid4().hex[:8]
    r = b.post_form(p("/admin/notes/note/add/"),
                    {"csrfmiddlewaretoken": token, "title": title,
                     "body": "Ünïcödé body\nsecond line", "_save": "Save"},
                    headers=origin(app))
    assert r.history == [(302, p("/admin/notes/note/"))], (r.history, r.text[:3000])
    assert r.status == 200
    assert title in r.text
    assert "was added successfully" in r.text
    m = re.search(r'href="(%s/admin/notes/note/(\d+)/change/)[^"]*"' % re.escape(app.prefix),
                  r.text)
    assert m, r.text[:3000]
    r = b.get(m.group(1))
    assert r.status == 200 and title in r.text
    # The same process's ORM sees it too.
    assert title in app.get("/").json()["notes"]

    # Log out (a POST with the token, as the admin's button does).
    token = hidden_field(r.body, "csrfmiddlewaretoken")
    r = b.post_form(p("/admin/logout/"), {"csrfmiddlewaretoken": token},
                    headers=origin(app))
    assert r.status == 200 and "Logged out" in r.text, r
    assert "sessionid" not in b.cookies
    r = b.get(p("/admin/"))
    assert r.history == [(302, p("/admin/login/?next=") + p("/admin/"))]


def test_static_files_are_served_by_apache(django_app):
    app = django_app
    page = app.browser().get(app.path("/admin/login/")).text
    href = app.path("/static/admin/css/base.css")
    assert 'href="%s"' % href in page
    r = app.srv.get(href)
    assert r.status == 200, r
    with open(os.path.join(app.srv.state, "django", "static", "admin", "css",
                           "base.css"), "rb") as f:
        assert r.body == f.read()
    assert r.header("Content-Type").startswith("text/css")
    # Apache's static file handler, not the application.
    assert r.header("X-E2E-Prefix") is None
    assert r.header("ETag") and r.header("Last-Modified")
    r = app.srv.get(app.path("/static/admin/css/no-such-file.css"))
    assert r.status == 404
    assert r.header("X-E2E-Prefix") is None


def test_upload_bigger_than_memory_limit_is_spooled_to_disk(django_app):
    app = django_app
    big = random_bytes(3 * 1024 * 1024 + 3, "django-upload")
    small = random_bytes(10 * 1024, "django-small")
    r = app.browser().post_multipart(
        app.path("/upload/"),
        fields=[("caption", "Größe"), ("caption", "zwei")],
        files=[("big", "big ü.bin", "application/octet-stream", big),
               ("small", "small.bin", "application/octet-stream", small)],
        timeout=60)
    assert r.status == 200, r
    d = r.json()
    assert d["fields"] == {"caption": ["Größe", "zwei"]}
    files = {f["field"]: f for f in d["files"]}
    assert files["big"]["size"] == len(big)
    assert files["big"]["sha256"] == sha256(big)
    assert files["big"]["name"] == "big ü.bin"
    assert len(big) > d["max_memory_size"]
    assert files["big"]["class"] == "TemporaryUploadedFile"
    assert files["big"]["spooled_to_disk"] is True
    assert files["big"]["temp_dir"] == d["temp_dir_setting"]
    assert files["small"]["sha256"] == sha256(small)

    # Django decides by the size of the whole request: a small one stays
    # in memory.
    r = app.browser().post_multipart(
        app.path("/upload/"), files=[("small", "small.bin", "application/octet-stream", small)])
    assert r.status == 200, r
    f = r.json()["files"][0]
    assert (f["class"], f["spooled_to_disk"], f["sha256"]) == (
        "InMemoryUploadedFile", False, sha256(small))


def test_file_response_goes_through_wsgi_file_wrapper(django_app, blob):
    r = django_app.get("/download/")
    assert r.status == 200, r
    assert r.header("X-E2E-File-Wrapper") == "1", r.header("X-E2E-Iterable")
    assert r.body == blob
    assert r.header("Content-Length") == str(len(blob))
    assert r.header("Content-Disposition") == 'attachment; filename="blob.bin"'


def test_streaming_http_response_arrives_before_it_ends(django_app):
    app = django_app
    token = uuid.uuid4().hex
    s = app.srv.open_socket(timeout=15)
    try:
        s.sendall(("GET %s?token=%s&n=30 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n" % (app.path("/stream/"), token)).encode())
        head = recv_until(s, b"first (prefix=", timeout=10)
        with open(os.path.join(app.srv.state, "release-" + token), "w"):
            pass
        data = head + recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    assert status == "HTTP/1.1 200 OK"
    assert headers["transfer-encoding"] == ["chunked"]
    assert headers["x-e2e-iterable"] == ["StreamingHttpResponse"]
    lines = dechunk(body).decode().splitlines()
    assert lines[0] == "first (prefix=%s)" % app.path("/")
    assert lines[1] == "released=True"
    assert lines[2:32] == ["chunk %d %s" % (i, "y" * 1000) for i in range(30)]
    assert lines[-1] == "done"


def test_non_ascii_url(django_app):
    r = django_app.get("/caf%C3%A9/")
    assert r.status == 200, r
    assert r.json() == {"view": "café", "path": django_app.path("/café/"),
                        "reverse": django_app.path("/caf%C3%A9/")}


def test_head_requests(django_app, blob):
    """HEAD: Django drops the body and keeps the GET's Content-Length; the
    server must not take that for a truncated body."""
    get = django_app.get("/caf%C3%A9/")
    r = django_app.srv.request("HEAD", django_app.path("/caf%C3%A9/"))
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Length") == get.header("Content-Length")
    r = django_app.srv.request("HEAD", django_app.path("/download/"))
    assert r.status == 200, r
    assert r.body == b""
    assert r.header("Content-Length") == str(len(blob))
