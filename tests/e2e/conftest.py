"""Fixtures of the end-to-end suite: real applications (Flask, Django,
httpbin) installed from PyPI into a virtualenv, served by a real Apache
through the module, in embedded mode and in daemon mode, mounted at / and
at a sub-path.

    /usr/bin/python3 -m pytest tests/e2e -q

The virtualenv is made once per machine (see venv_cache.py) and reused. Each
test module starts one Apache per (mode, mount) through the harness
(tests/harness/apache.py) and stops it at the end.

MOD_WSGI_TEST_MODE=embedded|daemon runs only that mode (scripts/test runs
the suite in each mode); unset, both modes run.
"""

import os
import shutil
import subprocess
import time

import pytest

from harness import apache as harness
from harness import markers

import venv_cache
from browser import random_bytes, write_blob
from e2e_support import (DJANGO_ADMIN, MODE_MOUNT_IDS, MODE_MOUNTS, AppServer,
                         app_config, give_to_apache_user, start_app_server)

E2E_APPS_SRC = os.path.join(harness.APPS_SRC, "e2e")

_venv_report = {}


# ----------------------------------------------------------------- markers
@pytest.fixture(autouse=True)
def _skip_marked_against_mod_wsgi(request):
    """Same rule as tests/conftest.py (which only marks tests/*.py)."""
    reason = markers.skip_reason(request.node)
    if reason:
        pytest.skip(reason)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _venv_report:
        terminalreporter.write_line(
            "e2e virtualenv: %s (%s)" % (_venv_report["path"], _venv_report["how"]))


# ---------------------------------------------------------------- the venv
@pytest.fixture(scope="session")
def e2e_venv():
    """Path of the cached virtualenv with Flask, Django and httpbin."""
    t0 = time.monotonic()
    try:
        path, secs = venv_cache.ensure_venv()
    except venv_cache.VenvError as e:
        pytest.fail("cannot make the e2e virtualenv: %s" % e, pytrace=False)
    _venv_report["path"] = path
    _venv_report["how"] = ("made in %.1fs" % secs if secs
                           else "reused, %.2fs" % (time.monotonic() - t0))
    return path


# ------------------------------------------------------------------- apps
BLOB_SIZE = 3 * 1024 * 1024 + 12345


@pytest.fixture(scope="session")
def blob():
    return random_bytes(BLOB_SIZE, "e2e-blob")


@pytest.fixture(scope="module", params=MODE_MOUNTS, ids=MODE_MOUNT_IDS)
def flask_app(request, e2e_venv, blob):
    def prepare(srv):
        write_blob(os.path.join(srv.state, "blob.bin"), blob)
    return _named(request, e2e_venv, "flask.wsgi", "flask", prepare)


@pytest.fixture(scope="module", params=MODE_MOUNTS, ids=MODE_MOUNT_IDS)
def httpbin_app(request, e2e_venv):
    return _named(request, e2e_venv, "httpbin.wsgi", "httpbin", None)


@pytest.fixture(scope="session")
def django_template(e2e_venv, blob):
    """Migrated database (with a superuser), collected static files and
    blob.bin, made once per session; each Django server gets a copy."""
    data = os.path.join(harness.session_root(), "django-template")
    os.makedirs(os.path.join(data, "tmp"), exist_ok=True)
    os.makedirs(os.path.join(data, "media"), exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.update(E2E_DJANGO_DATA=data, PYTHONDONTWRITEBYTECODE="1",
               DJANGO_SUPERUSER_PASSWORD=DJANGO_ADMIN[2])
    py = os.path.join(e2e_venv, "bin", "python")
    for args in (["migrate", "--noinput", "-v", "0"],
                 ["createsuperuser", "--noinput", "--username", DJANGO_ADMIN[0],
                  "--email", DJANGO_ADMIN[1]],
                 ["collectstatic", "--noinput", "-v", "0"]):
        p = subprocess.run([py, "manage.py"] + args, cwd=E2E_APPS_SRC, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert p.returncode == 0, "manage.py %s failed:\n%s" % (" ".join(args), p.stdout)
    write_blob(os.path.join(data, "blob.bin"), blob)
    return data


DJANGO_STATIC = """Alias {prefix}/static/ @STATE@/django/static/
<Directory @STATE@/django/static>
    Require all granted
</Directory>
"""


@pytest.fixture(scope="module", params=MODE_MOUNTS, ids=MODE_MOUNT_IDS)
def django_app(request, e2e_venv, django_template):
    def prepare(srv):
        dest = os.path.join(srv.state, "django")
        shutil.copytree(django_template, dest)
        give_to_apache_user(dest)
    mount = request.param[1]
    extra = DJANGO_STATIC.format(prefix="" if mount == "/" else mount)
    return _named(request, e2e_venv, "django.wsgi", "django", prepare, extra=extra)


def _named(request, venv, script, name, prepare, extra=""):
    mode, mount = request.param
    label = "%s-%s-%s" % (name, mode, "root" if mount == "/" else mount.strip("/"))
    body = app_config(mode, venv, script, mount, extra=extra)
    srv = start_app_server(request, body, label, prepare=prepare)
    return AppServer(srv, mode, mount, venv)
