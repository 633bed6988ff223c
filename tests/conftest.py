"""Fixtures for the mod_wsgi_rs integration suite.

Run against our module (default: target/release/libmod_wsgi_rs.so):
    /usr/bin/python3 -m pytest tests -q
Run against Debian's mod_wsgi 4.9.4:
    MOD_WSGI_SO=/usr/lib/apache2/modules/mod_wsgi.so /usr/bin/python3 -m pytest tests -q
"""

import pytest

from harness import apache as harness
from harness.apache import Apache, IMPL

SKIP_REASONS = {
    "strict_pep3333": "mod_wsgi_rs is intentionally stricter than mod_wsgi here (PEP 3333)",
    "rs_only": "behaviour mod_wsgi 4.9.4 lacks or gets wrong (see the test's docstring)",
}


def pytest_report_header(config):
    return "WSGI module under test: %s (impl=%s)" % (harness.MOD_WSGI_SO, IMPL)


def pytest_collection_modifyitems(config, items):
    if IMPL != "mod_wsgi":
        return
    for item in items:
        for name, reason in SKIP_REASONS.items():
            if item.get_closest_marker(name):
                item.add_marker(pytest.mark.skip(reason=reason))


def pytest_sessionstart(session):
    # Fail loudly and early if the module has not been built.
    try:
        harness.check_module_exists()
    except harness.ApacheError as e:
        raise pytest.UsageError(str(e))


@pytest.fixture(scope="session", autouse=True)
def _apache_safety_net():
    yield
    errors = harness.stop_all()
    if errors:
        raise AssertionError("errors while stopping Apache: %r" % errors)


@pytest.fixture(scope="session")
def impl():
    return IMPL


def start_server(request, body, mpm="event", name=None, **kw):
    """Start an Apache whose stop is registered as a finalizer *before*
    start() so that a failed start still cleans up."""
    srv = Apache(body=body, mpm=mpm, name=name or request.node.name[:40]
                 .replace("/", "_").replace("[", "-").replace("]", ""), **kw)
    request.addfinalizer(srv.stop)
    srv.start()
    return srv


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
