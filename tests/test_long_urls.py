"""Long URLs under a WSGIScriptAlias (hardening issue #18).

A 7 KB path is within Apache's request-line limit (8190 bytes), but the
script's path followed by the rest of the URL is over PATH_MAX (4096), and
Apache's directory walk refuses such an r->filename ("Module bug? Request
filename path ... is invalid"), skips its <Directory>/<Files> sections and
leaves the script unfound: the client got a misleading 404. The rest of the
URL is PATH_INFO, not a file: the script is served with it. Where the alias
maps to a directory of scripts (the script is the first part of the rest,
to be found by the walk), the answer is 414 with a log line saying why.

Runs in the suite's mode (MOD_WSGI_TEST_MODE).
"""

import json
import re

import pytest

from harness.apache import DAEMON_MODE

pytestmark = [
    # rs_only: mod_wsgi 4.9.4 answers 404 (its translate_name builds the
    # same over-long r->filename)
    pytest.mark.rs_only,
]

BODY = r"""
WSGIScriptAlias /app @APPS@/environ.wsgi
WSGIScriptAliasMatch ^/re/(environ) @APPS@/$1.wsgi
WSGIScriptAlias /denied @APPS@/hello.wsgi
WSGIScriptAlias /dir/ @APPS@/
<Files "hello.wsgi">
    Require all denied
</Files>
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="longurl")


def segments(n):
    """A path of n bytes: "/" and 9-letter segments."""
    s = ("/" + "abcdefghi") * (n // 10 + 1)
    return s[:n]


def environ_of(r):
    assert r.status == 200, (r.status, r.body[:300])
    return json.loads(r.body)["environ"]


@pytest.mark.parametrize("rest", [
    pytest.param(segments(7000), id="7000-bytes-of-segments"),
    pytest.param("/" + "x" * 7000, id="one-7000-byte-segment"),
    pytest.param(segments(3000), id="3000-bytes"),
])
def test_long_path_info_is_served(srv, rest):
    env = environ_of(srv.get("/app" + rest))
    assert env["SCRIPT_NAME"] == "/app"
    assert env["PATH_INFO"] == rest
    assert env["SCRIPT_FILENAME"] == srv.apps + "/environ.wsgi"
    if DAEMON_MODE:
        assert env["mod_wsgi.process_group"] == "testgroup"


def test_around_path_max(srv):
    """Every length of script path + rest from 4080 to 4110 bytes."""
    script = srv.apps + "/environ.wsgi"
    for total in range(4080, 4111):
        rest = "/" + "y" * (total - len(script) - 1)
        env = environ_of(srv.get("/app" + rest))
        assert env["PATH_INFO"] == rest, total


def test_long_path_under_alias_match(srv):
    rest = segments(7000)
    env = environ_of(srv.get("/re/environ" + rest))
    assert env["SCRIPT_NAME"] == "/re/environ"
    assert env["PATH_INFO"] == rest


def test_long_path_keeps_access_control(srv):
    """<Files> sections still apply to the script: a denied script stays
    denied with a long URL (the refused directory walk used to skip them)."""
    assert srv.get("/denied/x").status == 403
    assert srv.get("/denied" + segments(7000)).status == 403


def test_long_path_under_directory_alias_is_414(srv):
    """An alias to a directory: the script is found by Apache's walk of
    r->filename, which cannot be done over PATH_MAX."""
    mark = srv.log_mark()
    r = srv.get("/dir/environ.wsgi" + segments(7000))
    assert r.status == 414, (r.status, r.body[:300])
    m = srv.wait_for_log(r"\[wsgi:error\].*URL too long.*", since=mark)
    line = m.group(0)
    assert "PATH_MAX" in line and srv.apps in line, line
    assert len(line) < 1000, "the log line must not carry the whole URL"
    assert not re.search(r"script not found", srv.log_since(mark))
