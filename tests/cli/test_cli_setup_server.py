"""``setup-server`` (and ``start-server --setup-only``): the generated
configuration and apachectl script."""

import os
import re
import subprocess

import pytest

from cli_helpers import (EXAMPLE, SO, cli_env, free_port, http_request, kill_everything,
                      pid_alive, processes_of, reap_zombie_children, run_cli, wait_for)


@pytest.fixture
def setup_root(request, cli_bin, workdir):
    """``setup_root(*args)`` -> (root, port) after a successful setup-server;
    whatever apachectl starts is killed at the end of the test."""
    made = []

    def setup(*args, port=None):
        port = port or free_port()
        root = os.path.join(workdir, "srv%d" % len(made))
        made.append((root, port))
        r = run_cli("setup-server", *args, "--port", port, "--server-root", root,
                    "--module-path", SO)
        assert r.returncode == 0, r.stderr
        return root, port, r

    yield setup
    for root, port in made:
        kill_everything(root, port)


def apachectl(root, *args, timeout=60):
    return subprocess.run([os.path.join(root, "apachectl")] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=cli_env(), timeout=timeout, text=True)


def test_setup_server_writes_config_and_apachectl_that_works(setup_root, static_dir):
    root, port, r = setup_root(EXAMPLE, "--embedded-mode", "--url-alias", "/s", static_dir)
    assert "Configuration written" in r.stdout
    assert os.access(os.path.join(root, "apachectl"), os.X_OK)
    # Nothing runs yet.
    assert processes_of(root) == []
    with pytest.raises(OSError):
        http_request(port, "/", timeout=1)

    c = apachectl(root, "configtest")
    assert c.returncode == 0 and "Syntax OK" in c.stdout, c.stdout
    assert apachectl(root, "status").returncode == 3

    c = apachectl(root, "start")
    assert c.returncode == 0, c.stdout
    def up():
        try:
            return http_request(port, "/", timeout=2)
        except OSError:
            return None
    r = wait_for(up, 20, "Apache started by apachectl to answer")
    assert r.text.startswith("Hello from mod_wsgi_rs!")
    assert http_request(port, "/s/hello.txt").body == b"static hello\n"
    pid = int(open(os.path.join(root, "httpd.pid")).read())
    s = apachectl(root, "status")
    assert s.returncode == 0 and str(pid) in s.stdout
    assert apachectl(root, "start").returncode == 1  # already running

    g = apachectl(root, "graceful")
    assert g.returncode == 0, g.stdout
    wait_for(up, 20, "Apache to answer after a graceful restart")

    c = apachectl(root, "stop")
    assert c.returncode == 0, c.stdout
    # `apachectl stop` returns once Apache has exited.
    assert not pid_alive(pid)
    wait_for(lambda: processes_of(root, port) == [], 10, "Apache's children to exit")
    reap_zombie_children()
    assert apachectl(root, "status").returncode == 3


def test_default_config_is_daemon_mode_with_safe_timeouts(setup_root):
    root, port, r = setup_root(EXAMPLE, "--processes", "3", "--threads", "4")
    conf = open(os.path.join(root, "httpd.conf")).read()
    group = "127.0.0.1:%d" % port
    assert "WSGIRestrictEmbedded On" in conf
    assert 'WSGISocketPrefix "%s/wsgi"' % root in conf
    daemon = re.search(r"^WSGIDaemonProcess (.*?)(?<!\\)$", conf, re.M | re.S).group(1)
    daemon = " ".join(daemon.replace("\\\n", " ").split())
    assert daemon.startswith(group + " ")
    for opt in ('display-name="(wsgi:%s:%d)"' % (group, os.geteuid()),
                "processes=3", "threads=4", "request-timeout=60", "queue-timeout=45",
                "socket-timeout=60", "connect-timeout=15", "startup-timeout=15",
                "graceful-timeout=15", "shutdown-timeout=5", "deadlock-timeout=60"):
        assert opt in daemon.split(), (opt, daemon)
    assert "WSGIProcessGroup %s\n" % group in conf
    assert "WSGIApplicationGroup %{GLOBAL}\n" in conf
    assert ('WSGIScriptAlias "/" "%s" process-group=%s application-group=%%{GLOBAL}'
            % (EXAMPLE, group)) in conf
    # Apache accepts it (the module parses every option).
    c = apachectl(root, "configtest")
    assert c.returncode == 0 and "Syntax OK" in c.stdout, c.stdout
    assert "Operating Mode  : daemon group %s (3 process(es) x 4 thread(s))" % group in r.stdout


def test_single_daemon_process_is_not_multiprocess(setup_root):
    root, port, _ = setup_root(EXAMPLE)
    conf = open(os.path.join(root, "httpd.conf")).read()
    assert "processes=" not in conf  # giving it makes wsgi.multiprocess True
    assert "threads=5" in conf


def test_timeouts_and_options_are_passed_through(setup_root, workdir):
    inc = os.path.join(workdir, "extra.conf")
    with open(inc, "w") as f:
        f.write("# extra\n")
    root, port, _ = setup_root(EXAMPLE, "--request-timeout", "30", "--queue-timeout", "10",
                               "--maximum-requests", "1000", "--include-file", inc,
                               "--server-name", "example.test", "--log-level", "info wsgi:debug",
                               "--limit-request-body", "2048", "--server-mpm", "worker",
                               "--python-path", workdir)
    conf = open(os.path.join(root, "httpd.conf")).read()
    for text in ("request-timeout=30", "queue-timeout=10", "maximum-requests=1000",
                 'Include "%s"' % inc, "ServerName example.test", "LogLevel info wsgi:debug",
                 "LimitRequestBody 2048", "mod_mpm_worker.so", 'python-path="%s"' % workdir,
                 "socket-timeout=60", "Timeout 60"):
        assert text in conf, text
    c = apachectl(root, "configtest")
    assert c.returncode == 0, c.stdout


def test_start_server_setup_only_starts_nothing(cli_bin, workdir):
    port = free_port()
    root = os.path.join(workdir, "srv")
    r = run_cli("start-server", EXAMPLE, "--setup-only", "--port", port, "--server-root", root,
                "--module-path", SO)
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(os.path.join(root, "httpd.conf"))
    assert os.path.isfile(os.path.join(root, "apachectl"))
    assert processes_of(root) == []


def test_module_type_and_reload_files(setup_root, workdir):
    root, port, _ = setup_root("pkg.app:make", "--application-type", "module",
                               "--reload-on-changes", "--embedded-mode")
    shim = open(os.path.join(root, "handler.wsgi")).read()
    assert "importlib.import_module('pkg.app')" in shim
    assert "'make'" in shim
    monitor = open(os.path.join(root, "reload-monitor.py")).read()
    # Not supervised by mod-wsgi-rs: the monitor signals Apache itself.
    assert "TRIGGER = None" in monitor
    conf = open(os.path.join(root, "httpd.conf")).read()
    assert 'WSGIImportScript "%s/reload-monitor.py"' % root in conf
    assert 'WSGICallableObject "application"' in conf
    c = apachectl(root, "configtest")
    assert c.returncode == 0, c.stdout
