"""Wrong things an application can do (tests/apps/wrong.wsgi), in embedded
and in daemon mode: each gives a 500 (or a cut response once output has
started, or the complete response when only close() fails), a clear log
line, no Rust panic, and the same process serves the next request.
"""

import os
import time

import pytest

from harness.apache import IMPL, parse_raw_response, recv_until_close, wait_for

pytestmark = [
    pytest.mark.skipif(os.environ.get("MOD_WSGI_TEST_MODE") == "daemon",
                       reason="covers embedded and daemon mode itself"),
    # rs_only: the log lines checked are mod_wsgi_rs's (and its strict PEP 3333
    # checks: no bytearray/memoryview blocks, no second start_response)
    pytest.mark.rs_only,
]

BODY = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess wrong processes=1 threads=16 socket-timeout=4 shutdown-timeout=1
WSGIScriptAlias /e @APPS@/wrong.wsgi
WSGIScriptAlias /d @APPS@/wrong.wsgi process-group=wrong
"""

# What the client sees: "500", "cut" (200, then the body stops short),
# "complete" (200 and the whole body), or a per-mode dict.
# Then a regular expression the error log must match (None: no need).
CASES = {
    "none": ("500", r"not iterable"),
    "str": ("500", r"yielded str instead of bytes"),
    "int": ("500", r"not iterable"),
    "list_of_str": ("500", r"yielded str instead of bytes"),
    "list_bytes_then_str": ("cut", r"yielded str instead of bytes"),
    "list_of_int": ("500", r"yielded int instead of bytes"),
    "yield_none": ("500", r"yielded NoneType instead of bytes"),
    "dict": ("500", r"yielded str instead of bytes"),
    "gen_raises_first": ("500", r"RuntimeError: gen-failed-before-first-yield"),
    "gen_raises_after": ("cut", r"RuntimeError: gen-failed-after-first-yield"),
    "gen_start_response_late_raises": ("500", r"RuntimeError: gen-failed-after-start-response"),
    "gen_close_raises": ("complete", r"RuntimeError: gen-finally-failed"),
    "close_raises": ("complete", r"RuntimeError: close-failed-close_raises"),
    "iter_raises": ("500", r"RuntimeError: iter-failed"),
    "no_start_response": ("500", r"before calling start_response"),
    "no_start_response_empty": ("500", r"start_response"),
    "exc_info_not_tuple": ("500", None),      # the app's own "500 Oops"
    "exc_info_wrong_tuple": ("500", None),
    "exc_info_none_triple": ("500", None),
    "exc_info_bad_after_output": ("cut", r"'exc_info' must be a 3-tuple or None"),
    "start_response_twice": ("500", r"more than once without exc_info"),
    "start_response_bad_args": ("500", r"TypeError"),
    "filewrapper_closed": ("500", r"closed file"),
    "filewrapper_str": ("500", r"yielded str instead of bytes"),
    "filewrapper_not_file": ("500", r"has no attribute 'read'"),
    "yield_bytearray": ("500", r"yielded bytearray instead of bytes"),
    "yield_memoryview": ("500", r"yielded memoryview instead of bytes"),
    "lying_len": ("complete", None),
    "raise_system_exit": ("500", r"SystemExit"),
    "raise_keyboard_interrupt": ("500", r"KeyboardInterrupt"),
    "raise_base_exception": ("500", r"Weird: not an Exception subclass"),
    "recursion": ("500", r"RecursionError"),
    "exception_str_fails": ("500", r"BadStr"),
    "huge_header_count": ({"e": "complete", "d": "500"},
                          {"e": None, "d": r"over header-buffer-size"}),
    "huge_header_value": ({"e": "complete", "d": "500"},
                          {"e": None, "d": r"over header-buffer-size"}),
    "huge_status": ({"e": "complete", "d": "500"},
                    {"e": None, "d": r"over header-buffer-size"}),
    "write_then_return_str": ("cut", r"yielded str instead of bytes"),
    "write_str": ("500", r"TypeError"),
    "headers_mutated_after": ("complete", None),
    "status_subclass": ("complete", None),
    "close_wsgi_input": ("complete", None),
    "errors_unflushed": ("complete", r"unflushed-errors-text"),
    "stdout_flood": ("complete", r"flood line 1999"),
}

BODIES = {
    "gen_close_raises": b"complete-body",
    "close_raises": b"complete-body",
    "lying_len": b"first;second",
}

# Daemon mode: what the daemon logs after it sent END (close() failures,
# the last unflushed wsgi.errors text) used to be lost now and then.
LOST_LOGS = {"gen_close_raises", "close_raises", "errors_unflushed"}


def params():
    return [pytest.param(mode, case, id="%s-%s" % (mode, case))
            for mode in ("e", "d") for case in CASES]


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="wrongapps")


def is_cut(headers, body):
    if "chunked" in ",".join(headers.get("transfer-encoding", [])):
        return not body.endswith(b"0\r\n\r\n")
    if "content-length" in headers:
        return len(body) < int(headers["content-length"][0])
    return False


def fetch(srv, path, timeout=15):
    s = srv.open_socket(timeout=timeout)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   % path).encode())
        return recv_until_close(s)
    finally:
        s.close()


def ok_pid(srv, mode):
    r = srv.get("/%s?ok" % mode, timeout=10)
    assert r.status == 200, (r, srv.error_log_tail(30))
    return r.text.split()[1]


@pytest.mark.parametrize("mode,case", params())
def test_wrong_app_behaviour(srv, mode, case):
    expect, log_rx = CASES[case]
    if isinstance(expect, dict):
        expect = expect[mode]
    if isinstance(log_rx, dict):
        log_rx = log_rx[mode]
    pid = ok_pid(srv, mode)
    mark = srv.log_mark()
    raw = fetch(srv, "/%s?%s" % (mode, case))
    status, headers, body = parse_raw_response(raw)
    if expect == "500":
        assert status.startswith("HTTP/1.1 500"), (status, raw[:300])
    elif expect == "cut":
        assert status.startswith("HTTP/1.1 200"), (status, raw[:300])
        assert is_cut(headers, body), raw[:500]
    else:
        assert status.startswith("HTTP/1.1 200"), (status, raw[:300])
        assert not is_cut(headers, body), raw[:500]
        if case in BODIES:
            data = body
            if "chunked" in ",".join(headers.get("transfer-encoding", [])):
                from harness.apache import dechunk
                data = dechunk(body)
            assert data == BODIES[case]
    assert b"X-Injected" not in raw
    if log_rx:
        srv.wait_for_log(log_rx, since=mark, timeout=2 if case in LOST_LOGS else 5)
    # the same process serves the next request
    assert ok_pid(srv, mode) == pid
    log = srv.log_since(mark)
    assert "panicked" not in log and "internal error" not in log, log[-3000:]


def test_late_calls_on_a_finished_request_are_harmless(srv):
    """write(), start_response and wsgi.input kept by an app and called from
    a thread after the response is over (and from the next request) neither
    crash nor send anything into another response."""
    for mode in ("e", "d"):
        mark = srv.log_mark()
        r = srv.get("/%s?write_after_return" % mode)
        assert r.status == 200 and r.body == b"hello"
        late = wait_for(lambda: [ln for ln in open(os.path.join(srv.state, "events.log"))
                                 .read().split("case write_after_return")[-1].splitlines()
                                 if ln.startswith("late ")], timeout=5,
                        what="the late calls")
        # Each late call fails loudly instead of being silently dropped.
        assert "write:RuntimeError" in late[0], late
        assert "start_response:RuntimeError" in late[0], late
        assert "input:OSError" in late[0], late
        r = srv.get("/%s?use_saved" % mode)
        assert r.status == 200
        assert int(r.header("Content-Length")) == len(r.body)
        assert b"from an old request" not in r.body
        assert "start_response:RuntimeError" in r.text, r.text
        assert ok_pid(srv, mode)
        log = srv.log_since(mark)
        assert "panicked" not in log and "internal error" not in log


DAEMON_ONE_THREAD = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess one processes=1 threads=1 socket-timeout=3 shutdown-timeout=1
WSGIScriptAlias /d @APPS@/wrong.wsgi process-group=one
"""


def test_daemon_thread_survives_every_wrong_case(fresh_server):
    """threads=1: after each wrong case the single daemon thread must still
    serve (a panic or exception escaping a worker thread would leave a
    daemon that accepts connections but never answers: 504 for ever; found
    with no_start_response: a double borrow panicked in runner::fail)."""
    srv = fresh_server(DAEMON_ONE_THREAD, name="onethread")
    pid = ok_pid(srv, "d")
    for case in ("no_start_response", "huge_header_count", "str", "gen_raises_after"):
        fetch(srv, "/d?" + case)
        r = srv.get("/d?ok", timeout=10)
        assert r.status == 200, (case, r, srv.error_log_tail(20))
        assert r.text.split()[1] == pid


@pytest.mark.parametrize("mode", ["e", "d"])
def test_slow_close_does_not_delay_the_response(srv, mode):
    """The iterable's close() takes 2 s after a complete response (Content-
    Length: 8): the client has the whole response at once, not after
    close() returns."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        t0 = time.monotonic()
        conn.request("GET", "/%s?slow_close" % mode)
        r = conn.getresponse()
        body = r.read()
        took = time.monotonic() - t0
    finally:
        conn.close()
    assert body == b"complete"
    assert took < 1.0, "the response took %.2f s" % took
    wait_for(lambda: "closed slow_close" in open(os.path.join(srv.state, "events.log")).read(),
             timeout=5, what="close() to finish")
