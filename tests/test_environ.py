"""The WSGI environ: CGI variables, wsgi.* and mod_wsgi.* keys, header
filtering, path decoding, isolation between keep-alive requests."""

import base64
import hashlib
import json
import os

import pytest

from harness.apache import parse_raw_response

BODY = r"""
SetEnv TEST_SETENV hello-setenv
WSGIScriptAlias /app @APPS@/environ.wsgi
<Location /app>
    SetEnv TEST_LOCATION_ENV location-value
</Location>
WSGIScriptAlias /private @APPS@/environ.wsgi
<Location /private>
    AuthType Basic
    AuthName "tests"
    AuthBasicProvider file
    AuthUserFile @STATE@/htpasswd
    Require valid-user
</Location>
WSGIScriptAlias / @APPS@/environ.wsgi
"""

USER, PASSWORD = "alice", "wonderland"
AUTH = {"Authorization": "Basic " + base64.b64encode(
    ("%s:%s" % (USER, PASSWORD)).encode()).decode()}


@pytest.fixture(scope="module")
def srv(server_factory):
    s = server_factory(BODY, name="environ")
    sha = base64.b64encode(hashlib.sha1(PASSWORD.encode()).digest()).decode()
    path = os.path.join(s.state, "htpasswd")
    with open(path, "w") as f:
        f.write("%s:{SHA}%s\n" % (USER, sha))
    os.chmod(path, 0o644)
    return s


def fetch(srv, path, method="GET", body=None, headers=None):
    """Returns (environ dict, full JSON, client's local port)."""
    conn = srv.connection()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        local_port = conn.sock.getsockname()[1]
        r = conn.getresponse()
        data = r.read()
        assert r.status == 200, (r.status, data[:500])
        out = json.loads(data)
        return out["environ"], out, local_port
    finally:
        conn.close()


REQUIRED = ["REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
            "SERVER_NAME", "SERVER_PORT", "SERVER_PROTOCOL", "REMOTE_ADDR",
            "REMOTE_PORT", "REQUEST_URI", "REQUEST_SCHEME", "SCRIPT_FILENAME",
            "DOCUMENT_ROOT", "SERVER_SOFTWARE", "HTTP_HOST"]


def test_required_cgi_variables(srv):
    e, _, local_port = fetch(srv, "/app/some/path?q=1&r=%20x")
    missing = [k for k in REQUIRED if k not in e]
    assert not missing, missing
    # left out as in mod_wsgi 6.1 (CGI-only, or would cost an ident lookup)
    for k in ("GATEWAY_INTERFACE", "SERVER_SIGNATURE", "REMOTE_IDENT"):
        assert k not in e, k
    assert e["REQUEST_METHOD"] == "GET"
    assert e["SCRIPT_NAME"] == "/app"
    assert e["PATH_INFO"] == "/some/path"
    assert e["QUERY_STRING"] == "q=1&r=%20x"
    assert e["SERVER_NAME"] == "127.0.0.1"
    assert e["SERVER_PORT"] == str(srv.port)
    assert e["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert e["REMOTE_PORT"] == str(local_port)
    assert e["REQUEST_URI"] == "/app/some/path?q=1&r=%20x"
    assert e["REQUEST_SCHEME"] == "http"
    assert e["SCRIPT_FILENAME"] == os.path.join(srv.apps, "environ.wsgi")
    assert e["DOCUMENT_ROOT"] == srv.htdocs
    assert e["SERVER_SOFTWARE"].startswith("Apache")
    assert e["HTTP_HOST"] == "127.0.0.1:%d" % srv.port


def test_content_type_and_length_with_body(srv):
    e, out, _ = fetch(srv, "/app?read=1", method="POST", body=b"a=1&b=2",
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert e["REQUEST_METHOD"] == "POST"
    assert e["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert e["CONTENT_LENGTH"] == "7"
    assert "HTTP_CONTENT_TYPE" not in e
    assert "HTTP_CONTENT_LENGTH" not in e
    assert out["input"]["text"] == "a=1&b=2"


def test_no_content_length_without_body(srv):
    e, _, _ = fetch(srv, "/app")
    assert e.get("CONTENT_LENGTH", "") in ("", "0")
    assert "HTTP_CONTENT_LENGTH" not in e


@pytest.mark.parametrize("path,script_name,path_info", [
    ("/app", "/app", ""),
    ("/app/", "/app", "/"),
    ("/app/rest/of/it", "/app", "/rest/of/it"),
    ("/app/a%20b", "/app", "/a b"),
    ("/app/%C3%A9", "/app", "/\u00c3\u00a9"),  # UTF-8 bytes as latin-1 str
    ("/app/%FF", "/app", "/\u00ff"),
    ("//app///x", "/app", "/x"),
    ("/", "", "/"),
    ("/x/y", "", "/x/y"),
    ("/apple", "", "/apple"),
], ids=["exact", "slash", "rest", "space", "utf8", "byte-ff", "slashes",
        "root", "root-rest", "not-a-prefix-match"])
def test_script_name_and_path_info(srv, path, script_name, path_info):
    e, _, _ = fetch(srv, path)
    assert e["SCRIPT_NAME"] == script_name
    assert e["PATH_INFO"] == path_info
    assert e["REQUEST_URI"] == path
    assert e["mod_wsgi.script_name"] == script_name
    assert e["mod_wsgi.path_info"] == path_info


def test_setenv_values(srv):
    e, _, _ = fetch(srv, "/app")
    assert e["TEST_SETENV"] == "hello-setenv"
    assert e["TEST_LOCATION_ENV"] == "location-value"
    e, _, _ = fetch(srv, "/elsewhere")
    assert e["TEST_SETENV"] == "hello-setenv"
    assert "TEST_LOCATION_ENV" not in e


def test_header_filtering(srv):
    e, _, _ = fetch(srv, "/app", headers={
        "X-Foo_Bar": "underscore", "X-Ok": "fine", "Proxy": "http://evil:1/"})
    assert e["HTTP_X_OK"] == "fine"
    assert not any("underscore" == v for v in e.values()), \
        [k for k, v in e.items() if v == "underscore"]
    assert "HTTP_X_FOO_BAR" not in e
    assert "HTTP_PROXY" not in e
    assert not any("evil" in v for v in e.values())


def test_multiple_headers_combined(srv):
    raw = srv.raw(b"GET /app HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Multi: a\r\n"
                  b"X-Multi: b\r\nConnection: close\r\n\r\n")
    status, headers, body = parse_raw_response(raw)
    e = json.loads(body)["environ"]
    assert e["HTTP_X_MULTI"] in ("a, b", "a,b")


def test_http10_request(srv):
    raw = srv.raw(b"GET /app/x HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
    status, headers, body = parse_raw_response(raw)
    assert status.split()[1] == "200"
    e = json.loads(body)["environ"]
    assert e["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_keys_without_dot_are_str(srv):
    _, out, _ = fetch(srv, "/app/x?y", method="POST", body=b"z",
                      headers={"Content-Type": "text/plain", "X-A": "b"})
    bad = {k: t for k, t in out["types"].items() if "." not in k and t != "str"}
    assert not bad, bad


def test_wsgi_keys(srv):
    e, out, _ = fetch(srv, "/app")
    t = out["types"]
    assert out["wsgi_version"] == [1, 0] and t["wsgi.version"] == "tuple"
    assert e["wsgi.url_scheme"] == "http"
    assert t["wsgi.multithread"] == "bool" and e["wsgi.multithread"] == "True"
    assert t["wsgi.multiprocess"] == "bool"
    assert t["wsgi.run_once"] == "bool" and e["wsgi.run_once"] == "False"
    assert t["wsgi.input_terminated"] == "bool"
    assert e["wsgi.input_terminated"] == "True"
    assert out["file_wrapper_callable"] is True
    for k in ("wsgi.input", "wsgi.errors"):
        assert k in e


def test_mod_wsgi_keys(srv):
    e, out, _ = fetch(srv, "/app/p")
    # "" in embedded mode, the harness's group with MOD_WSGI_TEST_MODE=daemon
    assert e["mod_wsgi.process_group"] == srv.process_group
    assert e["mod_wsgi.application_group"] == "127.0.0.1:%d|/app" % srv.port
    assert e["mod_wsgi.callable_object"] == "application"
    assert e["mod_wsgi.request_handler"] == "wsgi-script"
    assert e["mod_wsgi.handler_script"] == ""
    assert e["mod_wsgi.script_name"] == "/app"
    assert e["mod_wsgi.path_info"] == "/p"
    assert e["mod_wsgi.listener_host"] == "127.0.0.1"
    assert e["mod_wsgi.listener_port"] == str(srv.port)
    # settings the daemon needs are internal (mod_wsgi.x-*), never shown
    assert "mod_wsgi.script_reloading" not in e
    assert not [k for k in e if k.startswith("mod_wsgi.x-")]
    assert e["mod_wsgi.request_id"]
    # seconds since the epoch, as floats (mod_wsgi 6.1)
    assert out["types"]["mod_wsgi.request_start"] == "float"
    assert float(e["mod_wsgi.request_start"]) > 1e9
    v = out["mod_wsgi_version"]
    assert v and all(isinstance(x, int) for x in v), v
    a = out["apache_version"]
    assert a and a[:2] == [2, 4] and all(isinstance(x, int) for x in a), a


def test_request_id_differs_between_requests(srv):
    a, _, _ = fetch(srv, "/app")
    b, _, _ = fetch(srv, "/app")
    assert a["mod_wsgi.request_id"] != b["mod_wsgi.request_id"]


def test_basic_auth_user(srv):
    assert srv.get("/private").status == 401
    e, _, _ = fetch(srv, "/private/x", headers=AUTH)
    assert e["REMOTE_USER"] == USER
    assert e["AUTH_TYPE"] == "Basic"
    # without WSGIPassAuthorization the credentials are not passed on
    assert "HTTP_AUTHORIZATION" not in e


def test_keep_alive_requests_do_not_leak(srv):
    conn = srv.connection()
    try:
        envs = []
        plan = [("/private/1", dict(AUTH, **{"X-Leak-Test": "secret-1"})),
                ("/app/2", {}),
                ("/private/3", dict(AUTH, Cookie="session=abc")),
                ("/app/4", {})]
        for path, headers in plan:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            data = r.read()
            assert r.status == 200, data[:300]
            assert not r.will_close
            envs.append(json.loads(data)["environ"])
        ports = {e["REMOTE_PORT"] for e in envs}
        assert len(ports) == 1, "requests did not share one connection"
        assert envs[0]["HTTP_X_LEAK_TEST"] == "secret-1"
        assert envs[2]["HTTP_COOKIE"] == "session=abc"
        for anon in (envs[1], envs[3]):
            assert "HTTP_X_LEAK_TEST" not in anon
            assert "HTTP_COOKIE" not in anon
            assert "REMOTE_USER" not in anon
            assert "AUTH_TYPE" not in anon
            assert "HTTP_AUTHORIZATION" not in anon
        assert "HTTP_X_LEAK_TEST" not in envs[2]
    finally:
        conn.close()


@pytest.mark.rs_only
def test_host_header_port_does_not_select_interpreter(srv):
    """The default application group (%{RESOURCE}) must not depend on the
    port a client writes in its Host header. mod_wsgi 4.9.4 builds it from
    ap_get_server_port(), i.e. from the Host header under the default
    UseCanonicalName Off: every new port ("Host: 127.0.0.1:1", ":2", ...)
    makes it create one more Python sub-interpreter, without limit."""
    groups = set()
    for port in (1, 2, 3, srv.port):
        e, _, _ = fetch(srv, "/app", headers={"Host": "127.0.0.1:%d" % port})
        groups.add(e["mod_wsgi.application_group"])
    assert groups == {"127.0.0.1:%d|/app" % srv.port}, groups
