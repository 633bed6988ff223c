"""Auth scripts (issue #15): WSGIAccessScript, WSGIAuthUserScript (the
``wsgi`` authn provider, Basic and Digest), WSGIAuthGroupScript (the
``wsgi-group`` authz provider), WSGIGroupAuthoritative, and Django's
``django.contrib.auth.handlers.modwsgi`` end to end.

The scripts run in the Apache child whatever the request's process group
(as in mod_wsgi); the tests run in the suite's mode (MOD_WSGI_TEST_MODE),
where the application behind the protected locations runs embedded or in
the daemon group.
"""

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys

import pytest

# Deliberate difference: an exception or a wrong result in a hook script is
# a 500 with its traceback in the log (mod_wsgi 6.1 answers 401/403 and, on
# Python 3.11, logs only the exception's last line).
hook_error_differs = pytest.mark.rs_only

from harness.apache import Apache

BASIC = r"""
AuthType Basic
AuthName "wsgi tests"
AuthBasicProvider wsgi
WSGIAuthUserScript @APPS@/hooks/users.wsgi
"""

BODY = r"""
WSGIScriptAlias /basic @APPS@/environ.wsgi
WSGIScriptAlias /appgroup @APPS@/environ.wsgi
WSGIScriptAlias /group @APPS@/environ.wsgi
WSGIScriptAlias /anygroup @APPS@/environ.wsgi
WSGIScriptAlias /digest @APPS@/environ.wsgi
WSGIScriptAlias /access @APPS@/environ.wsgi
WSGIScriptAlias /closed @APPS@/environ.wsgi
<Location /basic>
%(basic)s
    Require valid-user
</Location>
<Location /appgroup>
    AuthType Basic
    AuthName "wsgi tests"
    AuthBasicProvider wsgi
    WSGIAuthUserScript @APPS@/hooks/users.wsgi application-group=auth-group
    Require valid-user
</Location>
<Location /group>
%(basic)s
    WSGIAuthGroupScript @APPS@/hooks/users.wsgi
    WSGIGroupAuthoritative Off
    Require wsgi-group admins "other group"
</Location>
<Location /anygroup>
%(basic)s
    WSGIAuthGroupScript @APPS@/hooks/users.wsgi
    <RequireAny>
        Require wsgi-group admins
        Require user bob
    </RequireAny>
</Location>
<Location /digest>
    AuthType Digest
    AuthName "digest realm"
    AuthDigestProvider wsgi
    WSGIAuthUserScript @APPS@/hooks/users.wsgi
    Require valid-user
</Location>
<Location /access>
    WSGIAccessScript @APPS@/hooks/access.wsgi
</Location>
<Location /closed>
    WSGIAccessScript @APPS@/hooks/access.wsgi
    Require all denied
</Location>
""" % {"basic": BASIC}


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="authscripts", extra_modules=("auth_digest",))


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode("latin-1"))
    return {"Authorization": "Basic " + token.decode()}


def environ_of(r):
    assert r.status == 200, (r.status, r.body[:300])
    return r.json()["environ"]


# ------------------------------------------------------------------ Basic

def test_basic_without_credentials_is_401(srv):
    r = srv.get("/basic")
    assert r.status == 401
    assert r.header("WWW-Authenticate", "").startswith("Basic")


@pytest.mark.parametrize("user,password", [
    ("alice", "wrong"), ("nobody", "secret"), ("renamed", "y")])
def test_basic_wrong_credentials_are_401(srv, user, password):
    assert srv.get("/basic", headers=basic(user, password)).status == 401


def test_basic_right_credentials(srv):
    env = environ_of(srv.get("/basic/x", headers=basic("alice", "secret")))
    assert env["REMOTE_USER"] == "alice"
    assert env["AUTH_TYPE"] == "Basic"
    assert env["PATH_INFO"] == "/x"
    assert env["mod_wsgi.process_group"] == srv.process_group


def test_basic_user_name_returned_replaces_the_user(srv):
    env = environ_of(srv.get("/basic", headers=basic("renamed", "x")))
    assert env["REMOTE_USER"] == "someone-else"


def test_auth_environ_has_no_credentials(srv):
    assert srv.get("/basic", headers=basic("envcheck", "pw")).status == 200


def test_application_group_option(srv):
    assert srv.get("/appgroup", headers=basic("group", "auth-group")).status == 200
    assert srv.get("/basic", headers=basic("group", "")).status == 200
    assert srv.get("/basic", headers=basic("group", "auth-group")).status == 401


def test_auth_script_runs_in_the_apache_child(srv):
    """Even when the application runs in a daemon process group."""
    path = os.path.join(srv.state, "auth_pid")
    assert srv.get("/basic", headers=basic("where", "pw")).status == 200
    with open(path) as f:
        pid = int(f.read())
    assert pid in srv.mpm_children()


@hook_error_differs
@pytest.mark.parametrize("user,why", [
    ("boom", "check_password exploded for boom"),
    ("wrongtype", "must return True, False, None or a user name"),
])
def test_basic_script_error_is_500_and_logged(srv, user, why):
    mark = srv.log_mark()
    assert srv.get("/basic", headers=basic(user, "pw")).status == 500
    srv.wait_for_log(re.escape(why), since=mark)
    if user == "boom":
        assert "Traceback (most recent call last)" in srv.log_since(mark)
    # the process keeps serving
    assert srv.get("/basic", headers=basic("alice", "secret")).status == 200


# ----------------------------------------------------------------- Digest

def digest_get(srv, path, user, password):
    r = srv.get(path)
    assert r.status == 401, r.status
    challenge = r.header("WWW-Authenticate", "")
    assert challenge.startswith("Digest"), challenge
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    realm, nonce = fields["realm"], fields["nonce"]
    qop, nc, cnonce = "auth", "00000001", "0a4f113b"
    ha1 = hashlib.md5(("%s:%s:%s" % (user, realm, password)).encode()).hexdigest()
    ha2 = hashlib.md5(("GET:%s" % path).encode()).hexdigest()
    response = hashlib.md5(":".join(
        [ha1, nonce, nc, cnonce, qop, ha2]).encode()).hexdigest()
    header = ('Digest username="%s", realm="%s", nonce="%s", uri="%s", '
              'algorithm=MD5, response="%s", qop=%s, nc=%s, cnonce="%s"'
              % (user, realm, nonce, path, response, qop, nc, cnonce))
    return srv.get(path, headers={"Authorization": header})


def test_digest_right_password(srv):
    env = environ_of(digest_get(srv, "/digest", "bob", "hunter2"))
    assert env["REMOTE_USER"] == "bob"
    assert env["AUTH_TYPE"] == "Digest"


@pytest.mark.parametrize("user,password", [("bob", "wrong"), ("nobody", "x")])
def test_digest_wrong_credentials(srv, user, password):
    assert digest_get(srv, "/digest", user, password).status == 401


# ----------------------------------------------------------------- Groups

def test_group_member_is_allowed(srv):
    env = environ_of(srv.get("/group", headers=basic("alice", "secret")))
    assert env["REMOTE_USER"] == "alice"


def test_group_non_member_is_401_and_logged(srv):
    mark = srv.log_mark()
    assert srv.get("/group", headers=basic("bob", "hunter2")).status == 401
    srv.wait_for_log(r"User is not a member of designated groups", since=mark)


def test_group_without_credentials_is_401(srv):
    assert srv.get("/group").status == 401


@hook_error_differs
def test_group_script_error_is_500(srv):
    mark = srv.log_mark()
    assert srv.get("/group", headers=basic("grouperr", "x")).status == 500
    srv.wait_for_log(r"groups_for_user exploded for grouperr", since=mark)


def test_group_denial_lets_require_any_decide(srv):
    assert srv.get("/anygroup", headers=basic("alice", "secret")).status == 200
    assert srv.get("/anygroup", headers=basic("bob", "hunter2")).status == 200
    assert srv.get("/anygroup", headers=basic("bob", "wrong")).status == 401


# ----------------------------------------------------------------- Access

def test_access_true_allows(srv):
    env = environ_of(srv.get("/access"))
    assert env["REQUEST_URI"] == "/access"


def test_access_false_is_403(srv):
    mark = srv.log_mark()
    assert srv.get("/access?deny").status == 403
    srv.wait_for_log(r"Client denied by server configuration", since=mark)


def test_access_none_leaves_it_to_require(srv):
    assert srv.get("/access?none").status == 200
    assert srv.get("/closed?none").status == 403


def test_access_true_does_not_override_require_all_denied(srv):
    assert srv.get("/closed").status == 403


@hook_error_differs
@pytest.mark.parametrize("query,why", [
    ("boom", "allow_access exploded"),
    ("wrongtype", "must return True, False or None"),
])
def test_access_script_error_is_500(srv, query, why):
    mark = srv.log_mark()
    assert srv.get("/access?" + query).status == 500
    srv.wait_for_log(re.escape(why), since=mark)
    assert srv.get("/access").status == 200


# ------------------------------------------------------ Bad configuration

@pytest.mark.rs_only  # mod_wsgi's messages differ
def test_bad_options_are_refused():
    a = Apache(body="", name="authcfg")
    rc, out = a.configtest(
        "<Location /x>\nWSGIAuthUserScript /x.wsgi process-group=g\n</Location>\n")
    assert rc != 0
    assert "invalid option 'process-group=g' to WSGIAuthUserScript" in out, out
    rc, out = a.configtest(
        "<Location /x>\nWSGIAccessScript /x.wsgi application-group=\n</Location>\n")
    assert rc != 0 and "application-group needs a name" in out, out


# ----------------------------------------------------------------- Django

VENV = "/var/cache/mod_wsgi_rs_tests/django-venv"

SETTINGS = """
SECRET_KEY = "mod_wsgi_rs tests"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes"]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": %r}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""

MANAGE = """#!/usr/bin/env python
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
"""

AUTH_SCRIPT = """
import os, sys
sys.path[:0] = [%(site)r, %(project)r]
os.environ["DJANGO_SETTINGS_MODULE"] = "proj.settings"
import django
django.setup()
from django.contrib.auth.handlers.modwsgi import check_password, groups_for_user
"""

DJANGO_BODY = r"""
WSGIScriptAlias /private @APPS@/environ.wsgi
WSGIScriptAlias /editors @APPS@/environ.wsgi
<Location /private>
    AuthType Basic
    AuthName "django"
    AuthBasicProvider wsgi
    WSGIAuthUserScript @ROOT@/django_auth.wsgi
    Require valid-user
</Location>
<Location /editors>
    AuthType Basic
    AuthName "django"
    AuthBasicProvider wsgi
    WSGIAuthUserScript @ROOT@/django_auth.wsgi
    WSGIAuthGroupScript @ROOT@/django_auth.wsgi
    Require wsgi-group editors
</Location>
"""


def _venv_python():
    return os.path.join(VENV, "bin", "python")


@pytest.fixture(scope="module")
def django_venv():
    """A venv with Django, readable by www-data, kept between runs."""
    py = _venv_python()
    ok = os.path.exists(py) and subprocess.run(
        [py, "-c", "import django"], capture_output=True).returncode == 0
    if not ok:
        shutil.rmtree(VENV, ignore_errors=True)
        os.makedirs(os.path.dirname(VENV), exist_ok=True)
        subprocess.run(["/usr/bin/python3", "-m", "venv", VENV], check=True)
        r = subprocess.run([py, "-m", "pip", "install", "-q", "Django"],
                           capture_output=True, text=True, timeout=540)
        if r.returncode != 0:
            pytest.skip("cannot install Django from PyPI: %s" % r.stderr[-500:])
    subprocess.run(["chmod", "-R", "a+rX", os.path.dirname(VENV)], check=True)
    site = subprocess.run(
        [py, "-c", "import django, os; print(os.path.dirname(os.path.dirname(django.__file__)))"],
        capture_output=True, text=True, check=True).stdout.strip()
    return py, site


@pytest.fixture(scope="module")
def django_srv(server_factory, django_venv):
    py, site = django_venv
    srv = server_factory(DJANGO_BODY, name="djangoauth")
    project = os.path.join(srv.root, "djproject")
    os.makedirs(os.path.join(project, "proj"))
    db = os.path.join(project, "db.sqlite3")
    with open(os.path.join(project, "proj", "__init__.py"), "w"):
        pass
    with open(os.path.join(project, "proj", "settings.py"), "w") as f:
        f.write(SETTINGS % db)
    with open(os.path.join(project, "manage.py"), "w") as f:
        f.write(MANAGE)
    with open(os.path.join(srv.root, "django_auth.wsgi"), "w") as f:
        f.write(AUTH_SCRIPT % {"site": site, "project": project})

    def manage(*args):
        r = subprocess.run([py, "manage.py"] + list(args), cwd=project,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-2000:]

    manage("migrate", "-v0")
    manage("shell", "-c",
           "from django.contrib.auth.models import User, Group\n"
           "u = User.objects.create_user('carol', password='c4rol-pw')\n"
           "u.groups.add(Group.objects.create(name='editors'))\n"
           "User.objects.create_user('dave', password='d4ve-pw')\n"
           "User.objects.create_user('gone', password='g0ne-pw', is_active=False)\n")
    # sqlite writes next to the database (journal): www-data owns the project
    subprocess.run(["chown", "-R", "www-data:www-data", project], check=True)
    subprocess.run(["chmod", "-R", "a+rX", project], check=True)
    return srv


def test_django_check_password(django_srv):
    srv = django_srv
    assert srv.get("/private").status == 401
    assert srv.get("/private", headers=basic("carol", "wrong")).status == 401
    assert srv.get("/private", headers=basic("nobody", "c4rol-pw")).status == 401
    assert srv.get("/private", headers=basic("gone", "g0ne-pw")).status == 401
    env = environ_of(srv.get("/private", headers=basic("carol", "c4rol-pw")))
    assert env["REMOTE_USER"] == "carol"
    assert env["mod_wsgi.process_group"] == srv.process_group


def test_django_groups_for_user(django_srv):
    srv = django_srv
    assert srv.get("/editors", headers=basic("carol", "c4rol-pw")).status == 200
    assert srv.get("/editors", headers=basic("dave", "d4ve-pw")).status == 401
    assert srv.get("/editors").status == 401
