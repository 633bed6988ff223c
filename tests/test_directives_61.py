"""Every directive and WSGIDaemonProcess option of mod_wsgi 6.1 passes
configtest (against mod_wsgi_rs, and against mod_wsgi 6.1.1 itself when
scripts/reference-mod_wsgi has made it), bad values fail it with a message naming
the directive, each directive without effect logs one start-up line saying
why, and the ones mod_wsgi_rs implements are observed from an application.
"""

import json
import os
import re
import time

import pytest

from harness import module_under_test
from harness.apache import Apache, IMPL, start_server
from harness.daemon import SKIP_IN_DAEMON_RUN

rs_only = pytest.mark.rs_only
# Sets up its own daemon groups: runs in the embedded run only.
own_groups = pytest.mark.skipif(**SKIP_IN_DAEMON_RUN)

# mod_wsgi 6.1.1 as scripts/reference-mod_wsgi makes it (optional): the
# module in its virtualenv, and its source beside it.
V611_DIR = module_under_test.reference_venv_dir()
V611_SO = module_under_test.venv_module(V611_DIR)
V611_SRC = os.path.join(V611_DIR, "src", "mod_wsgi-6.1.1", "src", "server")

# mod_wsgi 6.1.1's command table (wsgi_commands[] in mod_wsgi.c), each with
# a valid use. Wrapped in <Location> where the directive needs a directory
# context.
DIRECTIVES_61 = {
    "WSGIScriptAlias": "WSGIScriptAlias /x @APPS@/hello.wsgi",
    "WSGIScriptAliasMatch": "WSGIScriptAliasMatch ^/m/(.*) @APPS@/hello.wsgi",
    "WSGIDaemonProcess": "WSGIDaemonProcess g61 processes=1 threads=2",
    "WSGISocketPrefix": "WSGISocketPrefix @SOCKETS@/wsgi61",
    "WSGISocketRotation": "WSGISocketRotation Off",
    "WSGIAcceptMutex": "WSGIAcceptMutex default",
    "WSGIVerboseDebugging": "WSGIVerboseDebugging Off",
    "WSGIDontWriteBytecode": "WSGIDontWriteBytecode On",
    "WSGIPythonWarnings": "WSGIPythonWarnings ignore::DeprecationWarning",
    "WSGIPythonOptimize": "WSGIPythonOptimize 1",
    "WSGIPythonHome": "WSGIPythonHome /usr",
    "WSGIPythonPath": "WSGIPythonPath /tmp:/var/tmp",
    "WSGIPythonEggs": "WSGIPythonEggs /tmp/eggs",
    "WSGIPythonHashSeed": "WSGIPythonHashSeed 42",
    "WSGISwitchInterval": "WSGISwitchInterval 0.01",
    "WSGIDestroyInterpreter": "WSGIDestroyInterpreter On",
    "WSGIPerInterpreterGIL": "WSGIPerInterpreterGIL Off",
    "WSGIFreeThreading": "WSGIFreeThreading Off",
    "<WSGIInterpreterOptions": (
        "<WSGIInterpreterOptions process-group=g61 application-group=%{GLOBAL}>\n"
        "    WSGISwitchInterval 0.02\n"
        "</WSGIInterpreterOptions>"),
    "WSGIRestrictEmbedded": "WSGIRestrictEmbedded Off",
    "WSGIRestrictStdin": "WSGIRestrictStdin On",
    "WSGIRestrictStdout": "WSGIRestrictStdout Off",
    "WSGIRestrictSignal": "WSGIRestrictSignal On",
    "WSGICaseSensitivity": "WSGICaseSensitivity On",
    "WSGIRestrictProcess": "<Location /rp>\n    WSGIRestrictProcess %{GLOBAL}\n</Location>",
    "WSGIProcessGroup": "<Location /pg>\n    WSGIProcessGroup %{GLOBAL}\n</Location>",
    "WSGIApplicationGroup": "WSGIApplicationGroup %{GLOBAL}",
    "WSGICallableObject": "WSGICallableObject application",
    "WSGIImportScript": ("WSGIImportScript @APPS@/preload.py "
                         "process-group=%{GLOBAL} application-group=%{GLOBAL}"),
    "WSGIDispatchScript": ("<Location /ds>\n    WSGIDispatchScript @APPS@/preload.py "
                           "application-group=%{GLOBAL}\n</Location>"),
    "WSGIPassApacheRequest": "<Location /par>\n    WSGIPassApacheRequest Off\n</Location>",
    "WSGIPassAuthorization": "WSGIPassAuthorization On",
    "WSGIScriptReloading": "WSGIScriptReloading On",
    "WSGIErrorOverride": "WSGIErrorOverride Off",
    "WSGIChunkedRequest": "WSGIChunkedRequest On",
    "WSGIMapHEADToGET": "WSGIMapHEADToGET Auto",
    "WSGIIgnoreActivity": "<Location /ia>\n    WSGIIgnoreActivity On\n</Location>",
    "WSGITrustedProxyHeaders": "WSGITrustedProxyHeaders X-Forwarded-For",
    "WSGITrustedProxies": "WSGITrustedProxies 127.0.0.1",
    "WSGIEnableSendfile": "WSGIEnableSendfile On",
    "WSGIAccessScript": "<Location /as>\n    WSGIAccessScript @APPS@/preload.py\n</Location>",
    "WSGIAuthUserScript": ("<Location /aus>\n    WSGIAuthUserScript @APPS@/preload.py\n"
                           "</Location>"),
    "WSGIAuthGroupScript": ("<Location /ags>\n    WSGIAuthGroupScript @APPS@/preload.py\n"
                            "</Location>"),
    "WSGIGroupAuthoritative": "<Location /ga>\n    WSGIGroupAuthoritative Off\n</Location>",
    "WSGIHandlerScript": ("WSGIHandlerScript my-handler @APPS@/hello.wsgi process-group=%{GLOBAL} "
                          "application-group=%{GLOBAL} pass-authorization=On"),
    "WSGIServerMetrics": "WSGIServerMetrics Off",
    "WSGITelemetryService": "WSGITelemetryService unix:@ROOT@/telemetry.sock interval=1",
    "WSGISlowRequests": "WSGISlowRequests 2.5",
    "WSGITelemetryOptions": "WSGITelemetryOptions +CaptureUserAgent",
}


# Removed by mod_wsgi 6.0 (4.x/5.x configurations still carry them):
# mod_wsgi_rs accepts them with a start-up line.
REMOVED_IN_6 = {
    "WSGILazyInitialization": "WSGILazyInitialization On",
    "WSGINewRelicConfigFile": "WSGINewRelicConfigFile /etc/newrelic.ini",
    "WSGINewRelicEnvironment": "WSGINewRelicEnvironment production",
}

# wsgi_add_daemon_process's options (wsgi_daemon.c), each with a valid value.
DAEMON_OPTIONS_61 = {
    "user": "www-data", "group": "www-data", "supplementary-groups": "www-data",
    "processes": "1", "threads": "2", "umask": "0022", "chroot": "/",
    "home": "/tmp", "lang": "C.UTF-8", "locale": "C.UTF-8",
    "python-home": "/usr", "python-path": "/tmp", "python-eggs": "/tmp/eggs",
    "switch-interval": "0.005", "stack-size": "524288",
    "maximum-requests": "1000", "startup-timeout": "15",
    "shutdown-timeout": "5", "deadlock-timeout": "60",
    "inactivity-timeout": "300", "request-timeout": "60",
    "interrupt-timeout": "5", "graceful-timeout": "15",
    "eviction-timeout": "10", "restart-interval": "3600",
    "connect-timeout": "15", "socket-timeout": "60", "queue-timeout": "45",
    "listen-backlog": "100", "display-name": "%{GROUP}",
    "send-buffer-size": "65536", "receive-buffer-size": "65536",
    "header-buffer-size": "32768", "response-buffer-size": "1048576",
    "response-socket-timeout": "30", "response-flush-delay": "5",
    "socket-user": "www-data", "script-user": "root",
    "cpu-time-limit": "3600", "cpu-priority": "0",
    "memory-limit": "1073741824", "virtual-memory-limit": "4294967296",
    "server-metrics": "Off",
}
# Exclusive with script-user=, so tried on its own.
DAEMON_OPTIONS_61_ALONE = {"script-group": "root"}

# (directive line, the text the error must show) for both modules.
BAD_61 = [
    ("WSGISwitchInterval 0", "WSGISwitchInterval"),
    ("WSGIPerInterpreterGIL maybe", "WSGIPerInterpreterGIL"),
    ("WSGIFreeThreading 2", "WSGIFreeThreading"),
    ("WSGIDestroyInterpreter yes", "WSGIDestroyInterpreter"),
    ("WSGICaseSensitivity x", "WSGICaseSensitivity"),
    ("WSGIServerMetrics 1", "WSGIServerMetrics"),
    ("WSGISocketRotation x", "WSGISocketRotation"),
    ("WSGIAcceptMutex spinlock", "spinlock"),
    ("WSGITelemetryService udp:127.0.0.1:9999", "unix:/path"),
    ("WSGITelemetryService unix:/tmp/t.sock interval=0.1", "0.5"),
    ("WSGISlowRequests -1", "non-negative"),
    ("WSGITelemetryOptions +CaptureReferer", "CaptureReferer"),
    ("WSGITelemetryOptions CaptureUserAgent -CaptureUserAgent", "mix"),
    ("<WSGIInterpreterOptions colour=blue>\n</WSGIInterpreterOptions>", "colour"),
    ("<Location /x>\n    WSGIIgnoreActivity sometimes\n</Location>", "WSGIIgnoreActivity"),
    ("<Location /x>\n    WSGIPassApacheRequest 1\n</Location>", "WSGIPassApacheRequest"),
    ("<Location /x>\n    WSGIGroupAuthoritative 1\n</Location>", "WSGIGroupAuthoritative"),
    ("<Location /x>\n    WSGIDispatchScript /x.py process-group=g\n</Location>",
     "WSGIDispatchScript"),
    ("WSGIDaemonProcess g response-flush-delay=-1", "WSGIDaemonProcess"),
    ("WSGIDaemonProcess g send-buffer-size=100", "512"),
    ("WSGIDaemonProcess g receive-buffer-size=100", "512"),
    ("WSGIDaemonProcess g response-buffer-size=1024", "65536"),
    ("WSGIDaemonProcess g switch-interval=0", "WSGIDaemonProcess"),
    ("WSGIDaemonProcess g server-metrics=maybe", "WSGIDaemonProcess"),
    ("WSGIDaemonProcess g script-user=root script-group=root", "script-group"),
    ("WSGIDaemonProcess g startup-timeout=-1", "WSGIDaemonProcess"),
]

MODULES = [
    pytest.param(None, id="mod_wsgi_rs"),
    pytest.param(V611_SO, id="mod_wsgi-6.1.1", marks=pytest.mark.skipif(
        V611_SO is None, reason="mod_wsgi 6.1.1 is not built: run scripts/reference-mod_wsgi")),
]


@pytest.fixture(scope="module")
def ours():
    if IMPL != "rs":
        pytest.skip("checks mod_wsgi_rs's own behaviour")
    return Apache(name="configtest61")


def configtester(so):
    if so is None and IMPL != "rs":
        pytest.skip("checks mod_wsgi_rs's own behaviour")
    return Apache(name="configtest61", so=so)


def test_lists_match_mod_wsgi_61_source():
    """The lists above are mod_wsgi 6.1.1's own tables, none missed."""
    if not os.path.isdir(V611_SRC):
        pytest.skip("mod_wsgi 6.1.1's source is not in %s" % V611_SRC)
    with open(os.path.join(V611_SRC, "mod_wsgi.c")) as f:
        table = f.read().split("wsgi_commands[]", 1)[1].split("{NULL}", 1)[0]
    names = set(re.findall(r'AP_INIT_\w+\(\s*"([^"]+)"', table))
    assert names == set(DIRECTIVES_61)
    with open(os.path.join(V611_SRC, "wsgi_daemon.c")) as f:
        parser = f.read().split("wsgi_add_daemon_process(", 1)[1]
        parser = parser.split("Only one of script-user", 1)[0]
    options = set(re.findall(r'!strcmp\(option, "([^"]+)"\)', parser))
    assert options == set(DAEMON_OPTIONS_61) | set(DAEMON_OPTIONS_61_ALONE)


@pytest.mark.parametrize("so", MODULES)
@pytest.mark.parametrize("name", sorted(DIRECTIVES_61))
def test_every_61_directive_passes_configtest(so, name):
    rc, out = configtester(so).configtest(DIRECTIVES_61[name])
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.parametrize("so", MODULES)
def test_every_61_daemon_option_passes_configtest(so):
    opts = " ".join("%s=%s" % kv for kv in DAEMON_OPTIONS_61.items())
    rc, out = configtester(so).configtest("WSGIDaemonProcess g61 " + opts)
    assert rc == 0, out
    for kv in DAEMON_OPTIONS_61_ALONE.items():
        rc, out = configtester(so).configtest("WSGIDaemonProcess g61b %s=%s" % kv)
        assert rc == 0, out


@pytest.mark.parametrize("name", sorted(REMOVED_IN_6))
def test_directives_removed_in_6_are_accepted(ours, name):
    rc, out = ours.configtest(REMOVED_IN_6[name])
    assert rc == 0, out


@pytest.mark.parametrize("so", MODULES)
@pytest.mark.parametrize("line,needle", BAD_61,
                         ids=[re.sub(r"\s+", " ", b[0])[:60] for b in BAD_61])
def test_bad_values_fail_configtest(so, line, needle):
    rc, out = configtester(so).configtest(line)
    assert rc != 0, out
    if so is None:
        # ours names the directive and says what is wrong
        assert needle in out, out
        assert "Syntax error" in out, out


# Every directive without effect, and the start-up line it must log once.
NO_EFFECT_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess ne processes=1 threads=2 server-metrics=On
WSGISocketRotation On
WSGIAcceptMutex fcntl
WSGIVerboseDebugging On
WSGIDestroyInterpreter On
WSGIPerInterpreterGIL On
WSGIFreeThreading On
<WSGIInterpreterOptions process-group=ne>
    WSGIPerInterpreterGIL On
</WSGIInterpreterOptions>
WSGICaseSensitivity Off
WSGIServerMetrics On
WSGITelemetryService unix:@ROOT@/telemetry.sock
WSGISlowRequests 1
WSGITelemetryOptions All
WSGILazyInitialization On
WSGINewRelicConfigFile /etc/newrelic.ini
WSGINewRelicEnvironment production
WSGIScriptAlias /hello @APPS@/hello.wsgi
<Location /hello>
    WSGIPassApacheRequest On
    WSGIGroupAuthoritative Off
</Location>
"""

NO_EFFECT_NAMES = [
    "WSGISocketRotation", "WSGIAcceptMutex", "WSGIVerboseDebugging",
    "WSGIDestroyInterpreter", "WSGIPerInterpreterGIL", "WSGIFreeThreading",
    "<WSGIInterpreterOptions", "WSGICaseSensitivity",
    "WSGITelemetryService", "WSGISlowRequests", "WSGITelemetryOptions",
    "WSGILazyInitialization", "WSGINewRelicConfigFile",
    "WSGINewRelicEnvironment", "WSGIPassApacheRequest", "WSGIGroupAuthoritative",
]


@rs_only
@own_groups
def test_no_effect_lines_appear_once_at_start(request):
    srv = start_server(request, NO_EFFECT_BODY)
    assert srv.get("/hello").status == 200
    log = srv.error_log()
    for name in NO_EFFECT_NAMES:
        lines = [l for l in log.splitlines()
                 if "%s has no effect in mod_wsgi_rs: " % name in l]
        assert len(lines) == 1, (name, lines, srv.error_log_tail())
    # server-metrics=On works from the first start (the daemons are forked
    # after Apache creates its scoreboard).
    assert "server-metrics=On has no effect" not in log
    assert "not free-threaded" in log
    # WSGIServerMetrics works (mod_wsgi.server_metrics(), tests/test_mod_wsgi_api.py).
    assert "WSGIServerMetrics has no effect" not in log


@rs_only
def test_values_that_change_nothing_log_nothing(request):
    """Values with which mod_wsgi behaves as mod_wsgi_rs always does."""
    srv = start_server(request, "WSGIFreeThreading Off\nWSGIServerMetrics Off\n"
                                "WSGISocketRotation Off\nWSGIDestroyInterpreter Off\n"
                                "WSGIPerInterpreterGIL Off\nWSGIVerboseDebugging Off\n"
                                "WSGICaseSensitivity On\n"
                                "WSGIScriptAlias /hello @APPS@/hello.wsgi\n"
                                "<Location /hello>\n    WSGIPassApacheRequest Off\n"
                                "</Location>\n")
    assert srv.get("/hello").status == 200
    assert "has no effect" not in srv.error_log()


@rs_only
def test_embedded_switch_interval_and_egg_cache(request):
    srv = start_server(request, "WSGISwitchInterval 0.0075\n"
                                "WSGIPythonEggs @STATE@/eggs\n"
                                "WSGIScriptAlias /info @APPS@/procinfo.wsgi\n"
                                "<Location /info>\n"
                                "    WSGIProcessGroup %{GLOBAL}\n"
                                "</Location>\n")
    info = srv.get("/info").json()
    assert info["switch_interval"] == pytest.approx(0.0075, abs=1e-6)
    assert info["egg_cache"] == os.path.join(srv.state, "eggs")


DAEMON_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGISwitchInterval 0.0075
WSGIPythonEggs /embedded/only
WSGIDaemonProcess d61 processes=1 threads=2 switch-interval=0.0125 python-eggs=@STATE@/d-eggs send-buffer-size=65536 receive-buffer-size=32768
WSGIScriptAlias /info @APPS@/procinfo.wsgi process-group=d61 application-group=%{GLOBAL}
"""


@rs_only
@own_groups
def test_daemon_switch_interval_eggs_and_socket_buffers(request):
    srv = start_server(request, DAEMON_BODY)
    info = srv.get("/info").json()
    # the group's own values, not the embedded-mode directives'
    assert info["switch_interval"] == pytest.approx(0.0125, abs=1e-6)
    assert info["egg_cache"] == os.path.join(srv.state, "d-eggs")
    # Linux doubles the value set; the listener and the connection this
    # request came on carry the group's sizes.
    matching = [b for b in info["buffers"] if b == [2 * 65536, 2 * 32768]]
    assert len(matching) >= 2, info["buffers"]


SCRIPT_USER_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess mine processes=1 threads=2 script-user=root
WSGIDaemonProcess theirs processes=1 threads=2 script-user=www-data
WSGIDaemonProcess grp processes=1 threads=2 script-group=www-data
WSGIImportScript @APPS@/preload.py process-group=theirs application-group=%{GLOBAL}
WSGIScriptAlias /mine @APPS@/hello.wsgi process-group=mine application-group=%{GLOBAL}
WSGIScriptAlias /theirs @APPS@/hello.wsgi process-group=theirs application-group=%{GLOBAL}
WSGIScriptAlias /grp @APPS@/hello.wsgi process-group=grp application-group=%{GLOBAL}
WSGIScriptAlias /writable @APPS@/writable/hello.wsgi process-group=mine application-group=%{GLOBAL}
"""


@rs_only
@own_groups
def test_script_user_and_group_are_enforced(request):
    if os.geteuid() != 0:
        pytest.skip("needs root to own files as different users")
    srv = Apache(body=SCRIPT_USER_BODY, name="script_user")
    request.addfinalizer(srv.stop)
    wdir = os.path.join(srv.apps, "writable")
    os.makedirs(wdir)
    os.chmod(wdir, 0o755)
    target = os.path.join(wdir, "hello.wsgi")
    with open(os.path.join(srv.apps, "hello.wsgi")) as src, open(target, "w") as dst:
        dst.write(src.read())
    os.chmod(target, 0o664)  # group-writable: refused under script-user
    srv.start()
    script = os.path.join(srv.apps, "hello.wsgi")

    assert srv.get("/mine").status == 200

    mark = srv.log_mark()
    assert srv.get("/theirs").status == 403
    srv.wait_for_log(
        r"the WSGI script %s is owned by user 'root' \(uid 0\), but daemon process "
        r"group 'theirs' requires script-user=www-data" % re.escape(script), since=mark)

    assert srv.get("/grp").status == 403
    srv.wait_for_log(
        r"%s belongs to group 'root' \(gid 0\), but daemon process group 'grp' "
        r"requires script-group=www-data" % re.escape(script), since=mark)

    assert srv.get("/writable").status == 403
    srv.wait_for_log(r"%s is writable by its group" % re.escape(target), since=mark)

    # The preload into 'theirs' was refused in the daemon, with the reason.
    srv.wait_for_log(r"daemon process 'theirs' .*the WSGI script %s is owned by user "
                     r"'root'" % re.escape(os.path.join(srv.apps, "preload.py")))


IGNORE_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess idle processes=1 threads=2 inactivity-timeout=2
WSGIScriptAlias /busy @APPS@/procinfo.wsgi process-group=idle application-group=%{GLOBAL}
WSGIScriptAlias /probe @APPS@/procinfo.wsgi process-group=idle application-group=%{GLOBAL}
<Location /probe>
    WSGIIgnoreActivity On
</Location>
"""


@rs_only
@own_groups
def test_ignore_activity_does_not_keep_a_daemon_alive(request):
    srv = start_server(request, IGNORE_BODY)
    first = srv.get("/busy").json()
    # Requests that count keep the process past its 2 s inactivity-timeout.
    deadline = time.monotonic() + 3.5
    while time.monotonic() < deadline:
        assert srv.get("/busy").json()["pid"] == first["pid"]
        time.sleep(0.25)
    # Requests under WSGIIgnoreActivity do not: the process is replaced.
    mark = srv.log_mark()
    deadline = time.monotonic() + 10
    pid = first["pid"]
    while time.monotonic() < deadline and pid == first["pid"]:
        pid = srv.get("/probe").json()["pid"]
        time.sleep(0.25)
    assert pid != first["pid"], srv.error_log_tail()
    srv.wait_for_log(r"inactivity-timeout reached", since=mark)


FLUSH_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess prompt processes=1 threads=2
WSGIDaemonProcess lingering processes=1 threads=2 response-flush-delay=30000
WSGIScriptAlias /prompt @APPS@/stream.wsgi process-group=prompt application-group=%{GLOBAL}
WSGIScriptAlias /lingering @APPS@/stream.wsgi process-group=lingering application-group=%{GLOBAL}
"""


def _send_get(srv, path):
    sock = srv.open_socket()
    sock.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                 % path.encode())
    return sock


def _release(srv, token):
    open(os.path.join(srv.state, "release-" + token), "w").close()


@rs_only
@own_groups
def test_response_flush_delay(request):
    """The Apache child flushes a daemon's response once the daemon has
    sent nothing more for response-flush-delay (default 5 ms)."""
    from harness.apache import recv_until, recv_until_close
    import socket
    srv = start_server(request, FLUSH_BODY)
    # Default delay: the first block reaches the client while the app
    # still waits (for the release file) to produce the second.
    sock = _send_get(srv, "/prompt?mode=release&token=p")
    try:
        assert b"first-block p" in recv_until(sock, b"first-block p", timeout=5)
    finally:
        _release(srv, "p")
        sock.close()
    # A 30 s delay: nothing is flushed while the daemon is silent (the
    # block waits in Apache's output filters for more data)...
    sock = _send_get(srv, "/lingering?mode=release&token=l")
    try:
        sock.settimeout(1.0)
        with pytest.raises(socket.timeout):
            sock.recv(65536)
        # ...and the next block from the daemon carries it along.
        _release(srv, "l")
        sock.settimeout(10)
        data = recv_until_close(sock)
    finally:
        sock.close()
    assert b"first-block l" in data and b"second-block released" in data, data


@rs_only
@own_groups
def test_response_socket_timeout(request):
    """response-socket-timeout= bounds the Apache child's writes to a
    client that stopped reading (Apache's Timeout is 10 s here)."""
    srv = start_server(request, r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess rst processes=1 threads=2 response-socket-timeout=1
WSGIScriptAlias /forever @APPS@/stream.wsgi process-group=rst application-group=%{GLOBAL}
""")
    mark = srv.log_mark()
    started = time.monotonic()
    sock = _send_get(srv, "/forever?mode=forever&token=t")
    try:
        srv.wait_for_log(r"the client closed the connection before the response "
                         r"was complete", timeout=8, since=mark)
    finally:
        sock.close()
    assert time.monotonic() - started < 8
