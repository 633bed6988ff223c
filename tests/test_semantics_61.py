"""mod_wsgi 6.1 semantics (issue #16): the mod_wsgi.* environ keys and their
types, keys mod_wsgi 6.1 leaves out, start_response's exceptions, the log
streams, a restricted sys.stdin, PATH_INFO slashes, proxy headers of kinds
not configured, script loading lines and the reload_required() hook.

Runs in the mode MOD_WSGI_TEST_MODE selects (the proxy and reload tests
cover both modes themselves). Against mod_wsgi 6.1.1 (MOD_WSGI_SO) the same
assertions hold, except where this module deliberately differs (one
interpreter per process; PEP 3333's second start_response): those tests are
skipped there. Against mod_wsgi 4.9.4 the 6.1-only tests are skipped.
"""

import json
import os
import re
import time

import pytest

from harness import apache as harness

IMPL = harness.IMPL
VERSION = getattr(harness, "MOD_WSGI_VERSION", None)
IS_MOD_WSGI = IMPL != "rs"
IS_61 = IMPL == "mod_wsgi6" or (VERSION is not None and tuple(VERSION)[:2] >= (6, 1))

# 6.1 behaviour that mod_wsgi 4.9.4 lacks: runs against ours and 6.1.
only_61 = pytest.mark.skipif(IS_MOD_WSGI and not IS_61,
                             reason="mod_wsgi 6.1 behaviour; mod_wsgi %s lacks it"
                             % (".".join(map(str, VERSION)) if VERSION else "4.9"))


def differs(why):
    """A deliberate difference from mod_wsgi: skipped against it."""
    return pytest.mark.skipif(IS_MOD_WSGI, reason="mod_wsgi_rs differs on purpose: " + why)


DAEMON = harness.TEST_MODE == "daemon"

BODY = r"""
WSGIRestrictStdin On
WSGIApplicationGroup %{GLOBAL}
WSGIScriptAlias /s @APPS@/semantics.wsgi
<Location /https-env>
    SetEnv HTTPS on
    SetEnv mod_wsgi.x-forged 1
</Location>
WSGIScriptAlias /https-env @APPS@/semantics.wsgi
MergeSlashes Off
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="semantics")


def get_json(srv, path, status=200, headers=None):
    r = srv.get(path, headers=headers)
    assert r.status == status, (r.status, r.body[:500])
    return r.json()


def env(srv, path="/s?env", headers=None):
    return get_json(srv, path, headers=headers)


# ------------------------------------------------------------ environ keys

MOD_WSGI_KEYS = {
    "mod_wsgi.application_group", "mod_wsgi.application_start",
    "mod_wsgi.callable_object", "mod_wsgi.daemon_start", "mod_wsgi.handler_script",
    "mod_wsgi.listener_host", "mod_wsgi.listener_port", "mod_wsgi.path_info",
    "mod_wsgi.process_group", "mod_wsgi.queue_start", "mod_wsgi.request_handler",
    "mod_wsgi.request_id", "mod_wsgi.request_start", "mod_wsgi.script_name",
    "mod_wsgi.server_pid", "mod_wsgi.thread_id", "mod_wsgi.version",
}


@only_61
def test_mod_wsgi_keys_are_61s(srv):
    out = env(srv)
    keys = {k for k in out["environ"] if k.startswith("mod_wsgi.")}
    # connection_id only when Apache assigned the connection a log id
    assert keys - {"mod_wsgi.connection_id"} == MOD_WSGI_KEYS, sorted(keys ^ MOD_WSGI_KEYS)
    t = out["types"]
    for k in ("request_start", "queue_start", "daemon_start", "application_start"):
        assert t["mod_wsgi." + k] == "float", (k, t["mod_wsgi." + k])
    assert t["mod_wsgi.thread_id"] == "int"
    assert t["mod_wsgi.server_pid"] == "str"
    assert t["mod_wsgi.version"] == "tuple"


@only_61
def test_internal_settings_and_cgi_extras_are_not_in_environ(srv):
    e = env(srv)["environ"]
    for k in ("GATEWAY_INTERFACE", "SERVER_SIGNATURE", "REMOTE_IDENT", "HTTPS",
              "mod_wsgi.script_reloading", "mod_wsgi.enable_sendfile",
              "mod_wsgi.ignore_activity"):
        assert k not in e, k
    assert not [k for k in e if k.startswith("mod_wsgi.x-")]


@only_61
def test_timing_keys_are_seconds_since_the_epoch(srv):
    before = time.time()
    e = env(srv)["environ"]
    after = time.time()
    request_start = e["mod_wsgi.request_start"]
    application_start = e["mod_wsgi.application_start"]
    assert before - 1 <= request_start <= application_start <= after + 1
    queue, daemon = e["mod_wsgi.queue_start"], e["mod_wsgi.daemon_start"]
    if DAEMON:
        # queue_start: the Apache child took the request; daemon_start: a
        # daemon thread took it
        assert request_start <= queue <= daemon <= application_start, \
            (request_start, queue, daemon, application_start)
    else:
        assert queue == 0.0 and daemon == 0.0


@only_61
def test_server_pid_thread_id_and_request_id(srv):
    out = env(srv)
    e = out["environ"]
    assert e["mod_wsgi.server_pid"].isdigit()
    if DAEMON:
        # the Apache child that relayed the request
        assert int(e["mod_wsgi.server_pid"]) != out["pid"]
    else:
        assert int(e["mod_wsgi.server_pid"]) == out["pid"]
    assert e["mod_wsgi.thread_id"] >= 1
    ids = {env(srv)["environ"]["mod_wsgi.request_id"] for _ in range(3)}
    assert len(ids) == 3 and all(ids), ids


@only_61
def test_https_from_setenv_decides_url_scheme_and_is_removed(srv):
    e = env(srv, "/https-env?env")["environ"]
    assert e["wsgi.url_scheme"] == "https"
    assert "HTTPS" not in e
    assert "mod_wsgi.x-forged" not in e
    assert env(srv)["environ"]["wsgi.url_scheme"] == "http"


@pytest.mark.parametrize("path,script_name,path_info", [
    ("/s//a///b?env", "/s", "/a/b"),
    ("/s/a//?env", "/s", "/a/"),
])
def test_runs_of_slashes_collapse_in_path_info(srv, path, script_name, path_info):
    """mod_wsgi collapses '//' in SCRIPT_NAME and PATH_INFO itself, so it
    holds with MergeSlashes Off (set for this server) too."""
    e = env(srv, path)["environ"]
    assert e["SCRIPT_NAME"] == script_name
    assert e["PATH_INFO"] == path_info
    assert e["mod_wsgi.path_info"] == path_info


# ---------------------------------------------------------- start_response

SR_CASES = {
    "status-int": "TypeError",
    "status-bytes": "TypeError",
    "status-nonlatin1": "UnicodeEncodeError",
    "status-surrogate": "UnicodeEncodeError",
    "status-code": "ValueError",
    "status-crlf": "ValueError",
    "headers-tuple": "TypeError",
    "header-list": "TypeError",
    "header-three": "ValueError",
    "name-int": "TypeError",
    "name-bytes": "TypeError",
    "name-empty": "ValueError",
    "name-space": "ValueError",
    "name-nonlatin1": "UnicodeEncodeError",
    "value-int": "TypeError",
    "value-bytes": "TypeError",
    "value-crlf": "ValueError",
    "value-lf": "ValueError",
    "value-nonlatin1": "UnicodeEncodeError",
}


@only_61
@pytest.mark.parametrize("case", sorted(SR_CASES))
def test_start_response_raises_at_the_call(srv, case):
    """The exception comes out of the start_response call itself, of
    mod_wsgi 6's type; the application can catch it and answer."""
    out = get_json(srv, "/s?sr-" + case)
    assert out["type"] == SR_CASES[case], out
    assert out["at_call"] is True, out
    assert out["message"], out


@only_61
def test_start_response_messages_say_what_is_wrong(srv):
    assert "latin-1" in get_json(srv, "/s?sr-value-nonlatin1")["message"]
    msg = get_json(srv, "/s?sr-value-crlf")["message"]
    assert "X-A" in msg or "1\\r\\nX-Injected" in msg, msg
    assert "int" in get_json(srv, "/s?sr-status-int")["message"]


@only_61
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "12abc"])
def test_non_numeric_content_length_is_500(srv, value):
    mark = srv.log_mark()
    r = srv.get("/s?cl-" + value)
    assert r.status == 500, (r.status, r.body[:200])
    assert b"bad Content-Length" not in r.body
    srv.wait_for_log(r"invalid Content-Length header value: '%s'" % re.escape(value),
                     since=mark)


@pytest.mark.strict_pep3333
@differs("PEP 3333: a second start_response without exc_info is an error "
         "(mod_wsgi 6 lets it replace the first until output starts)")
def test_second_start_response_without_exc_info_raises(srv):
    r = srv.get("/s?twice")
    assert r.status == 500
    out = r.json()
    assert out["type"] == "RuntimeError"
    assert "more than once without exc_info" in out["message"]


# ------------------------------------------------------------------ streams

@only_61
def test_log_streams_are_text_wrappers_over_a_binary_log(srv):
    tok = "t%d" % time.time_ns()
    mark = srv.log_mark()
    info = get_json(srv, "/s?streams-" + tok)
    for key, name in (("wsgi.errors", "<wsgi.errors>"), ("stdout", "<stdout>"),
                      ("stderr", "<stderr>")):
        d = info[key]
        assert d["type"] == "_io.TextIOWrapper", d
        assert d["buffer"] == "mod_wsgi.Log", d
        assert d["name"] == name and d["encoding"] == "utf-8", d
        assert d["errors"] == "replace" and d["line_buffering"] is True, d
    assert info["int_write"] == "TypeError"
    for what in ("errors-bytes", "errors-bytearray", "errors-memoryview",
                 "errors-wl-bytes", "errors-wl-bytearray", "errors-wl-memoryview",
                 "errors-text", "stderr-bytes", "stdout-print", "stdout-memoryview"):
        srv.wait_for_log(r"%s-%s$" % (what, tok), since=mark)


@only_61
def test_restricted_stdin(srv):
    out = get_json(srv, "/s?stdin")
    assert out["type"] == "mod_wsgi.Restricted", out
    for what in ("read", "readline", "fileno"):
        assert out[what] == "OSError: sys.stdin access restricted by mod_wsgi", out


# ------------------------------------------------------------ proxy headers

PROXY_BODY = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess px61 processes=1 threads=4
"""
PROXY_POLICIES = {
    # location: (WSGITrustedProxyHeaders, WSGITrustedProxies)
    "xff": ("X-Forwarded-For", "127.0.0.1"),
    "xff_untrusted": ("X-Forwarded-For", "10.9.9.9"),
    "xff_anypeer": ("X-Forwarded-For", None),
    "script": ("X-Forwarded-Script-Name", "127.0.0.1"),
    "xhost": ("X-Host", "127.0.0.1"),
    "https_flag": ("X-HTTPS", "127.0.0.1"),
}


def proxy_config():
    lines = [PROXY_BODY]
    for mode in ("e", "d"):
        for loc, (headers, proxies) in PROXY_POLICIES.items():
            mount = "/%s/%s" % (mode, loc)
            pg = " process-group=px61" if mode == "d" else ""
            lines.append("WSGIScriptAlias %s @APPS@/semantics.wsgi%s" % (mount, pg))
            lines.append("<Location %s>" % mount)
            lines.append("    WSGITrustedProxyHeaders %s" % headers)
            if proxies:
                lines.append("    WSGITrustedProxies %s" % proxies)
            lines.append("</Location>")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def proxy_srv(server_factory):
    return server_factory(proxy_config(), name="proxy61")


def penv(srv, mode, loc, headers):
    return get_json(srv, "/%s/%s?env" % (mode, loc), headers=headers)["environ"]


def MODES(f):
    """Both modes, by mount; once (under MOD_WSGI_TEST_MODE=embedded)."""
    f = pytest.mark.parametrize("mode", ["e", "d"])(f)
    return pytest.mark.skipif(DAEMON, reason="covers embedded and daemon mode itself")(f)


@only_61
@MODES
def test_unconfigured_proxy_kinds_pass_through(proxy_srv, mode):
    """Only the purposes named in WSGITrustedProxyHeaders are governed:
    X-Forwarded-Proto / -Host reach the application as plain HTTP_*
    variables (for frameworks doing their own proxy handling) and change
    nothing; X-Real-IP, another spelling of the configured client-address
    purpose, is removed (CVE-2022-2255)."""
    sent = {"X-Forwarded-For": "203.0.113.7", "X-Real-IP": "6.6.6.6",
            "X-Forwarded-Proto": "https", "X-Forwarded-Host": "front.example",
            "X-Forwarded-Port": "8443"}
    e = penv(proxy_srv, mode, "xff", sent)
    assert e["REMOTE_ADDR"] == "203.0.113.7"
    assert "HTTP_X_REAL_IP" not in e
    assert e["HTTP_X_FORWARDED_PROTO"] == "https"
    assert e["wsgi.url_scheme"] == "http"
    assert e["HTTP_X_FORWARDED_HOST"] == "front.example"
    assert e["HTTP_HOST"] == "127.0.0.1:%d" % proxy_srv.port
    assert e["HTTP_X_FORWARDED_PORT"] == "8443"
    assert e["SERVER_PORT"] == str(proxy_srv.port)
    # from an untrusted peer: the governed purpose is removed entirely,
    # the others still pass through
    e = penv(proxy_srv, mode, "xff_untrusted", sent)
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert "HTTP_X_FORWARDED_FOR" not in e and "HTTP_X_REAL_IP" not in e
    assert e["HTTP_X_FORWARDED_PROTO"] == "https"
    assert e["HTTP_X_FORWARDED_HOST"] == "front.example"


@only_61
@MODES
def test_forwarded_script_name_sets_mount_point(proxy_srv, mode):
    e = penv(proxy_srv, mode, "script", {"X-Forwarded-Script-Name": "/prefix",
                                         "X-Script-Name": "/other"})
    assert e["SCRIPT_NAME"] == "/prefix"
    assert e["mod_wsgi.mount_point"] == "/prefix"
    assert e["mod_wsgi.script_name"] == "/%s/script" % mode
    assert "HTTP_X_SCRIPT_NAME" not in e
    e = penv(proxy_srv, mode, "script", {})
    assert "mod_wsgi.mount_point" not in e
    assert e["SCRIPT_NAME"] == "/%s/script" % mode


@only_61
@MODES
def test_x_host_and_x_https(proxy_srv, mode):
    e = penv(proxy_srv, mode, "xhost", {"X-Host": "h.example", "X-Forwarded-Host": "no"})
    assert e["HTTP_HOST"] == "h.example"
    assert "HTTP_X_FORWARDED_HOST" not in e
    for value, scheme in (("On", "https"), ("true", "https"), ("1", "https"),
                          ("0", "http"), ("off", "http")):
        e = penv(proxy_srv, mode, "https_flag", {"X-HTTPS": value})
        assert e["wsgi.url_scheme"] == scheme, value
        assert "HTTPS" not in e


@only_61
@MODES
def test_any_peer_trusted_without_trusted_proxies(proxy_srv, mode):
    """Without WSGITrustedProxies every peer is trusted and the leftmost
    X-Forwarded-For entry is the client, as mod_wsgi 6 does it."""
    e = penv(proxy_srv, mode, "xff_anypeer",
             {"X-Forwarded-For": "203.0.113.9, 10.0.0.1", "X-Client-IP": "6.6.6.6"})
    assert e["REMOTE_ADDR"] == "203.0.113.9"
    assert e["HTTP_X_FORWARDED_FOR"] == "203.0.113.9, 10.0.0.1"
    assert "HTTP_X_CLIENT_IP" not in e


@pytest.mark.skipif(DAEMON, reason="covers embedded and daemon mode itself")
@differs("the warning is mod_wsgi_rs's own log line")
def test_any_peer_trust_is_logged(proxy_srv):
    penv(proxy_srv, "e", "xff_anypeer", {})
    proxy_srv.wait_for_log(r"WSGITrustedProxyHeaders \(HTTP_X_FORWARDED_FOR\) is set "
                           r"without WSGITrustedProxies: these headers are believed "
                           r"from any client")


# ------------------------------------------------- script loading/reloading

RELOAD_BODY = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess rl61 processes=1 threads=1
WSGIApplicationGroup %{GLOBAL}
WSGIScriptAlias /e/rl @APPS@/reload_hook.wsgi
WSGIScriptAlias /d/rl @APPS@/reload_hook.wsgi process-group=rl61
<Directory @ROOT@/linked>
    Options FollowSymLinks
    Require all granted
</Directory>
WSGIScriptAlias /e/ln @ROOT@/linked/app.wsgi
WSGIScriptAlias /d/ln @ROOT@/linked/app.wsgi process-group=rl61
WSGIHandlerScript rl-e @ROOT@/targets/handler.wsgi
WSGIHandlerScript rl-d @ROOT@/targets/handler.wsgi process-group=rl61
<Location /hs-e.txt>
    SetHandler rl-e
</Location>
<Location /hs-d.txt>
    SetHandler rl-d
</Location>
"""


@pytest.fixture(scope="module")
def reload_srv(server_factory):
    return server_factory(RELOAD_BODY, name="reload61")


def token(srv, mode):
    r = srv.get("/%s/rl" % mode)
    assert r.status == 200, (r.status, r.body[:300])
    return r.body.decode()


def set_flag(srv, value):
    path = os.path.join(srv.state, "reload.flag")
    if value is None:
        if os.path.exists(path):
            os.unlink(path)
        return
    with open(path, "w") as f:
        f.write(value)


@only_61
@MODES
def test_loading_line_at_info_level(reload_srv, mode):
    token(reload_srv, mode)
    script = os.path.join(reload_srv.apps, "reload_hook.wsgi")
    where = ("main interpreter of daemon process 'rl61'" if mode == "d"
             else "main interpreter in embedded mode")
    reload_srv.wait_for_log(r"\[wsgi:info\].*Loading WSGI script '%s' into %s\."
                            % (re.escape(script), re.escape(where)), since=0)


@only_61
@MODES
def test_reload_required_hook(reload_srv, mode):
    """reload_required(resource) is consulted before the loaded module is
    reused: false keeps it, true reloads it, an exception is logged and
    keeps it."""
    set_flag(reload_srv, None)
    first = token(reload_srv, mode)
    assert token(reload_srv, mode) == first
    calls = os.path.join(reload_srv.state, "reload-calls.log")
    with open(calls) as f:
        resources = set(f.read().split())
    assert resources == {os.path.join(reload_srv.apps, "reload_hook.wsgi")}, resources
    mark = reload_srv.log_mark()
    set_flag(reload_srv, "raise")
    try:
        assert token(reload_srv, mode) == first
        reload_srv.wait_for_log(r"reload-hook-failed-4c1e", since=mark)
        set_flag(reload_srv, "yes")
        second = token(reload_srv, mode)
        assert second != first
    finally:
        set_flag(reload_srv, None)
    # once the hook says no again the module stays (in daemon mode the
    # reload also restarts the process, which loads the script afresh: let
    # the daemon processes settle first)
    if mode == "d":
        reload_srv.settled_daemon_processes()
    current = token(reload_srv, mode)
    for _ in range(3):
        assert token(reload_srv, mode) == current


TOKEN_APP = """import uuid
TOKEN = uuid.uuid4().hex + "%s"
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [TOKEN.encode()]
handle_request = application
"""


def write_file(path, text, mtime_ahead=0):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    if mtime_ahead:
        t = time.time() + mtime_ahead
        os.utime(path, (t, t))


def body_of(srv, path):
    r = srv.get(path)
    assert r.status == 200, (r.status, r.body[:300])
    return r.body.decode()


@MODES
def test_reload_follows_a_symlinked_script(reload_srv, mode):
    """The script's modification time is the one Apache's directory walk
    took (a symlink it may follow gives the target's): changing the target
    reloads, the link itself unchanged."""
    target = os.path.join(reload_srv.root, "targets", "linked-%s.wsgi" % mode)
    link = os.path.join(reload_srv.root, "linked", "app.wsgi")
    write_file(target, TOKEN_APP % "-v1")
    os.makedirs(os.path.dirname(link), mode=0o755, exist_ok=True)
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(target, link)
    first = body_of(reload_srv, "/%s/ln" % mode)
    assert first.endswith("-v1")
    assert body_of(reload_srv, "/%s/ln" % mode) == first
    write_file(target, TOKEN_APP % "-v2", mtime_ahead=5)
    assert body_of(reload_srv, "/%s/ln" % mode).endswith("-v2")


@MODES
def test_handler_script_reloads_on_its_own_change(reload_srv, mode):
    """A WSGIHandlerScript is reloaded when it changes, not when the file
    the URL maps to does."""
    handler = os.path.join(reload_srv.root, "targets", "handler.wsgi")
    doc = os.path.join(reload_srv.htdocs, "hs-%s.txt" % mode)
    write_file(handler, TOKEN_APP % "-h1")
    write_file(doc, "a document\n")
    if mode == "d":
        reload_srv.settled_daemon_processes()
    first = body_of(reload_srv, "/hs-%s.txt" % mode)
    assert first.endswith("-h1")
    write_file(doc, "the document changed\n", mtime_ahead=5)
    assert body_of(reload_srv, "/hs-%s.txt" % mode) == first
    write_file(handler, TOKEN_APP % "-h2", mtime_ahead=5)
    assert body_of(reload_srv, "/hs-%s.txt" % mode).endswith("-h2")
