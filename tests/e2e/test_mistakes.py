"""Mistakes users make when deploying into a virtualenv. Each must give one
clear line in the error log that says what is wrong and what to change,
and nothing else: no traceback, no "Fatal Python error", no crash or
restart loop.

rs_only: Debian's mod_wsgi 4.9.4 has no such checks. With a venv of another
Python version it starts Python anyway (the venv's packages are then not
importable and each application fails later with an ImportError), and a
wrong python-home gives Python's own start-up errors."""

import os
import re
import time

import pytest

from e2e_support import DAEMON_GROUP, MODES, python_config, run_as_www_data, start_app_server

pytestmark = pytest.mark.rs_only

NOISE = re.compile(r"Traceback|Fatal Python error|Segmentation fault|exit signal|panicked|"
                   r"No module named|core dumped|Py_Initialize", re.I)


def start(request, mode, home, script="@APPS@/hello.wsgi", prepare=None, name="mistake"):
    body = (python_config(mode, home, python_path=None)
            + "WSGIScriptAlias /app %s\n" % script)
    return start_app_server(request, body, "%s-%s" % (name, mode), prepare=prepare)


def check_single_start_failure(srv, mode, reason_rx):
    """The reason is logged once, by the process that could not start
    Python; a request then fails with one line pointing at it."""
    if mode == "embedded":
        line_rx = r"\[wsgi:crit\] .*Python could not start in this Apache child: " + reason_rx
        status, per_request = 500, (r"Python is not running in this Apache child "
                                    r"\(it failed to start; the reason is logged at child start-up\)")
    else:
        line_rx = (r"\[wsgi:crit\] .*daemon process '%s' \(pid \d+\): Python could not start: "
                   % DAEMON_GROUP + reason_rx + r".*; this process will not serve requests")
        status, per_request = 503, (r"daemon process group '%s' cannot serve: Python could not "
                                    r"start: " % DAEMON_GROUP + reason_rx)
    srv.wait_for_log(line_rx, timeout=10)
    mark = srv.log_mark()
    r = srv.get("/app")
    assert r.status == status, r
    if mode == "embedded":
        # (daemon mode: see test_each_refused_request_logs_the_reason)
        srv.wait_for_log(per_request, since=mark)
    time.sleep(0.5)  # a crash or restart loop would log more meanwhile
    log = srv.error_log()
    starts = [line for line in log.splitlines() if "Python could not start" in line
              and "cannot serve" not in line]
    assert len(starts) == 1, "\n".join(starts)
    assert re.search(line_rx, starts[0]), starts[0]
    if mode == "embedded":
        assert len(re.findall(per_request, srv.log_since(mark))) == 1, srv.log_since(mark)
    assert not NOISE.search(log), log
    return starts[0]


@pytest.mark.parametrize("mode", MODES)
def test_virtualenv_made_with_another_python(request, mode):
    """A venv made by Python 3.9 (its pyvenv.cfg says so): the module is
    built for Python 3.11 and cannot use its site-packages."""
    def prepare(srv):
        home = os.path.join(srv.root, "venv39")
        os.makedirs(os.path.join(home, "lib", "python3.9", "site-packages"))
        os.makedirs(os.path.join(home, "bin"))
        os.symlink("/usr/bin/python3.9", os.path.join(home, "bin", "python3.9"))
        with open(os.path.join(home, "pyvenv.cfg"), "w") as f:
            f.write("home = /usr/bin\ninclude-system-site-packages = false\n"
                    "version = 3.9.2\n")

    srv = start(request, mode, "@ROOT@/venv39", prepare=prepare, name="venv39")
    home = re.escape(os.path.join(srv.root, "venv39"))
    line = check_single_start_failure(
        srv, mode,
        r"the virtualenv '%s' was made with Python 3\.9\.2, but mod_wsgi_rs is built for "
        r"Python 3\.11: recreate it with python3\.11 -m venv %s" % (home, home))
    assert "PYO3_PYTHON" in line


@pytest.mark.parametrize("mode", MODES)
def test_python_home_that_does_not_exist(request, mode):
    srv = start(request, mode, "@ROOT@/no-such-venv", name="nohome")
    home = re.escape(os.path.join(srv.root, "no-such-venv"))
    check_single_start_failure(
        srv, mode,
        r"python-home '%s' does not exist or is not a directory: set WSGIPythonHome "
        r"\(or python-home=\) to a virtualenv or a Python 3\.11 prefix" % home)


@pytest.mark.parametrize("mode", MODES)
def test_python_home_that_is_neither_venv_nor_prefix(request, mode):
    """An existing directory without pyvenv.cfg or lib/python3.11: e.g. the
    project's directory instead of its venv."""
    srv = start(request, mode, "@APPS@/e2e", name="notvenv")
    home = re.escape(os.path.join(srv.apps, "e2e"))
    check_single_start_failure(
        srv, mode,
        r"python-home '%s' is neither a virtualenv \(no pyvenv\.cfg\) nor a Python 3\.11 "
        r"prefix \(no %s/lib/python3\.11/encodings\)" % (home, home))


@pytest.mark.parametrize("mode", MODES)
def test_script_not_readable_by_the_daemon_user(request, mode, e2e_venv):
    """The script is root's, mode 0600; Apache's children and the daemon
    run as www-data. The venv itself is fine."""
    if not run_as_www_data():
        pytest.skip("needs root (Apache then runs as www-data)")

    def prepare(srv):
        path = os.path.join(srv.apps, "secret.wsgi")
        with open(os.path.join(srv.apps, "hello.wsgi")) as src, open(path, "w") as dst:
            dst.write(src.read())
        os.chown(path, 0, 0)
        os.chmod(path, 0o600)

    srv = start(request, mode, e2e_venv, script="@APPS@/secret.wsgi", prepare=prepare,
                name="unreadable")
    if mode == "daemon":
        srv.wait_for_log(r"daemon process '%s' \(pid \d+\): instance 1 ready, uid 33"
                         % DAEMON_GROUP, timeout=10)
    mark = srv.log_mark()
    r = srv.get("/app")
    assert r.status == 500, r
    path = re.escape(os.path.join(srv.apps, "secret.wsgi"))
    srv.wait_for_log(r"cannot read WSGI script '%s': Permission denied \(os error 13\); "
                     r"make it readable by the user Apache's children \(or the daemon\) run as"
                     % path, since=mark)
    time.sleep(0.3)
    new = srv.log_since(mark)
    lines = [line for line in new.splitlines() if "secret.wsgi" in line]
    assert len(lines) == 1, new
    assert not NOISE.search(srv.error_log()), srv.error_log()

    # Made readable (the fix the line asks for), the same URL works.
    os.chmod(os.path.join(srv.apps, "secret.wsgi"), 0o644)
    r = srv.get("/app")
    assert r.status == 200 and r.body == b"hello world", r


@pytest.mark.skipif("daemon" not in MODES, reason="daemon mode not selected")
def test_each_refused_request_logs_the_reason(request):
    """A daemon group whose Python could not start answers every request
    with 503, and the Apache child logs the reason for each ("daemon
    process group 'e2e' cannot serve: ..."), not a transport error. The
    request has a body, as POSTs do."""
    srv = start(request, "daemon", "@ROOT@/no-such-venv", name="refused")
    srv.wait_for_log(r"daemon process '%s' \(pid \d+\): Python could not start"
                     % DAEMON_GROUP, timeout=10)
    reason = (r"daemon process group '%s' cannot serve: Python could not start: "
              r"python-home '%s' does not exist or is not a directory"
              % (DAEMON_GROUP, re.escape(os.path.join(srv.root, "no-such-venv"))))
    for i in range(6):
        mark = srv.log_mark()
        if i % 2:
            r = srv.post("/app", b"x" * 100000)
        else:
            r = srv.get("/app")
        assert r.status == 503, r
        srv.wait_for_log(r"\[client [^]]*\] ", since=mark)
        time.sleep(0.05)
        new = srv.log_since(mark)
        assert re.search(reason, new), "request %d logged instead:\n%s" % (i, new)
        assert "Broken pipe" not in new and "cannot send" not in new, new
