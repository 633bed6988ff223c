"""WSGIHandlerScript, WSGIDispatchScript and WSGIScriptAlias to a
directory (issue #15).

- ``WSGIHandlerScript NAME FILE [process-group= application-group=
  pass-authorization=]``: ``SetHandler NAME`` / ``AddHandler NAME .ext``
  run FILE's ``handle_request`` for whatever file the URL maps to
  (SCRIPT_FILENAME), with ``mod_wsgi.handler_script`` set, as mod_wsgi does.
- ``WSGIDispatchScript``: ``process_group(environ)``,
  ``application_group(environ)``, ``callable_object(environ)`` choose per
  request; None keeps the configured value.
- ``WSGIScriptAlias /dir/ /srv/apps/``: /dir/foo/rest runs /srv/apps/foo
  with PATH_INFO /rest (it used to try to load the directory: 500).

Runs in the suite's mode (MOD_WSGI_TEST_MODE).
"""

import base64
import os
import re

import pytest

# Deliberate difference: an exception or a wrong result in a hook script is
# a 500 with its traceback in the log (mod_wsgi 6.1 answers 401/403 and, on
# Python 3.11, logs only the exception's last line).
hook_error_differs = pytest.mark.rs_only

from harness.apache import DAEMON_MODE

BODY = r"""
WSGIHandlerScript myhandler @APPS@/hooks/handler.wsgi
WSGIHandlerScript opthandler @APPS@/hooks/handler.wsgi process-group=%{GLOBAL} application-group=hs-group pass-authorization=On
AddHandler myhandler .ext
<Location /hs>
    SetHandler myhandler
</Location>
<Location /opt>
    SetHandler opthandler
</Location>
WSGIScriptAlias /dir/ @APPS@/
WSGIScriptAlias /dispatched @APPS@/hooks/two.wsgi
<Location /dispatched>
    WSGIDispatchScript @APPS@/hooks/dispatch.py
</Location>
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    s = server_factory(BODY, name="handlerscripts")
    for rel in ("hs/doc.txt", "opt/doc.txt", "page.ext"):
        path = os.path.join(s.htdocs, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.chmod(os.path.dirname(path), 0o755)
        with open(path, "w") as f:
            f.write("static text, not served as such\n")
        os.chmod(path, 0o644)
    return s


def env_of(r):
    assert r.status == 200, (r.status, r.body[:300])
    return r.json()


# --------------------------------------------------------- handler scripts

def test_set_handler_runs_the_handler_script(srv):
    e = env_of(srv.get("/hs/doc.txt"))
    assert e["SCRIPT_FILENAME"] == os.path.join(srv.htdocs, "hs/doc.txt")
    assert e["mod_wsgi.handler_script"] == srv.apps + "/hooks/handler.wsgi"
    assert e["mod_wsgi.callable_object"] == "handle_request"
    assert e["mod_wsgi.request_handler"] == "myhandler"
    assert e["SCRIPT_NAME"] == "/hs/doc.txt"
    assert e["PATH_INFO"] == ""
    assert e["mod_wsgi.process_group"] == srv.process_group


def test_handler_script_path_info(srv):
    e = env_of(srv.get("/hs/doc.txt/more/parts"))
    assert e["SCRIPT_NAME"] == "/hs/doc.txt"
    assert e["PATH_INFO"] == "/more/parts"


def test_handler_script_for_a_missing_file(srv):
    """mod_wsgi leaves missing files to the handler script."""
    e = env_of(srv.get("/hs/missing.txt"))
    assert e["SCRIPT_FILENAME"] == os.path.join(srv.htdocs, "hs/missing.txt")


def test_add_handler_extension(srv):
    e = env_of(srv.get("/page.ext"))
    assert e["SCRIPT_FILENAME"] == os.path.join(srv.htdocs, "page.ext")
    assert e["mod_wsgi.handler_script"] == srv.apps + "/hooks/handler.wsgi"


def test_other_files_are_not_handled(srv):
    r = srv.get("/index.html")
    assert r.status == 200 and r.body == b"static index\n"


def test_handler_script_options(srv):
    token = base64.b64encode(b"u:p").decode()
    e = env_of(srv.get("/opt/doc.txt", headers={"Authorization": "Basic " + token}))
    assert e["mod_wsgi.process_group"] == ""
    assert e["pid"] in srv.mpm_children()
    assert e["mod_wsgi.application_group"] == "hs-group"
    assert e["HTTP_AUTHORIZATION"] == "Basic " + token
    e = env_of(srv.get("/hs/doc.txt", headers={"Authorization": "Basic " + token}))
    assert "HTTP_AUTHORIZATION" not in e
    if DAEMON_MODE:
        assert e["pid"] not in srv.mpm_children()


@pytest.mark.rs_only  # mod_wsgi's messages differ
def test_bad_handler_options_are_refused(srv):
    rc, out = srv.configtest(
        "WSGIHandlerScript h /h.wsgi pass-authorization=maybe\n")
    assert rc != 0 and "'pass-authorization': expected On or Off" in out, out
    rc, out = srv.configtest("WSGIHandlerScript h /h.wsgi callable-object=x\n")
    assert rc != 0 and "callable-object= is not an option of WSGIHandlerScript" in out, out


# -------------------------------------------------------- dispatch script

def test_dispatch_none_keeps_the_configuration(srv):
    e = env_of(srv.get("/dispatched"))
    assert e["callable"] == "application"
    assert e["mod_wsgi.process_group"] == srv.process_group
    assert e["mod_wsgi.application_group"] == "127.0.0.1:%d|/dispatched" % srv.port


def test_dispatch_application_group(srv):
    e = env_of(srv.get("/dispatched?ag=chosen"))
    assert e["mod_wsgi.application_group"] == "chosen"
    assert e["callable"] == "application"


@pytest.mark.parametrize("value", ["other", "bytes"])
def test_dispatch_callable_object(srv, value):
    e = env_of(srv.get("/dispatched?co=" + value))
    assert e["callable"] == "other"
    assert e["mod_wsgi.callable_object"] == "other"


def test_dispatch_process_group(srv):
    e = env_of(srv.get("/dispatched?pg=embedded"))
    assert e["mod_wsgi.process_group"] == ""
    assert e["pid"] in srv.mpm_children()
    if DAEMON_MODE:
        e = env_of(srv.get("/dispatched?pg=testgroup"))
        assert e["mod_wsgi.process_group"] == "testgroup"
        assert e["pid"] not in srv.mpm_children()


@hook_error_differs
def test_dispatch_error_is_500_and_logged(srv):
    mark = srv.log_mark()
    assert srv.get("/dispatched?pg=boom").status == 500
    srv.wait_for_log(r"process_group exploded", since=mark)
    assert "Traceback (most recent call last)" in srv.log_since(mark)
    assert srv.get("/dispatched").status == 200


# ------------------------------------------- WSGIScriptAlias to a directory

def test_directory_alias_runs_the_file_found(srv):
    e = env_of(srv.get("/dir/hooks/two.wsgi"))
    assert e["SCRIPT_FILENAME"] == srv.apps + "/hooks/two.wsgi"
    assert e["SCRIPT_NAME"] == "/dir/hooks/two.wsgi"
    assert e["PATH_INFO"] == ""
    assert e["mod_wsgi.process_group"] == srv.process_group


def test_directory_alias_path_info(srv):
    e = env_of(srv.get("/dir/hooks/two.wsgi/rest/of/it"))
    assert e["SCRIPT_FILENAME"] == srv.apps + "/hooks/two.wsgi"
    assert e["SCRIPT_NAME"] == "/dir/hooks/two.wsgi"
    assert e["PATH_INFO"] == "/rest/of/it"


def test_directory_alias_short_url(srv):
    e = env_of(srv.get("/dir/hooks/two.wsgi/x"))
    assert e["PATH_INFO"] == "/x"
    r = srv.get("/dir/environ.wsgi")
    assert r.status == 200
    assert r.json()["environ"]["SCRIPT_NAME"] == "/dir/environ.wsgi"


def test_directory_alias_errors(srv):
    mark = srv.log_mark()
    assert srv.get("/dir/").status == 403
    assert srv.get("/dir/missing.wsgi/x").status == 404
    assert not re.search(r"cannot read WSGI script", srv.log_since(mark))
