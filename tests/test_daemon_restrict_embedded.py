"""WSGIRestrictEmbedded On: no Python in the Apache children. A request for
embedded mode gets a 500 with a log line saying why, daemon requests are
served, and Python never starts in an Apache child.

How "Python started here" is seen: WSGIPythonPath names a directory with a
.pth file whose import line appends the pid of every process whose Python
reads that directory at start-up (site.addsitedir runs .pth files). The
daemons read it too (the server-wide path applies to them), which shows the
probe works; with WSGIRestrictEmbedded Off the Apache child's pid appears
as well (the control case)."""

import os

import pytest

from harness.apache import Apache, wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BODY = r"""
WSGIRestrictEmbedded @RESTRICT@
WSGIPythonPath @STATE@/site
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess re processes=1 threads=2
WSGIScriptAlias /d @APPS@/daemon.wsgi process-group=re
WSGIScriptAlias /e @APPS@/daemon.wsgi process-group=%{GLOBAL}
"""


@pytest.fixture(scope="module", params=["On", "Off"])
def srv(request):
    s = Apache(body=BODY.replace("@RESTRICT@", request.param),
               name="d-restrict-" + request.param)
    request.addfinalizer(s.stop)
    site = os.path.join(s.state, "site")
    os.makedirs(site)
    os.chmod(site, 0o755)
    started = os.path.join(s.state, "python-started.log")
    with open(os.path.join(site, "zz_probe.pth"), "w") as f:
        f.write("import os; f = open(%r, 'a'); f.write('%%d\\n' %% os.getpid());"
                " f.close()\n" % started)
    os.chmod(os.path.join(site, "zz_probe.pth"), 0o644)
    s.started_log = started
    s.restrict = request.param == "On"
    s.start()
    return s


def python_pids(srv):
    try:
        with open(srv.started_log) as f:
            return {int(x) for x in f.read().split()}
    except FileNotFoundError:
        return set()


def test_embedded_request(srv):
    mark = srv.log_mark()
    r = srv.get("/e?op=ident")
    if srv.restrict:
        assert r.status == 500, r
        assert b'"uid"' not in r.body
        srv.wait_for_log(r"\[client 127\.0\.0\.1:\d+\] .*Embedded mode .*disabled",
                         since=mark)
    else:
        assert r.status == 200, r
        assert r.json()["pid"] in srv.mpm_children()


def test_daemon_request_is_served(srv):
    r = srv.get("/d?op=ident")
    assert r.status == 200, r
    assert r.json()["process_group"] == "re"
    assert r.json()["pid"] not in srv.mpm_children()


def test_python_never_starts_in_apache_children(srv):
    # the children have started (and served requests) by now
    assert srv.get("/e?op=ident").status == (500 if srv.restrict else 200)
    daemon_pid = srv.get("/d?op=ident").json()["pid"]
    children = srv.mpm_children()
    assert children
    # the probe works: the daemon's Python recorded itself
    wait_for(lambda: daemon_pid in python_pids(srv), timeout=5,
             what="the daemon's pid in %s" % srv.started_log)
    in_children = python_pids(srv) & set(children)
    if srv.restrict:
        assert not in_children, (
            "Python started in Apache children %r" % sorted(in_children))
        assert python_pids(srv) <= set(srv.daemon_processes()), (
            python_pids(srv), srv.daemon_processes())
    else:
        # control: without the restriction each child runs Python
        assert in_children == set(children), (python_pids(srv), children)
