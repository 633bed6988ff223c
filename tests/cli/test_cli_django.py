"""Django's ``manage.py runmodwsgi`` (``mod_wsgi_rs.server`` in
INSTALLED_APPS) and ``--application-type paste``, with real Django and
PasteDeploy installed from PyPI into a virtualenv made by the test."""

import os
import shutil
import signal
import subprocess

import pytest

from cli_helpers import (BIN, REPO, SO, Server, cli_env, free_port, http_request,
                         kill_everything, make_dir, pid_alive, wait_for, write)

PYTHON = "/usr/bin/python3"  # the Python the module is built for


@pytest.fixture(scope="module")
def venv():
    d = make_dir("mwr-venv-")
    home = os.path.join(d, "venv")
    try:
        subprocess.run([PYTHON, "-m", "venv", home], check=True, capture_output=True)
        r = subprocess.run([os.path.join(home, "bin", "pip"), "install", "-q",
                            "django>=4.2,<6", "PasteDeploy"],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            pytest.fail("pip install django PasteDeploy failed:\n" + r.stdout + r.stderr)
        yield home
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_manage_py_runmodwsgi_serves_pages_and_static_files(cli_bin, venv, workdir):
    python = os.path.join(venv, "bin", "python")
    project = os.path.join(workdir, "proj")
    os.makedirs(project)
    subprocess.run([os.path.join(venv, "bin", "django-admin"), "startproject", "mysite",
                    project], check=True)
    settings = os.path.join(project, "mysite", "settings.py")
    with open(settings, "a") as f:
        f.write("\nINSTALLED_APPS += ['mod_wsgi_rs.server']\nALLOWED_HOSTS = ['*']\n"
                "DEBUG = False\nSTATIC_ROOT = BASE_DIR / 'collected'\n")
    # A copy of the package Apache's user can read wherever the checkout is.
    pylib = os.path.join(workdir, "pylib")
    shutil.copytree(os.path.join(REPO, "python", "mod_wsgi_rs"),
                    os.path.join(pylib, "mod_wsgi_rs"))
    env = cli_env(PYTHONPATH=pylib, MOD_WSGI_RS_BIN=BIN)
    subprocess.run([python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=project,
                   env=env, check=True)
    for dirpath, dirnames, filenames in os.walk(workdir):
        os.chmod(dirpath, 0o755)

    root = os.path.join(workdir, "root")
    port = free_port()
    out = open(os.path.join(workdir, "runmodwsgi.out"), "w+")
    proc = subprocess.Popen([python, "manage.py", "runmodwsgi", "--port", str(port),
                             "--server-root", root, "--module-path", SO],
                            cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    pidfile = os.path.join(root, "httpd.pid")

    def log():
        out.seek(0)
        return out.read()

    try:
        def ready():
            assert proc.poll() is None, "runmodwsgi exited:\n" + log()
            try:
                return http_request(port, "/admin/login/")
            except OSError:
                return None
        r = wait_for(ready, 30, "runmodwsgi to serve")
        assert r.status == 200, log()
        assert b"Django administration" in r.body
        r = http_request(port, "/static/admin/css/base.css")
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/css")
        with open(os.path.join(project, "collected", "admin", "css", "base.css"), "rb") as f:
            assert r.body == f.read()
        conf = open(os.path.join(root, "httpd.conf")).read()
        assert "mysite.wsgi:application --application-type module" in conf
        assert 'WSGIPythonHome "%s"' % venv in conf

        # Stopped through the server root's pid file.
        with open(pidfile) as f:
            apache = int(f.read())
        os.kill(apache, signal.SIGTERM)
        assert proc.wait(timeout=40) == 0, log()
        assert not pid_alive(apache)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        kill_everything(root, port)
        out.close()


PASTE_APP = '''
def make_app(global_conf, greeting="?"):
    def application(environ, start_response):
        body = ("%s from %s" % (greeting, environ["SCRIPT_NAME"] or "/")).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
    return application
'''

PASTE_INI = '''
[app:main]
use = call:pasteapp:make_app
greeting = hello from paste
'''


def test_paste_application_type(cli_bin, venv, workdir):
    code = os.path.join(workdir, "code")
    write(os.path.join(code, "pasteapp.py"), PASTE_APP)
    ini = write(os.path.join(code, "production.ini"), PASTE_INI)
    os.chmod(code, 0o755)
    srv = Server(workdir)
    try:
        srv.start(ini, "--application-type", "paste", "--python-home", venv,
                  "--python-path", code, "--mount-point", "/app")
        r = srv.get("/app/x")
        assert (r.status, r.body) == (200, b"hello from paste from /app"), srv.diagnostics()
        shim = open(os.path.join(srv.root, "handler.wsgi")).read()
        assert "loadapp(\"config:\" + _INI)" in shim
    finally:
        srv.cleanup()
