"""An application that closes file descriptors 0-2 must not leak bytes into
client responses (hardening issue #18).

A freed descriptor number is the lowest one free, so the next socket the
process accepts takes it: in an Apache child, a client's connection; in a
daemon, an Apache child's connection. Whatever the application (or C code)
then writes to "stderr" would reach that peer. The module keeps 0-2 open:
os.close / os.closerange on them re-point them (0 at /dev/null, 1 and 2 at
the error log), and after each request one poll() finds descriptors closed
behind Python's back (libc close through ctypes) and reopens them.

Runs in the suite's mode (MOD_WSGI_TEST_MODE): embedded in an Apache child,
or in a one-process daemon group (so every request meets the process that
closed its descriptors).
"""

import json
import re
import threading

import pytest

from harness.apache import (DAEMON_MODE, dechunk, parse_raw_response, recv_until,
                            recv_until_close)

pytestmark = [
    # rs_only: mod_wsgi 4.9.4 leaks (the process frees the numbers)
    pytest.mark.rs_only,
]

MARKER = b"STDIO-LEAK-MARKER"


def body():
    aliases = "WSGIScriptAlias /s @APPS@/stdio.wsgi\n"
    if DAEMON_MODE:
        return ("WSGISocketPrefix @SOCKETS@/wsgi\n"
                "WSGIDaemonProcess stdio processes=1 threads=4\n"
                "WSGIProcessGroup stdio\n" + aliases)
    return aliases


def fetch(srv, path):
    """One request on a new connection: the raw bytes received."""
    s = srv.open_socket(timeout=15)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   % path).encode())
        return recv_until_close(s)
    finally:
        s.close()


def check_response(raw):
    """The bytes are exactly one well-formed 200 response from the app."""
    assert MARKER not in raw, "the application's stderr reached a client: %r" % raw[:300]
    assert raw.startswith(b"HTTP/1.1 200 "), raw[:300]
    _, headers, data = parse_raw_response(raw)
    assert len(data) == int(headers["content-length"][0]), raw[:300]
    return json.loads(data)


def hammer(srv, rounds=6, width=8):
    """rounds x width requests to /write, each on its own connection, width
    at a time (so the process accepts several connections at once)."""
    answers, errors = [], []

    def one(n):
        try:
            answers.append(fetch(srv, "/s/write?n%d" % n))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    n = 0
    for _ in range(rounds):
        threads = []
        for _ in range(width):
            t = threading.Thread(target=one, args=(n,))
            n += 1
            t.start()
            threads.append(t)
        for t in threads:
            t.join(30)
    assert not errors, errors
    assert len(answers) == rounds * width
    return [check_response(raw) for raw in answers]


@pytest.mark.parametrize("how", ["close", "closerange", "cclose"])
def test_closed_standard_fds_never_reach_clients(fresh_server, how):
    srv = fresh_server(body(), name="stdio-" + how)
    before = check_response(fetch(srv, "/s/fds"))
    fds = before["fds"]
    assert "closed" not in fds.values(), fds
    mark = srv.log_mark()

    first = check_response(fetch(srv, "/s/" + how))
    assert first["pid"] == before["pid"]
    # Many requests on new connections: none gets a byte of the marker, and
    # every answer is one well-formed response.
    answers = hammer(srv)
    for answer in answers:
        assert answer["pid"] == before["pid"]
    if how != "cclose":
        # os.close / os.closerange never free the numbers: 2 points where it
        # did (the error log), 1 too after closerange, 0 at /dev/null.
        assert first["after"]["2"] == fds["2"], first
        assert first["write"] == "written", first
        if how == "closerange":
            assert first["after"]["0"] == "/dev/null", first
            assert first["after"]["1"] == fds["2"], first
    for answer in answers:
        assert answer["write"] == "written", answer
        assert answer["fds"]["2"] == fds["2"], answer

    # What the application wrote to fd 2 went to the error log.
    srv.wait_for_log(r"STDIO-LEAK-MARKER n\d+", since=mark)
    # One line says which descriptor the application closed, once.
    what = {"close": r"os\.close\(2\)", "closerange": r"os\.closerange\(0, 3\)",
            "cclose": r"closed file descriptor 2"}[how]
    srv.wait_for_log(what, since=mark)
    log = srv.log_since(mark)
    assert len(re.findall(r"file descriptor \d \(std\w+\) (?:was kept open|.*reopened)", log)) == (
        1 if how != "closerange" else 3), log


def test_connections_accepted_while_a_standard_fd_is_closed_are_moved_off_it(fresh_server):
    """A request closes fd 2 with libc close and keeps running, so the
    after-request check cannot reopen it yet: a connection the process
    accepts meanwhile (in an Apache child, a client's; in a daemon, an
    Apache child's) takes the lowest free number, 2, and is moved to one of
    3 or above, 2 pointing at the error log again. Nothing the application
    writes to fd 2 reaches a peer."""
    srv = fresh_server(body(), name="stdio-held")
    before = check_response(fetch(srv, "/s/fds"))
    errlog = before["fds"]["2"]
    mark = srv.log_mark()
    holder = srv.open_socket(timeout=40)
    try:
        holder.sendall(b"GET /s/cclose-hold HTTP/1.1\r\nHost: x\r\n"
                       b"Connection: close\r\n\r\n")
        # The application sends "closed" once fd 2 is closed (seen through
        # the response: another request would reopen it at its end).
        head = recv_until(holder, b"closed\n", timeout=15)
        try:
            answers = hammer(srv)
        finally:
            fetch(srv, "/s/release")
        raw = head + recv_until_close(holder)
    finally:
        holder.close()
    status, headers, data = parse_raw_response(raw)
    assert status.startswith("HTTP/1.1 200 "), raw[:300]
    held = json.loads(dechunk(data).split(b"\n", 1)[1])
    assert held["released"] is True and held["pid"] == before["pid"], held
    # hammer() checked that every answer is a well-formed 200 without the
    # marker. fd 2 was never a connection: the error log (a connection took
    # the number and was moved, or a request's end reopened it), or still
    # closed for a request on a connection accepted earlier.
    assert any(a["fds"]["2"] == errlog for a in answers), answers
    for answer in answers:
        assert answer["pid"] == before["pid"]
        assert answer["fds"]["2"] in (errlog, "closed"), answer
        assert answer["write"] == ("written" if answer["fds"]["2"] == errlog
                                   else "error 9"), answer
    srv.wait_for_log(r"STDIO-LEAK-MARKER n\d+", since=mark)
    srv.wait_for_log(r"closed file descriptor 2", since=mark)


def test_standard_fds_open_at_start(server_factory):
    """0 is /dev/null or another open file, 2 the error log, in the process
    that runs the application."""
    srv = server_factory(body(), name="stdio-start")
    fds = check_response(fetch(srv, "/s/fds"))["fds"]
    assert "closed" not in fds.values(), fds
    assert fds["2"] == srv.errlog, fds
    # and not a socket: nothing written there can reach a peer
    assert not any(v.startswith("socket:") for v in fds.values()), fds
