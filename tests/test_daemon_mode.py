"""Minimal daemon-mode checks (WSGIDaemonProcess + WSGIProcessGroup)."""

import pytest

BODY = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess testd processes=1 threads=4 shutdown-timeout=1
WSGIScriptAlias /d-env @APPS@/environ.wsgi process-group=testd
WSGIScriptAlias /d-echo @APPS@/echo.wsgi process-group=testd
WSGIScriptAlias /e-env @APPS@/environ.wsgi
WSGIScriptAlias /d-pyinfo @APPS@/pyinfo.wsgi process-group=testd
WSGIScriptAlias /e-pyinfo @APPS@/pyinfo.wsgi

WSGIScriptAlias /d-override @APPS@/status.wsgi process-group=testd
<Location /d-override>
    WSGIErrorOverride On
    ErrorDocument 404 "custom-404-page-from-apache"
</Location>
WSGIScriptAlias /d-no-override @APPS@/status.wsgi process-group=testd
<Location /d-no-override>
    ErrorDocument 404 "custom-404-page-from-apache"
</Location>
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="daemon")


def test_daemon_serves_request(srv):
    r = srv.get("/d-env/x?y=1")
    assert r.status == 200
    e = r.json()["environ"]
    assert e["mod_wsgi.process_group"] == "testd"
    assert e["SCRIPT_NAME"] == "/d-env"
    assert e["PATH_INFO"] == "/x"
    assert e["QUERY_STRING"] == "y=1"


def test_daemon_is_a_separate_process(srv):
    e = srv.get("/e-env").json()["environ"]
    assert e["mod_wsgi.process_group"] == ""
    d = srv.get("/d-pyinfo")
    assert d.status == 200
    assert d.json()["pid"] != srv.get("/e-pyinfo").json()["pid"]


def test_daemon_request_body(srv):
    body = bytes(range(256)) * 400
    r = srv.post("/d-echo?mode=readn&n=1000", body)
    assert r.status == 200
    assert r.json()["data"].encode("latin-1") == body


def test_error_override_daemon(srv):
    r = srv.get("/d-override?404")
    assert r.status == 404
    assert "custom-404-page-from-apache" in r.text
    assert "app-body-404" not in r.text


def test_no_error_override_daemon(srv):
    r = srv.get("/d-no-override?404")
    assert r.status == 404
    assert r.text == "app-body-404"
