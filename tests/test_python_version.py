"""The Python that serves is the one the module was built for.

scripts/test-pythons builds the module for each CPython it finds and sets
MOD_WSGI_TEST_EXPECT_PYTHON ("3.12"); without it (the ordinary runs, whose
module is built for whatever PYO3_PYTHON was) there is nothing to compare.
"""

import os

import pytest

EXPECT = os.environ.get("MOD_WSGI_TEST_EXPECT_PYTHON")

BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess pyver processes=1 threads=2
WSGIScriptAlias /embedded @APPS@/pyinfo.wsgi
WSGIScriptAlias /daemon @APPS@/pyinfo.wsgi process-group=pyver application-group=%{GLOBAL}
"""

pytestmark = pytest.mark.skipif(
    not EXPECT, reason="MOD_WSGI_TEST_EXPECT_PYTHON is not set (scripts/test-pythons sets it)"
)


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="pyver")


@pytest.mark.parametrize("path", ["/embedded", "/daemon"])
def test_served_by_the_expected_python(srv, path):
    r = srv.get(path)
    assert r.status == 200, r.body
    info = r.json()
    assert "%d.%d" % tuple(info["version"][:2]) == EXPECT
    # Its standard library, not the system Python's.
    assert not any(p.startswith("/usr/lib/python3") for p in info["sys_path"]), info["sys_path"]


MISMATCH_BODY = r"""
WSGIPythonHome /usr
WSGIScriptAlias /embedded @APPS@/pyinfo.wsgi
"""


def test_the_system_prefix_of_another_python_is_one_log_line(server_factory):
    system = "/usr/lib/python%s/encodings"
    if os.path.isdir(system % EXPECT):
        pytest.skip("the system's Python is %s, the module's too" % EXPECT)
    srv = server_factory(MISMATCH_BODY, name="pyver-mismatch")
    # 500 in embedded mode; 503 from a daemon that could not start Python.
    assert srv.get("/embedded").status in (500, 503)
    line = srv.wait_for_log(r"^.*is the prefix of Python 3\..*$").group(0)
    assert ("python-home '/usr' is the prefix of Python 3." in line
            and "but mod_wsgi_rs is built for Python %s" % EXPECT in line), line
