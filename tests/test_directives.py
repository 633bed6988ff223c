"""Directives that change request handling (one Apache for most of them, a
second one for the server-wide interpreter flags)."""

import os
import time

import pytest

from harness.apache import wait_for

BODY = r"""
WSGIScriptAlias /app @APPS@/environ.wsgi
WSGIScriptAlias /pyinfo @APPS@/pyinfo.wsgi

WSGIScriptAlias /callable-option @APPS@/callables.wsgi callable-object=myapp
WSGIScriptAlias /callable-default @APPS@/callables.wsgi
WSGIScriptAlias /callable-directive @APPS@/callables.wsgi
<Location /callable-directive>
    WSGICallableObject other
</Location>

WSGIScriptAliasMatch ^/m/([^/]+) @APPS@/match/$1.wsgi

Alias /h @APPS@/handler
Alias /hnoexec @APPS@/handler_noexec
<Directory @APPS@/handler>
    Options ExecCGI
    AddHandler wsgi-script .wsgi
</Directory>
<Directory @APPS@/handler_noexec>
    Options None
    AddHandler wsgi-script .wsgi
</Directory>

WSGIScriptAlias /global @APPS@/environ.wsgi
<Location /global>
    WSGIApplicationGroup %{GLOBAL}
</Location>

WSGIScriptAlias /auth-on @APPS@/environ.wsgi
<Location /auth-on>
    WSGIPassAuthorization On
</Location>

WSGIScriptAlias /chunked-on @APPS@/echo.wsgi
<Location /chunked-on>
    WSGIChunkedRequest On
</Location>
WSGIScriptAlias /chunked-off @APPS@/echo.wsgi
<Location /chunked-off>
    WSGIChunkedRequest Off
</Location>

WSGIScriptAlias /reload-on @APPS@/reload.wsgi
WSGIScriptAlias /reload-off @APPS@/reload.wsgi
<Location /reload-off>
    WSGIScriptReloading Off
</Location>

WSGIScriptAlias /pyinfo2 @APPS@/pyinfo.wsgi
WSGIScriptAlias /pyinfo-global @APPS@/pyinfo.wsgi
<Location /pyinfo-global>
    WSGIApplicationGroup %{GLOBAL}
</Location>

WSGIScriptAlias /head-on @APPS@/method.wsgi
<Location /head-on>
    WSGIMapHEADToGET On
</Location>
WSGIScriptAlias /head-off @APPS@/method.wsgi
<Location /head-off>
    WSGIMapHEADToGET Off
</Location>

WSGIScriptAlias /override @APPS@/status.wsgi
<Location /override>
    WSGIErrorOverride On
    ErrorDocument 404 "custom-404-page-from-apache"
</Location>
WSGIScriptAlias /no-override @APPS@/status.wsgi
<Location /no-override>
    ErrorDocument 404 "custom-404-page-from-apache"
</Location>

<IfModule mod_wsgi.c>
    WSGIScriptAlias /ifmodule @APPS@/hello.wsgi
</IfModule>
<IfModule wsgi_module>
    WSGIScriptAlias /ifmodule-id @APPS@/hello.wsgi
</IfModule>
<IfModule !mod_wsgi.c>
    WSGIScriptAlias /ifnotmodule @APPS@/hello.wsgi
</IfModule>

WSGIScriptAlias / @APPS@/environ.wsgi
"""

# Server-wide settings; everything runs in the main interpreter here.
# @PROCESS_GROUP@ is %{GLOBAL} in embedded mode and the harness's daemon group
# with MOD_WSGI_TEST_MODE=daemon: the preload must run where requests run.
FLAGS_BODY = r"""
WSGIApplicationGroup %{GLOBAL}
WSGIImportScript @APPS@/preload.py process-group=@PROCESS_GROUP@ application-group=%{GLOBAL}
WSGIRestrictStdin On
WSGIPythonPath @APPS@/pylib
WSGIPythonOptimize 1
WSGIDontWriteBytecode On
WSGIPythonHashSeed 0
WSGIScriptAlias /pyinfo @APPS@/pyinfo.wsgi
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="directives")


@pytest.fixture(scope="module")
def flags_srv(server_factory):
    return server_factory(FLAGS_BODY, name="pyflags")


def env_of(srv, path, **kw):
    r = srv.get(path, **kw)
    assert r.status == 200, r
    return r.json()["environ"]


# ---------------------------------------------------------------- mounting

def test_script_alias_mount(srv):
    e = env_of(srv, "/app/rest")
    assert e["SCRIPT_NAME"] == "/app"
    assert e["PATH_INFO"] == "/rest"
    assert e["SCRIPT_FILENAME"] == os.path.join(srv.apps, "environ.wsgi")


def test_script_alias_at_root(srv):
    e = env_of(srv, "/some/where")
    assert e["SCRIPT_NAME"] == ""
    assert e["PATH_INFO"] == "/some/where"


def test_script_alias_matches_on_segment_boundary(srv):
    # /application is not under /app: it falls through to the "/" mount
    e = env_of(srv, "/application")
    assert e["SCRIPT_NAME"] == ""
    assert e["PATH_INFO"] == "/application"


def test_callable_object_option(srv):
    r = srv.get("/callable-option")
    assert r.status == 200
    assert r.text == "callable=myapp reported=myapp"


def test_callable_object_default(srv):
    assert srv.get("/callable-default").text == \
        "callable=application reported=application"


def test_wsgi_callable_object_directive(srv):
    assert srv.get("/callable-directive").text == "callable=other reported=other"


def test_script_alias_match(srv):
    r = srv.get("/m/alpha/x/y")
    assert r.status == 200
    assert r.text.startswith("match-alpha ")
    assert "SCRIPT_NAME=/m/alpha " in r.text
    assert r.text.endswith("PATH_INFO=/x/y")
    r = srv.get("/m/beta")
    assert r.status == 200 and r.text.startswith("match-beta ")
    assert srv.get("/m/nosuchscript").status == 404


def test_add_handler_with_execcgi(srv):
    r = srv.get("/h/app.wsgi/extra")
    assert r.status == 200
    assert r.text == ("handler-app SCRIPT_NAME=/h/app.wsgi PATH_INFO=/extra "
                      "handler=wsgi-script")


def test_add_handler_without_execcgi_is_forbidden(srv):
    mark = srv.log_mark()
    r = srv.get("/hnoexec/app.wsgi")
    assert r.status == 403
    assert "handler-app" not in r.text
    srv.wait_for_log(r"ExecCGI|Options", since=mark)


# ------------------------------------------------------ application groups

def test_application_group_default_is_resource(srv):
    e = env_of(srv, "/app/x")
    assert e["mod_wsgi.application_group"] == "127.0.0.1:%d|/app" % srv.port
    e = env_of(srv, "/x")
    assert e["mod_wsgi.application_group"] == "127.0.0.1:%d|" % srv.port


def test_application_group_global(srv):
    e = env_of(srv, "/global/x")
    assert e["mod_wsgi.application_group"] == ""


@pytest.mark.rs_only
def test_application_groups_get_their_own_module_in_the_main_interpreter(srv):
    """mod_wsgi_rs runs every application group in the main interpreter
    (isolation comes from daemon process groups) but gives each group its
    own copy of the script's module, so two mounts of one script in
    different groups do not share module globals."""
    a = srv.get("/pyinfo").json()
    b = srv.get("/pyinfo2").json()
    g = srv.get("/pyinfo-global").json()
    if a["interpreter_id"] is not None:
        assert a["interpreter_id"] == b["interpreter_id"] == g["interpreter_id"] == 0
    assert len({a["module"], b["module"], g["module"]}) == 3, (a, b, g)
    assert len({a["module_globals"], b["module_globals"], g["module_globals"]}) == 3


@pytest.mark.rs_only
def test_groups_stay_apart_across_reused_threads(srv):
    """Alternate requests across groups so threads are reused: each mount
    keeps seeing exactly one module of its own, always in the main
    interpreter (Debian's mod_wsgi 4.9.4 sometimes ran a %{GLOBAL} request
    in the sub-interpreter the thread served last)."""
    seen = {}
    for _ in range(40):
        for path in ("/pyinfo-global", "/pyinfo", "/pyinfo2"):
            info = srv.get(path).json()
            seen.setdefault(path, set()).add((info["module"], info["interpreter_id"]))
    for path, values in seen.items():
        assert len(values) == 1, (path, values)
        assert next(iter(values))[1] in (0, None), (path, values)
    assert len({next(iter(v))[0] for v in seen.values()}) == 3, seen


# -------------------------------------------------------- authorization

AUTH = {"Authorization": "Basic dXNlcjpwYXNz"}


def test_pass_authorization_on(srv):
    e = env_of(srv, "/auth-on", headers=AUTH)
    assert e["HTTP_AUTHORIZATION"] == "Basic dXNlcjpwYXNz"


def test_pass_authorization_default_off(srv):
    e = env_of(srv, "/app", headers=AUTH)
    assert "HTTP_AUTHORIZATION" not in e
    assert not any("dXNlcjpwYXNz" in v for v in e.values())


# ------------------------------------------------------- chunked bodies

CHUNKED = (b"Host: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           b"5\r\nhello\r\n7\r\n, world\r\n1\r\n!\r\n0\r\n\r\n")


def test_chunked_request_on(srv):
    raw = srv.raw(b"POST /chunked-on?mode=readn&n=4 HTTP/1.1\r\n" + CHUNKED)
    assert raw.startswith(b"HTTP/1.1 200 ")
    import json
    out = json.loads(raw.split(b"\r\n\r\n", 1)[1])
    assert out["data"] == "hello, world!"
    assert out["content_length"] in (None, "")
    assert all(len(c) <= 4 for c in out["calls"])
    assert out["calls"][-1] == "" and out["after"] == [""] * 6


def test_chunked_request_on_read_all(srv):
    raw = srv.raw(b"POST /chunked-on?mode=readall HTTP/1.1\r\n" + CHUNKED)
    import json
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1])["data"] == "hello, world!"


def test_chunked_request_off_is_411(srv):
    raw = srv.raw(b"POST /chunked-off HTTP/1.1\r\n" + CHUNKED)
    assert raw.startswith(b"HTTP/1.1 411 "), raw[:200]


def test_chunked_request_default_is_411(srv):
    raw = srv.raw(b"POST /app HTTP/1.1\r\n" + CHUNKED)
    assert raw.startswith(b"HTTP/1.1 411 "), raw[:200]


# ------------------------------------------------------------ reloading

def test_script_reloading_on_and_off(srv):
    path = os.path.join(srv.apps, "reload.wsgi")
    on1 = srv.get("/reload-on").text
    off1 = srv.get("/reload-off").text
    assert on1.startswith("v1 ") and off1.startswith("v1 ")
    with open(path) as f:
        src = f.read()
    with open(path, "w") as f:
        f.write(src.replace('VERSION = "v1"', 'VERSION = "v2"'))
    t = time.time() + 5
    os.utime(path, (t, t))
    assert srv.get("/reload-on").text.startswith("v2 ")
    if not srv.daemon_mode:
        # In daemon mode this cannot hold: the reload noticed by /reload-on
        # restarts the whole daemon process (and with processes=2 the other
        # process may load the script for the first time), so /reload-off
        # legitimately gets the new code. Daemon reloading is covered by
        # test_daemon_lifecycle.py.
        assert srv.get("/reload-off").text == off1
    # and the reloaded code stays in place
    assert srv.get("/reload-on").text.startswith("v2 ")


def test_script_reloading_not_reported_in_environ(srv):
    """An internal setting: mod_wsgi 6.1 carries it to the daemon as
    mod_wsgi.x-script_reloading and hides it from the application."""
    e = env_of(srv, "/app")
    assert "mod_wsgi.script_reloading" not in e
    assert "mod_wsgi.x-script_reloading" not in e


# --------------------------------------------------------------- HEAD

def _head(srv, path):
    from harness.apache import parse_raw_response
    raw = srv.raw(b"HEAD " + path.encode() +
                  b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    return parse_raw_response(raw)


def test_map_head_to_get_on(srv):
    status, headers, body = _head(srv, "/head-on")
    assert status.startswith("HTTP/1.1 200")
    assert headers["x-seen-method"] == ["GET"]
    assert body == b""
    assert headers["content-length"] == ["22"]


def test_map_head_to_get_off(srv):
    status, headers, body = _head(srv, "/head-off")
    assert status.startswith("HTTP/1.1 200")
    assert headers["x-seen-method"] == ["HEAD"]
    assert body == b""
    assert headers["content-length"] == ["22"]


# --------------------------------------------------------- error override

@pytest.mark.rs_only
def test_error_override_on_embedded(srv):
    """mod_wsgi 4.9.4 applies WSGIErrorOverride only in daemon mode (its
    documentation says so; the daemon-mode case is in test_daemon_mode.py).
    mod_wsgi_rs applies it in embedded mode too."""
    r = srv.get("/override?404")
    assert r.status == 404
    assert "custom-404-page-from-apache" in r.text
    assert "app-body-404" not in r.text


def test_error_override_off(srv):
    r = srv.get("/no-override?404")
    assert r.status == 404
    assert r.text == "app-body-404"


def test_error_override_leaves_success_alone(srv):
    r = srv.get("/override?200")
    assert r.status == 200 and r.text == "app-body-200"


# -------------------------------------------------------------- IfModule

def test_ifmodule_blocks(srv):
    assert srv.get("/ifmodule").text == "hello world"
    assert srv.get("/ifmodule-id").text == "hello world"
    # the negated block was skipped: /ifnotmodule falls through to "/"
    e = env_of(srv, "/ifnotmodule")
    assert e["SCRIPT_NAME"] == "" and e["PATH_INFO"] == "/ifnotmodule"


# ---------------------------------------------- interpreter restrictions

def test_stdin_default_gives_no_data(srv):
    """WSGIRestrictStdin is Off by default since mod_wsgi 3.0: sys.stdin is
    whatever Apache has (/dev/null). Reading must neither hang nor return
    request data (the body is only in wsgi.input)."""
    r = srv.post("/pyinfo", b"request-body-must-not-leak", timeout=5)
    stdin = r.json()["stdin"]
    assert stdin["raised"] or stdin["value"] == repr(""), stdin


def test_restrict_signal_default(srv):
    info = srv.get("/pyinfo?signal=1").json()
    sig = info["signal"]
    assert sig["raised"] is False, sig
    assert sig["installed"] is False, sig
    # and the process is still fine
    assert srv.get("/pyinfo").status == 200


def test_default_interpreter_flags(srv):
    info = srv.get("/pyinfo").json()
    assert info["optimize"] == 0
    assert info["dont_write_bytecode"] is False
    assert info["hash_randomization"] == 1
    assert info["helper"] is None


# --------------------------------------------- server-wide Python flags
# (the preload test must be the first to use flags_srv)

def test_import_script_runs_before_first_request(flags_srv):
    log = os.path.join(flags_srv.state, "preload.log")
    # nothing has been requested yet from this server when the file appears:
    # the script ran at process start
    wait_for(lambda: os.path.exists(log) and open(log).read(),
             timeout=5, what="preload.log to be written")
    info = flags_srv.get("/pyinfo").json()
    assert info["preload"] is not None
    assert info["preload"]["pid"] == info["pid"]
    # Read again: in daemon mode another process of the group (still
    # starting when the log first appeared) may have answered.
    pids = {int(line.split()[0]) for line in open(log).read().splitlines()}
    assert info["pid"] in pids
    # The script ran in that process before the application did.
    assert info["preload"]["time"] < info["now"]



def test_python_path(flags_srv):
    info = flags_srv.get("/pyinfo").json()
    assert info["helper"] == "from-pythonpath"
    assert os.path.join(flags_srv.apps, "pylib") in info["sys_path"]


def test_python_optimize(flags_srv):
    assert flags_srv.get("/pyinfo").json()["optimize"] == 1


def test_dont_write_bytecode(flags_srv):
    assert flags_srv.get("/pyinfo").json()["dont_write_bytecode"] is True


def test_python_hash_seed(flags_srv):
    assert flags_srv.get("/pyinfo").json()["hash_randomization"] == 0


def test_restrict_stdin_on(flags_srv):
    stdin = flags_srv.get("/pyinfo").json()["stdin"]
    assert stdin["raised"] is True, stdin


def test_import_script_not_in_other_interpreters(srv):
    # the directives server has no WSGIImportScript at all
    assert srv.get("/pyinfo-global").json()["preload"] is None
