"""Fixtures for the mod_wsgi_rs integration suite.

Run against our module (default: target/release/libmod_wsgi_rs.so):
    /usr/bin/python3 -m pytest tests -q
Run against Debian's mod_wsgi 4.9.4:
    MOD_WSGI_SO=/usr/lib/apache2/modules/mod_wsgi.so /usr/bin/python3 -m pytest tests -q
Run against mod_wsgi 6.1.1 (made by scripts/reference-mod_wsgi):
    MOD_WSGI_SO=mod_wsgi-6.1.1 /usr/bin/python3 -m pytest tests -q
Run every test in daemon mode (see harness/apache.py, TEST_MODE):
    MOD_WSGI_TEST_MODE=daemon /usr/bin/python3 -m pytest tests -q
"""

import os
import shutil

import pytest

from harness import apache as harness
from harness import markers
from harness.apache import IMPL, TEST_MODE, start_server


def pytest_report_header(config):
    version = harness.MOD_WSGI_VERSION
    return "WSGI module under test: %s (impl=%s%s, mode=%s%s)" % (
        harness.MOD_WSGI_SO, IMPL,
        ", mod_wsgi %d.%d" % version if version else "", TEST_MODE,
        ", WSGIPythonHome %s" % harness.PYTHON_HOME if harness.PYTHON_HOME else "")


def pytest_collection_modifyitems(config, items):
    # Against a reference mod_wsgi, the marked tests are skipped and its known
    # differences are xfail (rules, RUN_MARKED_AGAINST_MOD_WSGI=1 and the
    # list in harness/markers.py).
    for item in items:
        if not _is_ours(item):
            continue
        reason = markers.skip_reason(item)
        if reason:
            item.add_marker(pytest.mark.skip(reason=reason))
            continue
        known = markers.known_difference(item)
        if known:
            item.add_marker(pytest.mark.xfail(reason=known, strict=False))


HERE = os.path.dirname(os.path.abspath(__file__))


def _is_ours(item):
    # tests/docker/ has its own suite (run in containers): leave it alone
    return os.path.dirname(os.path.abspath(str(item.fspath))) == HERE


def pytest_collection_finish(session):
    # Fail loudly and early if the module has not been built.
    if any(_is_ours(i) for i in session.items):
        try:
            harness.check_module_exists()
        except harness.ApacheError as e:
            pytest.exit(str(e), returncode=4)


@pytest.fixture(scope="session", autouse=True)
def _apache_safety_net():
    yield
    errors = harness.stop_all()
    if errors:
        raise AssertionError("errors while stopping Apache: %r" % errors)


def pytest_sessionfinish(session, exitstatus):
    root = harness.SESSION_ROOT
    if root and exitstatus == 0 and not os.environ.get("KEEP_TEST_DIRS"):
        shutil.rmtree(root, ignore_errors=True)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    root = harness.SESSION_ROOT
    if root and os.path.isdir(root):
        terminalreporter.write_line(
            "Apache server roots (configs, error logs) kept in %s" % root)


@pytest.fixture(scope="session")
def impl():
    return IMPL


@pytest.fixture(scope="module")
def server_factory(request):
    """Module-scoped: ``server_factory(body, mpm='event')`` -> started Apache,
    stopped at the end of the test module."""
    def factory(body, mpm="event", name=None, **kw):
        return start_server(request, body, mpm=mpm, name=name, **kw)
    return factory


@pytest.fixture
def fresh_server(request):
    """Function-scoped variant, for tests that need their own Apache."""
    def factory(body, mpm="event", name=None, **kw):
        return start_server(request, body, mpm=mpm, name=name, **kw)
    return factory
