"""The wheel: built from this checkout with ``pip wheel`` (scripts/build-wheels),
installed into a fresh virtualenv, its ``mod-wsgi-rs`` finds the module
inside the installed package and serves an app with the virtualenv as
Python home. (docker/wheel-test.sh does the same on a machine without Rust,
clang or apache2-dev.)

MOD_WSGI_TEST_WHEEL=PATH tests that wheel instead of building one.
"""

import glob
import json
import os
import subprocess
import sys
import zipfile

import pytest

from cli_helpers import REPO, Server, cli_env, make_dir, write

PY = "%d.%d" % sys.version_info[:2]
TAG = "cp%d%d" % sys.version_info[:2]

APP = r'''
import json, sys
import mod_wsgi_rs   # importable only with the virtualenv's site-packages

def application(environ, start_response):
    body = json.dumps({"prefix": sys.prefix, "package": mod_wsgi_rs.__file__,
                       "group": environ.get("mod_wsgi.process_group")}).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''


@pytest.fixture(scope="module")
def wheel():
    given = os.environ.get("MOD_WSGI_TEST_WHEEL")
    if given:
        return given
    out = make_dir("mwr-wheel-")
    r = subprocess.run([os.path.join(REPO, "scripts", "build-wheels"), "--out", out, PY],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=1200)
    assert r.returncode == 0, r.stdout[-4000:]
    found = glob.glob(os.path.join(out, "mod_wsgi_rs-*-%s-%s-linux_x86_64.whl" % (TAG, TAG)))
    assert len(found) == 1, (found, r.stdout[-2000:])
    return found[0]


@pytest.fixture(scope="module")
def venv(wheel):
    d = make_dir("mwr-venv-")
    env = cli_env()
    subprocess.run([sys.executable, "-m", "venv", d], check=True, env=env)
    r = subprocess.run([os.path.join(d, "bin", "python"), "-m", "pip", "install", "-q",
                        "--no-index", "--no-deps", "--disable-pip-version-check", wheel],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    assert r.returncode == 0, r.stdout
    subprocess.run(["chmod", "-R", "a+rX", d], check=True)
    yield d
    subprocess.run(["rm", "-rf", d])


def site_packages(venv):
    return os.path.join(venv, "lib", "python" + PY, "site-packages")


def test_wheel_holds_the_module_and_the_command(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("mod_wsgi_rs/libmod_wsgi_rs.") and n.endswith(".so") for n in names), names
    assert any(n.endswith(".data/scripts/mod-wsgi-rs") for n in names), names
    assert "mod_wsgi_rs/__init__.py" in names


def test_installed_command_finds_the_module_in_the_package(venv):
    cmd = os.path.join(venv, "bin", "mod-wsgi-rs")
    # Not activated: the command still knows its virtualenv.
    r = subprocess.run([cmd, "module-location"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=cli_env())
    assert r.returncode == 0, r.stderr
    so = r.stdout.strip()
    assert so.startswith(os.path.join(site_packages(venv), "mod_wsgi_rs", "libmod_wsgi_rs")), so
    # The package's own idea of it agrees.
    r2 = subprocess.run([os.path.join(venv, "bin", "python"), "-m", "mod_wsgi_rs"],
                        stdout=subprocess.PIPE, text=True, env=cli_env())
    assert r2.stdout.strip() == so

    r = subprocess.run([cmd, "module-config"], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=cli_env())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert 'LoadModule wsgi_module "%s"' % so in lines, lines
    assert 'WSGIPythonHome "%s"' % venv in lines, lines
    # The system's Python: its libpython is where the loader looks.
    if sys.executable.startswith("/usr/bin/"):
        assert not any(l.startswith("LoadFile") for l in lines), lines


@pytest.mark.parametrize("mode", ["daemon", "embedded"])
def test_installed_command_serves_an_app(venv, mode):
    workdir = make_dir()
    app = write(os.path.join(workdir, "app", "app.wsgi"), APP)
    os.chmod(os.path.dirname(app), 0o755)
    srv = Server(workdir, program=os.path.join(venv, "bin", "mod-wsgi-rs"))
    args = [app] + (["--embedded-mode"] if mode == "embedded" else [])
    try:
        srv.start(*args, module=False)
        r = srv.get("/")
        assert r.status == 200, srv.diagnostics()
        info = json.loads(r.body)
        assert info["prefix"] == venv
        assert info["package"].startswith(site_packages(venv))
        assert (info["group"] != "") == (mode == "daemon")
        conf = open(os.path.join(srv.root, "httpd.conf")).read()
        assert "WSGIPythonHome \"%s\"" % venv in conf
    finally:
        srv.cleanup()
        subprocess.run(["rm", "-rf", workdir])
