"""No environ leakage between requests, in embedded and daemon mode:
keep-alive sequences alternating authenticated (mod_auth_basic → REMOTE_USER;
WSGIPassAuthorization → HTTP_AUTHORIZATION) and anonymous requests with
different headers, an app that scribbles over its environ, concurrent
clients with unique markers; and os.environ never changed by requests.
"""

import base64
import hashlib
import json
import os
import threading

import pytest

pytestmark = [
    pytest.mark.skipif(os.environ.get("MOD_WSGI_TEST_MODE") == "daemon",
                       reason="covers embedded and daemon mode itself"),
]


def config():
    lines = ["WSGISocketPrefix @ROOT@/run/wsgi",
             "WSGIDaemonProcess lk processes=1 threads=4",
             "SetEnvIf X-Flag ^yes$ FLAGGED=1"]
    for mode in ("e", "d"):
        pg = " process-group=lk" if mode == "d" else ""
        for loc in ("anon", "auth", "pass"):
            lines.append("WSGIScriptAlias /%s/%s @APPS@/envleak.wsgi%s" % (mode, loc, pg))
        lines += [
            "<Location /%s/auth>" % mode,
            "    AuthType Basic", "    AuthName leak",
            "    AuthUserFile @ROOT@/htpasswd", "    Require valid-user",
            "</Location>",
            "<Location /%s/pass>" % mode, "    WSGIPassAuthorization On", "</Location>",
        ]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def srv(server_factory):
    s = server_factory(config(), name="envleak")
    path = os.path.join(s.root, "htpasswd")
    with open(path, "w") as f:
        for user, pw in (("alice", "alice-pw"), ("bob", "bob-pw")):
            digest = base64.b64encode(hashlib.sha1(pw.encode()).digest()).decode()
            f.write("%s:{SHA}%s\n" % (user, digest))
    os.chmod(path, 0o644)
    return s


def basic(user):
    return "Basic " + base64.b64encode(("%s:%s-pw" % (user, user)).encode()).decode()


# Keys that only some requests of the sequence have.
PRIVATE = ("REMOTE_USER", "AUTH_TYPE", "HTTP_AUTHORIZATION", "HTTP_X_SECRET",
           "HTTP_COOKIE", "FLAGGED", "HTTP_X_FLAG", "HTTP_X_MUTATED")


def sequence(mode, n):
    """(path, headers, expected private keys and values) for request i."""
    out = []
    for i in range(n):
        kind = i % 5
        if kind == 0:
            user = "alice" if i % 2 else "bob"
            out.append(("/%s/auth?i=%d" % (mode, i),
                        {"Authorization": basic(user), "X-Secret": "s-%d" % i},
                        {"REMOTE_USER": user, "AUTH_TYPE": "Basic",
                         "HTTP_X_SECRET": "s-%d" % i}))
        elif kind == 1:
            out.append(("/%s/anon?i=%d" % (mode, i), {}, {}))
        elif kind == 2:
            out.append(("/%s/pass?i=%d&mutate=1" % (mode, i),
                        {"Authorization": "Bearer tok-%d" % i, "Cookie": "c=%d" % i,
                         "X-Flag": "yes"},
                        {"HTTP_AUTHORIZATION": "Bearer tok-%d" % i,
                         "HTTP_COOKIE": "c=%d" % i, "FLAGGED": "1",
                         "HTTP_X_FLAG": "yes"}))
        elif kind == 3:
            # an anonymous request that sends an Authorization header to a
            # location without WSGIPassAuthorization: not passed
            out.append(("/%s/anon?i=%d" % (mode, i),
                        {"Authorization": "Bearer hidden-%d" % i}, {}))
        else:
            out.append(("/%s/pass?i=%d" % (mode, i), {"X-Other": "o"}, {}))
    return out


def check(e, path, expected):
    q = path.split("?", 1)[1]
    assert e["QUERY_STRING"] == q
    assert e.get("REMOTE_ADDR") == "127.0.0.1"
    assert e["wsgi.url_scheme"] == "http"
    for k in PRIVATE:
        assert e.get(k) == expected.get(k), (path, k, e.get(k), expected.get(k))


@pytest.mark.parametrize("mode", ["e", "d"])
def test_keep_alive_alternating_auth_and_anonymous(srv, mode):
    conn = srv.connection()
    try:
        for path, headers, expected in sequence(mode, 40):
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            body = r.read()
            assert r.status == 200, (path, r.status, body[:200])
            assert not r.will_close, path  # really one connection
            check(json.loads(body)["environ"], path, expected)
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["e", "d"])
def test_wrong_password_then_anonymous(srv, mode):
    conn = srv.connection()
    try:
        conn.request("GET", "/%s/auth?x=1" % mode,
                     headers={"Authorization": "Basic " + base64.b64encode(b"alice:wrong").decode()})
        r = conn.getresponse()
        r.read()
        assert r.status == 401
        if r.will_close:
            conn.close()
            conn = srv.connection()
        conn.request("GET", "/%s/anon?x=2" % mode)
        r = conn.getresponse()
        e = json.loads(r.read())["environ"]
        check(e, "/anon?x=2", {})
    finally:
        conn.close()


@pytest.mark.parametrize("mode", ["e", "d"])
def test_concurrent_clients_see_only_their_own_values(srv, mode):
    """6 keep-alive clients × 40 requests, each with its own markers and a
    sequence of auth/anonymous requests: every environ holds exactly that
    request's values (daemon threads and Apache threads are reused)."""
    errors = []

    def client(c):
        conn = srv.connection()
        try:
            for path, headers, expected in sequence(mode, 40):
                marker = "c%d-%s" % (c, path)
                headers = dict(headers, **{"X-Marker": marker})
                conn.request("GET", path, headers=headers)
                r = conn.getresponse()
                e = json.loads(r.read())["environ"]
                try:
                    check(e, path, expected)
                    assert e["HTTP_X_MARKER"] == marker
                except AssertionError as err:
                    errors.append(err)
                    return
        except Exception as err:
            errors.append(err)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not [t for t in threads if t.is_alive()]
    assert not errors, errors[:3]


@pytest.mark.parametrize("mode", ["e", "d"])
def test_os_environ_is_not_changed_by_requests(srv, mode):
    """os.environ is the process environment: no request's CGI variables,
    headers, SetEnv values or credentials ever appear there."""
    first = srv.get("/%s/anon?i=0" % mode).json()
    snapshots = []
    conn = srv.connection()
    try:
        for path, headers, _ in sequence(mode, 25):
            conn.request("GET", path, headers=dict(headers, **{"X-Probe": "probe-value"}))
            r = conn.getresponse()
            out = json.loads(r.read())
            if out["pid"] == first["pid"]:
                snapshots.append(out["os_environ"])
    finally:
        conn.close()
    assert snapshots
    base = first["os_environ"]
    for k in base:
        assert not k.startswith("HTTP_"), k
    for k in ("REQUEST_METHOD", "QUERY_STRING", "REMOTE_USER", "REMOTE_ADDR",
              "SCRIPT_NAME", "PATH_INFO", "FLAGGED", "STATE_DIR", "AUTH_TYPE"):
        assert k not in base, k
    assert not any("probe-value" in v or "tok-" in v for v in base.values())
    for snap in snapshots:
        assert snap == base
