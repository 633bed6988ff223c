"""Fixtures for the tests of the ``mod-wsgi-rs`` command (tests/cli).

They run the real program (default target/release/mod-wsgi-rs, or
$MOD_WSGI_RS_BIN) against the real module (default
target/release/libmod_wsgi_rs.so, or $MOD_WSGI_SO) and Debian's Apache:

    scripts/build                    # the module and the command
    /usr/bin/python3 -m pytest tests/cli -q

Tests marked ``needs_daemon`` exercise daemon mode (the default of
start-server).

Every server a test starts is stopped by a finalizer, even when the test
fails: the mod-wsgi-rs process is terminated, then Apache is killed through
its pid file, then anything still running from the server root.
"""

import os
import shutil

import pytest

from cli_helpers import BIN, SO, Server, make_dir, write


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "needs_daemon: exercises daemon mode in the module")


@pytest.fixture(scope="session")
def cli_bin():
    if not os.path.isfile(BIN):
        pytest.fail("mod-wsgi-rs not found at %s: build it with `cargo build --release "
                    "-p mod-wsgi-rs-cli` (or scripts/build), or set MOD_WSGI_RS_BIN" % BIN)
    if not os.path.isfile(SO):
        pytest.fail("the module is not built (%s): run scripts/build, or set MOD_WSGI_SO" % SO)
    return BIN


@pytest.fixture
def workdir(request):
    d = make_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(request, cli_bin, workdir):
    """``server(*args, env=None, cwd=None)`` -> a started Server (ready to
    answer); stopped at the end of the test whatever happens."""
    servers = []

    def start(*args, **kw):
        s = Server(workdir, len(servers))
        servers.append(s)
        return s.start(*args, **kw)

    yield start
    for s in servers:
        s.cleanup()


@pytest.fixture
def static_dir(workdir):
    d = os.path.join(workdir, "static")
    write(os.path.join(d, "hello.txt"), "static hello\n")
    write(os.path.join(d, "sub", "deep.css"), "body { color: red }\n")
    os.chmod(d, 0o755)
    os.chmod(os.path.join(d, "sub"), 0o755)
    return d
