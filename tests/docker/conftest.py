"""Fixtures of the dockerized integration suite (docker/compose.yml).

These tests run in the `tests` container and talk over the compose network
to the `apache` container (the mod_wsgi_rs image with
docker/test-apache/site.conf):

    WSGI_RS_EMBEDDED_URL   http://apache:8080  test apps, embedded mode
    WSGI_RS_DAEMON_URL     http://apache:8081  the same apps, daemon mode
    WSGI_RS_EXAMPLE_URL    http://apache:80    the image's example site
    WSGI_RS_APACHE_ERROR_LOG  Apache's error log (a shared volume)

Run them with docker/run-tests.sh. Outside that environment (e.g. when the
host suite collects tests/) every test here is skipped.

Daemon mode: when the module answers daemon-mode requests with 503 and
logs that it "does not serve yet", the daemon-mode variants are skipped
with that reason, and run as soon as the module serves them.
"""

import time

import pytest

from dockerized_client import (DAEMON_URL, EMBEDDED_URL, EXAMPLE_URL, NOT_YET,
                           READY_TIMEOUT, Server, error_log_text, wait_for_log)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's report ends with the last lines of Apache's error log."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and EMBEDDED_URL and "tests/docker" in str(getattr(item, "path", None) or item.fspath):
        tail = error_log_text().splitlines()[-15:]
        if tail:
            rep.sections.append(("Apache error log (last 15 lines)", "\n".join(tail)))


def _wait_ready(server):
    """Polls until Apache answers on the server's port (any status)."""
    deadline = time.monotonic() + READY_TIMEOUT
    last = None
    while time.monotonic() < deadline:
        try:
            return server.get("/env", timeout=5)
        except OSError as e:
            last = e
            time.sleep(0.2)
    pytest.fail("Apache did not answer on %s within %.0fs: %r"
                % (server.base_url, READY_TIMEOUT, last))


def _require_docker():
    if not EMBEDDED_URL:
        pytest.skip("dockerized suite (WSGI_RS_EMBEDDED_URL unset): "
                    "run it with docker/run-tests.sh")


@pytest.fixture(autouse=True)
def _only_in_docker():
    _require_docker()


@pytest.fixture(scope="session")
def embedded():
    _require_docker()
    srv = Server(EMBEDDED_URL, "embedded")
    r = _wait_ready(srv)
    assert r.status == 200, "embedded mode does not serve /env: %r" % (r,)
    return srv


@pytest.fixture(scope="session")
def daemon():
    """The daemon-mode virtual host, or a skip while the module answers
    daemon-mode requests with 503 'does not serve yet'."""
    _require_docker()
    srv = Server(DAEMON_URL, "daemon")
    deadline = time.monotonic() + 30
    while True:
        r = _wait_ready(srv)
        if r.status != 503:
            break
        log = wait_for_log(NOT_YET, timeout=2.0)
        if NOT_YET in log or NOT_YET in r.text:
            line = next((l for l in log.splitlines() if NOT_YET in l), NOT_YET)
            pytest.skip("daemon mode not served yet by this build: 503, log says: %s"
                        % line.split("] ")[-1].split(":")[0].strip())
        # A daemon that is still starting may answer 503 for a moment.
        if time.monotonic() > deadline:
            pytest.fail("daemon mode answers 503 (not 'does not serve yet'):\n%s"
                        % "\n".join(log.splitlines()[-20:]))
        time.sleep(0.5)
    assert r.status == 200, "daemon mode does not serve /env: %r" % (r,)
    return srv


@pytest.fixture(params=["embedded", "daemon"])
def server(request):
    """Each test using it runs once per mode."""
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def example():
    _require_docker()
    if not EXAMPLE_URL:
        pytest.skip("WSGI_RS_EXAMPLE_URL not set")
    return Server(EXAMPLE_URL, "example")
