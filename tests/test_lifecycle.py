"""Starting, stopping and restarting Apache with the module loaded; the
harness itself."""

import os
import time
import uuid

import pytest

from harness import apache as harness
from harness.apache import (Apache, ApacheError, processes_mentioning,
                            recv_until, recv_until_close)

SUBINTERPRETERS = r"""
WSGIScriptAlias /a @APPS@/hello.wsgi
WSGIScriptAlias /b @APPS@/environ.wsgi
WSGIScriptAlias /slow @APPS@/slow.wsgi
WSGIScriptAlias /g @APPS@/hello.wsgi application-group=%{GLOBAL}
WSGIScriptAlias /stream @APPS@/stream.wsgi
"""


def test_missing_module_gives_build_hint():
    with pytest.raises(ApacheError) as ei:
        Apache(so="/nonexistent/target/release/libmod_wsgi_rs.so")
    assert "cargo build --release" in str(ei.value)


def test_failed_start_reports_configtest_output():
    srv = Apache(body="WSGIPassAuthorization maybe", name="badstart")
    try:
        with pytest.raises(ApacheError) as ei:
            srv.start()
    finally:
        srv.stop()
    msg = str(ei.value)
    assert "apache2 -t output" in msg
    assert "WSGIPassAuthorization" in msg
    assert not processes_mentioning(srv.root)


@pytest.mark.parametrize("mpm", ["event", "worker", "prefork"])
def test_stop_leaves_no_process(fresh_server, mpm):
    srv = fresh_server(SUBINTERPRETERS, mpm=mpm)
    assert srv.get("/a").status == 200
    pid = srv.pid
    srv.stop()  # raises if anything mentioning the server root is left
    assert not harness.pid_alive(pid)
    assert not processes_mentioning(srv.root)


@pytest.mark.parametrize("mpm", [
    pytest.param("event", marks=pytest.mark.rs_only),
    pytest.param("worker", marks=pytest.mark.rs_only),
    "prefork",
])
def test_children_exit_cleanly_after_using_subinterpreters(fresh_server, mpm):
    """On SIGTERM, children must exit by themselves, promptly. Debian's
    mod_wsgi 4.9.4 with Python 3.11 under threaded MPMs deadlocks in
    Py_EndInterpreter() (threading._shutdown) once a sub-interpreter has
    served a request; Apache SIGKILLs the child after ~10 s."""
    srv = fresh_server(SUBINTERPRETERS, mpm=mpm)
    for path in ("/a", "/b", "/g", "/a"):
        assert srv.get(path).status == 200
    srv.stop()
    assert srv.unclean_shutdown == []
    assert srv.stop_seconds < 5
    assert "still did not exit" not in srv.error_log()


@pytest.mark.parametrize("mpm", ["event", "prefork"])
def test_graceful_restart(fresh_server, mpm):
    srv = fresh_server(SUBINTERPRETERS, mpm=mpm)
    r = srv.get("/a")
    assert r.status == 200
    old_pid = r.header("X-Pid")
    # a request in flight during the restart must complete: the app has sent
    # its first block and waits for the release file
    tok = uuid.uuid4().hex[:12]
    s = srv.open_socket(timeout=15)
    try:
        s.sendall(b"GET /stream?mode=release&token=" + tok.encode() +
                  b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        first = recv_until(s, ("first-block %s\n" % tok).encode(), timeout=5)
        srv.graceful()
        open(os.path.join(srv.state, "release-" + tok), "w").close()
        rest = recv_until_close(s)
    finally:
        s.close()
    assert (first + rest).startswith(b"HTTP/1.1 200")
    assert b"second-block released" in first + rest
    # the new generation serves requests
    deadline = time.monotonic() + 10
    while True:
        r = srv.get("/a")
        assert r.status == 200
        if mpm == "prefork" or r.header("X-Pid") != old_pid:
            break
        assert time.monotonic() < deadline, "old child still serving"
        time.sleep(0.05)
    assert srv.get("/b").status == 200
