"""What one request leaves behind must not reach the next on the same
thread: environ entries (the module remembers a thread's last environ to
build the next one faster) and wsgi.errors streams (handed out again only
when the application kept no reference). The requests run on one keep-alive
connection to a prefork child (one thread) and to a daemon group with one
thread, so they all go through the same thread's memory."""

import json
import random

import pytest

BODY = r"""
WSGIDaemonProcess one processes=1 threads=1
WSGIScriptAlias /daemon/errors @APPS@/errors_reuse.wsgi process-group=one application-group=%{GLOBAL}
WSGIScriptAlias /daemon @APPS@/environ.wsgi process-group=one application-group=%{GLOBAL}
WSGIScriptAlias /embedded/errors @APPS@/errors_reuse.wsgi process-group=%{GLOBAL} application-group=%{GLOBAL}
WSGIScriptAlias /embedded @APPS@/environ.wsgi process-group=%{GLOBAL} application-group=%{GLOBAL}
<LocationMatch "^/(embedded|daemon)/setenv">
    SetEnv wsgi.run_once yes
    SetEnv wsgi.version 9
    SetEnv mod_wsgi.version x
</LocationMatch>
"""

MODES = ["embedded", "daemon"]
EXTRA = ["X-Alpha", "X-Beta", "X-Gamma", "X-Delta", "Cookie", "Authorization"]
# What http.client sends by itself.
ALWAYS = {"HTTP_HOST", "HTTP_ACCEPT_ENCODING"}


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, mpm="prefork", name="environ-reuse")


def environ_key(header):
    return "HTTP_" + header.upper().replace("-", "_")


def plan(seed):
    """Requests whose headers, values, methods and query strings change
    from one to the next in every way: present, absent, same value, new
    value, a long value, other order."""
    rnd = random.Random(seed)
    values = ["one", "two", "x" * 300, ""]
    last = {}
    out = []
    for i in range(40):
        headers = {}
        for h in rnd.sample(EXTRA, rnd.randint(0, len(EXTRA))):
            if h in last and rnd.random() < 0.5:
                headers[h] = last[h]
            else:
                headers[h] = rnd.choice(values) + ("-%d" % i if rnd.random() < 0.5 else "")
        last = headers
        body = b"b" * rnd.randint(1, 50) if rnd.random() < 0.3 else None
        query = rnd.choice(["", "q=1", "q=%d" % i])
        out.append(("POST" if body else "GET", query, headers, body))
    return out


@pytest.mark.parametrize("mode", MODES)
def test_environ_has_exactly_this_requests_entries(srv, mode):
    conn = srv.connection()
    try:
        ports = set()
        for method, query, headers, body in plan(sum(map(ord, mode))):
            conn.request(method, "/%s/p?%s" % (mode, query) if query else "/%s/p" % mode,
                         body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            assert r.status == 200, data[:300]
            e = json.loads(data)["environ"]
            ports.add(e["REMOTE_PORT"])
            want = {environ_key(h): v for h, v in headers.items()
                    if h != "Authorization"}
            got = {k: v for k, v in e.items()
                   if k.startswith("HTTP_") and k not in ALWAYS}
            assert got == want, (method, query, headers)
            assert "HTTP_AUTHORIZATION" not in e
            assert e["REQUEST_METHOD"] == method
            assert e["QUERY_STRING"] == query
            if body:
                assert e["CONTENT_LENGTH"] == str(len(body))
            else:
                assert "CONTENT_LENGTH" not in e
        assert len(ports) == 1, "the requests did not share one connection"
    finally:
        conn.close()


def get_json(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    data = r.read()
    assert r.status == 200, data[:300]
    return json.loads(data)


@pytest.mark.parametrize("mode", MODES)
def test_kept_errors_stream_is_not_handed_out_again(srv, mode):
    conn = srv.connection()
    try:
        base = "/%s/errors" % mode
        assert get_json(conn, base + "?keep=1")["type"] == "TextIOWrapper"
        for _ in range(5):
            out = get_json(conn, base)
            assert out == {"kept_stream": False, "kept_buffer": False,
                           "type": "TextIOWrapper"}
        get_json(conn, base + "?keep-buffer=1")
        for _ in range(5):
            assert not get_json(conn, base)["kept_buffer"]
    finally:
        conn.close()


@pytest.mark.parametrize("mode", MODES)
def test_each_requests_errors_reach_the_log(srv, mode):
    conn = srv.connection()
    mark = srv.log_mark()
    try:
        for i in range(6):
            get_json(conn, "/%s/errors?log=reuse-marker-%s-%d" % (mode, mode, i))
    finally:
        conn.close()
    for i in range(6):
        srv.wait_for_log(r"reuse-marker-%s-%d\b" % (mode, i), since=mark)


@pytest.mark.parametrize("mode", MODES)
def test_fixed_entries_are_the_servers_whatever_came_before(srv, mode):
    """wsgi.version, the flags, the file wrapper and the version tuples are
    the same objects for every request (the thread's template dict keeps
    them); a variable of the same name never replaces them, in any order
    of requests with and without one."""
    conn = srv.connection()
    try:
        for path in ["p", "setenv", "setenv", "p", "setenv", "p", "p"]:
            out = get_json(conn, "/%s/%s" % (mode, path))
            e, types = out["environ"], out["types"]
            assert out["wsgi_version"] == [1, 0]
            assert len(out["mod_wsgi_version"]) == 3
            assert all(isinstance(n, int) for n in out["apache_version"])
            assert out["file_wrapper_callable"]
            for key in ("wsgi.run_once", "wsgi.multithread", "wsgi.multiprocess",
                        "wsgi.input_terminated"):
                assert types[key] == "bool", (path, key, e[key])
            assert e["wsgi.run_once"] == "False", path
            assert e["wsgi.input_terminated"] == "True", path
    finally:
        conn.close()
