"""Application groups that share a process (hardening issue #18).

mod_wsgi_rs runs one Python interpreter per process, so two application
groups served by one process share sys.modules and os.environ (two Django
sites would see each other's DJANGO_SETTINGS_MODULE). The first time a
process loads a script of a second application group it logs one warning
naming both groups and the fix (separate WSGIDaemonProcess groups).

Runs in the suite's mode (MOD_WSGI_TEST_MODE): embedded (one Apache child)
or a one-process daemon group.
"""

import re

import pytest

from harness.apache import DAEMON_MODE

pytestmark = [
    # rs_only: mod_wsgi gives each application group its own sub-interpreter
    pytest.mark.rs_only,
]

WARNING = r"\[wsgi:warn\].*application groups .*share this process"


def body():
    aliases = (
        "WSGIScriptAlias /one @APPS@/hello.wsgi application-group=site-one\n"
        "WSGIScriptAlias /one-env @APPS@/environ.wsgi application-group=site-one\n"
        "WSGIScriptAlias /two @APPS@/environ.wsgi application-group=site-two\n"
        "WSGIScriptAlias /three @APPS@/hello.wsgi application-group=site-three\n")
    if DAEMON_MODE:
        return ("WSGISocketPrefix @SOCKETS@/wsgi\n"
                "WSGIDaemonProcess groups processes=1 threads=4\n"
                "WSGIProcessGroup groups\n" + aliases)
    return aliases


def test_second_application_group_in_a_process_is_warned_once(server_factory):
    srv = server_factory(body(), name="appgroups")
    mark = srv.log_mark()
    pid = int(srv.get("/one").header("X-Pid"))
    # Two scripts of one group: nothing to warn about.
    assert srv.get("/one-env").status == 200
    assert not re.search(WARNING, srv.log_since(mark)), srv.log_since(mark)

    # A second group in the same process: one warning naming both.
    assert srv.get("/two").status == 200
    line = srv.wait_for_log(WARNING + ".*", since=mark).group(0)
    assert "'site-one'" in line and "'site-two'" in line, line
    assert "hello.wsgi" in line and "environ.wsgi" in line, line
    assert "WSGIDaemonProcess" in line and "os.environ" in line, line

    # A third group and more requests: still one warning, in the one process.
    for path in ("/three", "/one", "/two", "/one-env", "/three"):
        assert srv.get(path).status == 200, path
    assert int(srv.get("/three").header("X-Pid")) == pid
    assert int(srv.get("/one").header("X-Pid")) == pid
    lines = re.findall(WARNING, srv.log_since(mark))
    assert len(lines) == 1, srv.log_since(mark)
