"""``mod-wsgi-rs start-server`` in embedded mode: serving, static files,
options, stopping cleanly."""

import os
import re
import signal
import subprocess
import time

import pytest

from cli_helpers import (EXAMPLE, SO, cli_env, http_request, pid_alive,
                      wait_for, write)

APP_ENVIRON = r'''
import json, os, sys

def application(environ, start_response):
    keys = ("SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "REQUEST_METHOD",
            "wsgi.multithread", "wsgi.multiprocess", "mod_wsgi.process_group",
            "mod_wsgi.application_group", "mod_wsgi.callable_object")
    out = {k: environ.get(k) for k in keys}
    out["pid"] = os.getpid()
    out["prefix"] = sys.prefix
    out["path"] = sys.path
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''


def test_serves_example_app_and_static_alias(server, static_dir):
    icon = write(os.path.join(static_dir, "..", "icons", "favicon.ico"), "ICON")
    os.chmod(os.path.dirname(icon), 0o755)
    srv = server(EXAMPLE, "--embedded-mode", "--url-alias", "/static/", static_dir + "/",
                 "--url-alias", "/favicon.ico", icon)
    r = srv.get("/some/path?x=1")
    assert r.status == 200, srv.diagnostics()
    assert r.text.startswith("Hello from mod_wsgi_rs!")
    assert re.search(r"PATH_INFO\s+'/some/path'", r.text)
    assert re.search(r"QUERY_STRING\s+'x=1'", r.text)

    r = srv.get("/static/hello.txt")
    assert (r.status, r.body) == (200, b"static hello\n")
    assert r.headers["Content-Type"].startswith("text/plain")
    r = srv.get("/static/sub/deep.css")
    assert (r.status, r.body) == (200, b"body { color: red }\n")
    assert srv.get("/static/missing.txt").status == 404
    assert srv.get("/favicon.ico").body == b"ICON"

    # The configuration, the pid file and the logs live in the server root.
    conf = open(os.path.join(srv.root, "httpd.conf")).read()
    assert "WSGIScriptAlias \"/\" \"%s\"" % EXAMPLE in conf
    assert "Alias \"/static\" \"%s\"" % static_dir in conf
    assert "LoadModule wsgi_module \"%s\"" % SO in conf
    assert "WSGIRestrictEmbedded" not in conf
    pid = srv.apache_pid()
    assert pid and pid_alive(pid)
    assert "FOREGROUND" in open("/proc/%d/cmdline" % pid).read()
    assert os.path.isfile(os.path.join(srv.root, "error_log"))
    out, _ = srv.output()
    assert "Server URL      : http://127.0.0.1:%d/" % srv.port in out


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_apache_and_leaves_nothing(server, sig):
    srv = server(EXAMPLE, "--embedded-mode", "--processes", "2", "--threads", "2")
    assert srv.get("/").status == 200
    apache = srv.apache_pid()
    assert srv.leftovers(), "expected Apache processes while running"
    t0 = time.monotonic()
    rc = srv.signal_and_wait(sig)
    assert rc == 0, srv.diagnostics()
    assert time.monotonic() - t0 < 20
    assert not pid_alive(apache)
    assert srv.leftovers() == []
    assert not os.path.exists(os.path.join(srv.root, "httpd.pid"))
    _, err = srv.output()
    assert "Apache stopped" in err
    with pytest.raises(OSError):
        http_request(srv.port, "/", timeout=2)


def test_killed_supervisor_takes_apache_with_it(server):
    """Apache dies with mod-wsgi-rs (parent-death signal), even on SIGKILL."""
    srv = server(EXAMPLE, "--embedded-mode")
    apache = srv.apache_pid()
    srv.proc.kill()
    srv.proc.wait(timeout=10)
    wait_for(lambda: not pid_alive(apache), 20, "Apache to exit after SIGKILL of mod-wsgi-rs")
    wait_for(lambda: srv.leftovers() == [], 20, "no Apache process left")


def test_mount_point_and_callable_object(server, workdir):
    app = write(os.path.join(workdir, "app", "env.wsgi"),
                APP_ENVIRON.replace("def application", "def app"))
    os.chmod(os.path.dirname(app), 0o755)
    srv = server(app, "--embedded-mode", "--mount-point", "/app/", "--callable-object", "app",
                 wait=False)
    srv.wait_ready("/app")
    r = srv.get("/app/x/y?q=1")
    assert r.status == 200, srv.diagnostics()
    import json
    e = json.loads(r.body)
    assert e["SCRIPT_NAME"] == "/app"
    assert e["PATH_INFO"] == "/x/y"
    assert e["QUERY_STRING"] == "q=1"
    assert e["mod_wsgi.callable_object"] == "app"
    assert e["mod_wsgi.application_group"] == ""
    # Outside the mount point: the (empty) document root.
    assert srv.get("/other").status == 404


def test_document_root_files_win_over_the_app(server, workdir):
    docs = os.path.join(workdir, "docs")
    write(os.path.join(docs, "robots.txt"), "User-agent: *\n")
    write(os.path.join(docs, "css", "site.css"), "p {}\n")
    for d in (docs, os.path.join(docs, "css")):
        os.chmod(d, 0o755)
    srv = server(EXAMPLE, "--embedded-mode", "--document-root", docs)
    assert srv.get("/robots.txt").body == b"User-agent: *\n"
    assert srv.get("/css/site.css").body == b"p {}\n"
    r = srv.get("/")
    assert r.text.startswith("Hello from mod_wsgi_rs!")
    r = srv.get("/not-a-file")
    assert r.text.startswith("Hello from mod_wsgi_rs!")
    assert re.search(r"PATH_INFO\s+'/not-a-file'", r.text)


def test_application_type_module(server, workdir):
    pkg = os.path.join(workdir, "proj", "mypkg")
    write(os.path.join(pkg, "__init__.py"), "")
    write(os.path.join(pkg, "web.py"), APP_ENVIRON.replace("def application", "def wsgi_app"))
    for d in (os.path.dirname(pkg), pkg):
        os.chmod(d, 0o755)
    srv = server("mypkg.web:wsgi_app", "--application-type", "module", "--embedded-mode",
                 cwd=os.path.dirname(pkg))
    r = srv.get("/hello")
    assert r.status == 200, srv.diagnostics()
    import json
    e = json.loads(r.body)
    assert e["PATH_INFO"] == "/hello"
    shim = open(os.path.join(srv.root, "handler.wsgi")).read()
    assert "mypkg.web" in shim and "wsgi_app" in shim


def test_application_type_module_via_python_path(server, workdir):
    lib = os.path.join(workdir, "lib")
    write(os.path.join(lib, "plainapp.py"), APP_ENVIRON)
    os.chmod(lib, 0o755)
    srv = server("plainapp", "--application-type", "module", "--embedded-mode",
                 "--python-path", lib)
    r = srv.get("/")
    assert r.status == 200, srv.diagnostics()
    import json
    assert lib in json.loads(r.body)["path"]


def test_reload_on_changes_picks_up_an_edited_module(server, workdir):
    proj = os.path.join(workdir, "proj")
    write(os.path.join(proj, "greeting.py"), "MESSAGE = 'version one'\n")
    app = write(os.path.join(proj, "app.wsgi"),
                "import os\nimport greeting\n\n"
                "def application(environ, start_response):\n"
                "    body = ('%s %d' % (greeting.MESSAGE, os.getpid())).encode()\n"
                "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                "    return [body]\n")
    os.chmod(proj, 0o755)
    srv = server(app, "--embedded-mode", "--reload-on-changes", "--python-path", proj)
    r = srv.get("/")
    assert r.text.startswith("version one "), srv.diagnostics()
    apache = srv.apache_pid()
    # Let the monitor record the file first (it looks once a second).
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
    # A graceful restart: same Apache parent.
    assert srv.apache_pid() == apache
    _, err = srv.output()
    assert "greeting.py changed" in err


def test_log_to_terminal_and_access_log(server, workdir):
    app = write(os.path.join(workdir, "noisy", "app.wsgi"),
                "import sys\n\n"
                "def application(environ, start_response):\n"
                "    print('app-stderr-marker', file=sys.stderr, flush=True)\n"
                "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                "    return [b'ok']\n")
    os.chmod(os.path.dirname(app), 0o755)
    srv = server(app, "--embedded-mode", "--log-to-terminal", "--access-log",
                 "--log-level", "info")
    assert srv.get("/logged-request").body == b"ok"

    def seen():
        out, err = srv.output()
        return '"GET /logged-request HTTP/1.1" 200' in out and "app-stderr-marker" in err
    wait_for(seen, 10, "the access log on stdout and the app's stderr on stderr\n"
             + srv.diagnostics())
    assert not os.path.exists(os.path.join(srv.root, "error_log"))


def test_access_log_file_and_limit_request_body(server):
    srv = server(EXAMPLE, "--embedded-mode", "--access-log", "--limit-request-body", "100")
    assert srv.get("/small", method="POST", body=b"x" * 50).status == 200
    assert srv.get("/big", method="POST", body=b"x" * 500).status == 413
    log = os.path.join(srv.root, "access_log")
    wait_for(lambda: os.path.exists(log) and "POST /small" in open(log).read(), 10,
             "the access log")


def test_processes_threads_and_max_clients(server, workdir):
    app = write(os.path.join(workdir, "a", "env.wsgi"), APP_ENVIRON)
    os.chmod(os.path.dirname(app), 0o755)
    srv = server(app, "--embedded-mode", "--processes", "2", "--threads", "3")
    conf = open(os.path.join(srv.root, "httpd.conf")).read()
    assert "ThreadsPerChild 3" in conf
    assert "MaxRequestWorkers 6" in conf
    assert "StartServers 2" in conf
    import json
    e = json.loads(srv.get("/").body)
    assert e["wsgi.multithread"] is True
    assert e["mod_wsgi.process_group"] == ""


def test_virtualenv_is_used(server, workdir):
    venv = os.path.join(workdir, "venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", venv], check=True)
    site = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    write(os.path.join(site, "venv_only_module.py"), "WHERE = 'inside the venv'\n")
    for dirpath, dirnames, _ in os.walk(venv):
        for d in dirnames:
            os.chmod(os.path.join(dirpath, d), 0o755)
    app = write(os.path.join(workdir, "v", "app.wsgi"),
                "import sys, venv_only_module\n\n"
                "def application(environ, start_response):\n"
                "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
                "    return [('%s|%s' % (venv_only_module.WHERE, sys.prefix)).encode()]\n")
    os.chmod(os.path.dirname(app), 0o755)
    # The active virtualenv ($VIRTUAL_ENV) is picked up without --python-home.
    srv = server(app, "--embedded-mode", env=cli_env(VIRTUAL_ENV=venv))
    r = srv.get("/")
    assert r.status == 200, srv.diagnostics()
    assert r.text == "inside the venv|%s" % venv
    conf = open(os.path.join(srv.root, "httpd.conf")).read()
    assert 'WSGIPythonHome "%s"' % venv in conf


def test_default_server_root_is_named_after_host_port_uid(cli_bin):
    from cli_helpers import free_port, run_cli
    port = free_port()
    root = "/tmp/mod_wsgi_rs-127.0.0.1:%d:%d" % (port, os.geteuid())
    try:
        r = run_cli("start-server", EXAMPLE, "--port", port, "--setup-only",
                    "--module-path", SO)
        assert r.returncode == 0, r.stderr
        assert os.path.isfile(os.path.join(root, "httpd.conf"))
        assert os.access(os.path.join(root, "apachectl"), os.X_OK)
        assert "Server Root     : %s" % root in r.stdout
    finally:
        import shutil
        shutil.rmtree(root, ignore_errors=True)


def test_second_start_on_same_server_root_is_refused(server, workdir):
    srv = server(EXAMPLE, "--embedded-mode")
    from cli_helpers import run_cli
    r = run_cli("start-server", EXAMPLE, "--embedded-mode", "--port", srv.port + 0,
                "--server-root", srv.root, "--module-path", SO)
    assert r.returncode == 1
    assert "already running" in r.stderr
    assert srv.get("/").status == 200


def test_prefork_mpm(server):
    srv = server(EXAMPLE, "--embedded-mode", "--server-mpm", "prefork", "--processes", "2")
    assert srv.get("/").text.startswith("Hello from mod_wsgi_rs!")
    conf = open(os.path.join(srv.root, "httpd.conf")).read()
    assert "mod_mpm_prefork.so" in conf and "MaxRequestWorkers 2" in conf


def test_sigusr1_restarts_apache_gracefully(server):
    srv = server(EXAMPLE, "--embedded-mode")
    apache = srv.apache_pid()
    before = srv.error_log().count("resuming normal operations")
    srv.proc.send_signal(signal.SIGUSR1)
    wait_for(lambda: srv.error_log().count("resuming normal operations") > before, 20,
             "the graceful restart\n" + srv.diagnostics())
    assert srv.get("/").status == 200
    assert srv.apache_pid() == apache
    assert srv.proc.poll() is None


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs Apache's children as www-data")
def test_warns_when_the_app_is_unreadable_by_apache_user(cli_bin, workdir):
    """Only writing the configuration (--setup-only): a warning."""
    from cli_helpers import free_port, run_cli
    private = os.path.join(workdir, "private")
    app = write(os.path.join(private, "app.wsgi"), "application = None\n")
    os.chmod(private, 0o700)
    r = run_cli("start-server", app, "--setup-only", "--port", free_port(),
                "--server-root", os.path.join(workdir, "srv"), "--module-path", SO)
    assert r.returncode == 0, r.stderr
    assert ("mod-wsgi-rs: warning: Apache's user www-data cannot enter %s (mode 0700)"
            % private) in r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs Apache's children as www-data")
def test_refuses_to_start_when_apache_user_cannot_reach_the_app(cli_bin, workdir):
    """start-server checks before starting: one line naming the closed
    folder and the ways out; nothing written, no Apache started."""
    from cli_helpers import free_port, run_cli
    private = os.path.join(workdir, "private")
    app = write(os.path.join(private, "app", "app.wsgi"), "application = None\n")
    os.chmod(os.path.join(private, "app"), 0o755)
    os.chmod(private, 0o700)
    root = os.path.join(workdir, "srv")
    r = run_cli("start-server", app, "--port", free_port(), "--server-root", root,
                "--module-path", SO)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stderr.splitlines()
    assert lines == ["mod-wsgi-rs: error: Apache's user www-data cannot enter %s (mode 0700): "
                     "move the app elsewhere, chmod o+x %s, or pass --user" % (private, private)]
    assert not os.path.exists(root)

    # A readable folder but an unreadable script.
    os.chmod(private, 0o711)
    os.chmod(app, 0o600)
    r = run_cli("start-server", app, "--port", free_port(), "--server-root", root,
                "--module-path", SO)
    assert r.returncode == 1
    assert ("Apache's user www-data cannot read %s (mode 0600): chmod o+r %s, or pass --user"
            % (app, app)) in r.stderr

    # Once the folder can be entered and the script read, it is accepted.
    os.chmod(app, 0o644)
    r = run_cli("start-server", app, "--setup-only", "--port", free_port(),
                "--server-root", root, "--module-path", SO)
    assert r.returncode == 0, r.stderr
    assert "warning" not in r.stderr


SLOW_APP = '''
import time

def application(environ, start_response):
    if environ.get("PATH_INFO") == "/slow":
        time.sleep(float(environ.get("QUERY_STRING") or 0))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"done"]
'''


@pytest.mark.parametrize("mode", [[], ["--embedded-mode"]], ids=["daemon", "embedded"])
def test_mpm_limits_are_consistent(server, workdir, mode):
    """A request that stays in progress across the MPM's once-a-second
    check must not make Apache warn that the server is near its capacity
    (AH10159: MinSpareThreads as large as MaxRequestWorkers), nor report a
    child it does not know (AH00488)."""
    app = write(os.path.join(workdir, "slow.wsgi"), SLOW_APP)
    srv = server(app, *mode)
    r = srv.get("/slow?2.2", timeout=30)
    assert (r.status, r.body) == (200, b"done"), srv.diagnostics()
    assert srv.get("/").status == 200
    log = srv.error_log()
    assert "AH10159" not in log, log
    assert "AH00488" not in log, log
    conf = open(os.path.join(srv.root, "httpd.conf")).read()
    limits = dict(re.findall(r"^(MinSpareThreads|MaxRequestWorkers|ThreadsPerChild) (\d+)$",
                             conf, re.M))
    assert int(limits["MinSpareThreads"]) < int(limits["MaxRequestWorkers"]), limits
