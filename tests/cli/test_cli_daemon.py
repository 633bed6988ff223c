"""``mod-wsgi-rs start-server`` in its default mode: a daemon process group
(WSGIRestrictEmbedded On).
"""

import json
import os
import signal
import time

import pytest

from cli_helpers import EXAMPLE, pid_alive, wait_for, write

pytestmark = pytest.mark.needs_daemon

APP = r'''
import json, os, sys

def application(environ, start_response):
    keys = ("SCRIPT_NAME", "PATH_INFO", "wsgi.multithread", "wsgi.multiprocess",
            "mod_wsgi.process_group", "mod_wsgi.application_group")
    out = {k: environ.get(k) for k in keys}
    out["pid"] = os.getpid()
    out["cwd"] = os.getcwd()
    out["path"] = sys.path
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''


def daemon_pids(srv):
    """Pids of the daemon processes: children of the Apache parent named
    after their display-name (in their command line, or at least in their
    process name, which the kernel cuts to 15 characters)."""
    marker = "(wsgi:127.0.0.1:%d:%d)" % (srv.port, os.geteuid())
    parent = srv.apache_pid()
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or not pid_alive(int(name)):
            continue
        try:
            with open("/proc/%s/cmdline" % name, "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.find("(") + 1:stat.rfind(")")]
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if cmd.startswith(marker) or (ppid == parent and comm.startswith("(wsgi:")):
            found.append(int(name))
    return found


@pytest.fixture
def app(workdir):
    path = write(os.path.join(workdir, "app", "env.wsgi"), APP)
    os.chmod(os.path.dirname(path), 0o755)
    return path


def test_serves_example_app_and_static_alias_in_daemon_mode(server, static_dir):
    srv = server(EXAMPLE, "--url-alias", "/static", static_dir)
    r = srv.get("/x")
    assert r.status == 200, srv.diagnostics()
    assert r.text.startswith("Hello from mod_wsgi_rs!")
    assert "127.0.0.1:%d" % srv.port in r.text  # mod_wsgi.process_group
    assert srv.get("/static/hello.txt").body == b"static hello\n"


def test_daemon_group_named_after_host_port(server, app, workdir):
    srv = server(app, "--processes", "2", "--threads", "3")
    e = json.loads(srv.get("/a/b").body)
    assert e["mod_wsgi.process_group"] == "127.0.0.1:%d" % srv.port
    assert e["mod_wsgi.application_group"] == ""
    assert e["wsgi.multiprocess"] is True
    assert e["wsgi.multithread"] is True
    assert e["PATH_INFO"] == "/a/b"
    # The daemon runs in the working directory (home=).
    assert e["cwd"] == workdir
    pids = daemon_pids(srv)
    # At least one process per daemon slot (a slot may also have a manager).
    assert len(pids) >= 2, pids
    assert e["pid"] in pids


def test_single_process_is_not_multiprocess(server, app):
    srv = server(app)
    e = json.loads(srv.get("/").body)
    assert e["wsgi.multiprocess"] is False


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_apache_and_daemons(server, app, sig):
    srv = server(app, "--processes", "2")
    assert srv.get("/").status == 200
    daemons = daemon_pids(srv)
    assert daemons
    rc = srv.signal_and_wait(sig)
    assert rc == 0, srv.diagnostics()
    assert srv.leftovers() == []
    assert not any(pid_alive(p) for p in daemons)


def test_module_type_in_daemon_mode(server, workdir):
    proj = os.path.join(workdir, "proj")
    write(os.path.join(proj, "svc.py"), APP.replace("def application", "def app"))
    os.chmod(proj, 0o755)
    srv = server("svc:app", "--application-type", "module", cwd=proj)
    e = json.loads(srv.get("/").body)
    assert e["cwd"] == proj
    assert e["mod_wsgi.process_group"] == "127.0.0.1:%d" % srv.port


def test_reload_on_changes_in_daemon_mode(server, workdir):
    proj = os.path.join(workdir, "proj")
    write(os.path.join(proj, "greeting.py"), "MESSAGE = 'version one'\n")
    app = write(os.path.join(proj, "app.wsgi"),
                "import os\nimport greeting\n\n"
                "def application(environ, start_response):\n"
                "    body = ('%s %d' % (greeting.MESSAGE, os.getpid())).encode()\n"
                "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                "    return [body]\n")
    os.chmod(proj, 0o755)
    srv = server(app, "--reload-on-changes", "--python-path", proj)
    assert srv.get("/").text.startswith("version one "), srv.diagnostics()
    time.sleep(1.5)
    path = os.path.join(proj, "greeting.py")
    write(path, "MESSAGE = 'the second version'\n")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))

    def new_body():
        try:
            return srv.get("/", timeout=5).text.startswith("the second version ")
        except OSError:
            return False
    wait_for(new_body, 30, "the edited module to be served\n" + srv.diagnostics(),
             interval=0.2)
