"""Responses: status/header validation, start_response protocol, write(),
Content-Length, HEAD, streaming, close(), errors and logging."""

import os
import re
import socket
import time
import uuid

import pytest

from harness.apache import (dechunk, parse_raw_response, recv_until,
                            recv_until_close, wait_for)

BODY = r"""
WSGIScriptAlias /bad @APPS@/bad_response.wsgi
WSGIScriptAlias /sr @APPS@/start_response.wsgi
WSGIScriptAlias /method @APPS@/method.wsgi
WSGIScriptAlias /stream @APPS@/stream.wsgi
WSGIScriptAlias /app-error @APPS@/app_error.wsgi
WSGIScriptAlias /import-error @APPS@/import_error.wsgi
WSGIScriptAlias /missing @APPS@/no-such-script.wsgi
WSGIScriptAlias /output @APPS@/output.wsgi
WSGIScriptAlias /hello @APPS@/hello.wsgi
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    s = server_factory(BODY, name="response")
    s.first_pid = s.get("/hello").header("X-Pid")
    if s.daemon_mode:
        s.first_daemons = s.settled_daemon_processes(minimum=2)
    return s


def token():
    return uuid.uuid4().hex[:12]


def raw_get(srv, path, method=b"GET", version=b"HTTP/1.1", timeout=10):
    """One request on its own connection; returns (status line, headers,
    body, client port). The body is everything up to the server's close,
    de-chunked (tolerating truncation) when the response is chunked."""
    s = srv.open_socket(timeout=timeout)
    try:
        port = s.getsockname()[1]
        s.sendall(method + b" " + path.encode() + b" " + version +
                  b"\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    if headers.get("transfer-encoding") == ["chunked"]:
        body = dechunk(body, strict=False)
    return status, headers, body, port


def events(srv):
    try:
        with open(os.path.join(srv.state, "events.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def wait_event(srv, line, timeout=5):
    return wait_for(lambda: line in events(srv), timeout=timeout,
                    what="%r in events.log (have %r)" % (line, events(srv)[-10:]))


def client_rx(port):
    return r"\[client 127\.0\.0\.1:%d\]" % port


# ------------------------------------------------- status/header checks

INVALID = ["crlf_value", "lf_value", "cr_value", "crlf_name",
           "non_latin1_value", "name_with_space", "value_not_str",
           "value_bytes", "name_not_str", "headers_not_list",
           "headers_not_tuples", "headers_tuple_of_three", "status_no_reason",
           "status_not_str", "status_bytes", "status_bad_code",
           "status_short_code", "status_crlf", "name_with_colon"]


def error_line_rx(port):
    # logged by the module (or, for a few cases, by Apache's own header
    # check, e.g. "[http:error] AH02429: Response header name ... contains
    # invalid characters"), with the request's client address
    return r"\[[a-z_]+:error\].*" + client_rx(port)


@pytest.mark.parametrize("case", INVALID)
def test_invalid_status_or_headers_give_500(srv, case):
    mark = srv.log_mark()
    status, headers, body, port = raw_get(srv, "/bad?" + case)
    assert status.startswith("HTTP/1.1 500"), (status, body[:200])
    assert "x-injected" not in headers
    assert "x-test" not in headers
    assert b"body-of-" not in body
    srv.wait_for_log(error_line_rx(port), since=mark)


def test_valid_response_for_comparison(srv):
    status, headers, body, _ = raw_get(srv, "/bad?ok")
    assert status.startswith("HTTP/1.1 200")
    assert body == b"body-of-ok"


def test_crlf_injection_never_reaches_client(srv):
    for case in ("crlf_value", "lf_value", "cr_value", "crlf_name", "status_crlf"):
        s = srv.open_socket()
        try:
            s.sendall(b"GET /bad?" + case.encode() +
                      b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            data = recv_until_close(s)
        finally:
            s.close()
        assert b"X-Injected" not in data, (case, data[:400])


# --------------------------------------------------- start_response

@pytest.mark.strict_pep3333
def test_start_response_twice_without_exc_info_is_an_error(srv):
    """PEP 3333: calling start_response a second time without exc_info is a
    fatal error. mod_wsgi 4.9.4 lets the second call win (201 Created)."""
    mark = srv.log_mark()
    status, headers, body, port = raw_get(srv, "/sr?twice")
    assert status.startswith("HTTP/1.1 500"), status
    assert "x-second" not in headers and "x-first" not in headers
    srv.wait_for_log(error_line_rx(port), since=mark)


def test_exc_info_before_output_replaces_headers(srv):
    status, headers, body, _ = raw_get(srv, "/sr?exc_info_before_output")
    assert status.startswith("HTTP/1.1 500"), status
    assert headers.get("x-second") == ["1"]
    assert "x-first" not in headers
    assert body == b"replaced"


def test_exc_info_after_output_reraises(srv):
    mark = srv.log_mark()
    status, headers, body, port = raw_get(srv, "/sr?exc_info_after_output")
    # headers were already sent: the status cannot change any more
    assert status.startswith("HTTP/1.1 200"), status
    assert body.startswith(b"partial-output;")
    assert b"must-not-be-sent" not in body
    srv.wait_for_log(r"exc-info-after-output-reraised", since=mark)


@pytest.mark.rs_only
def test_exc_info_after_output_sends_nothing_more(srv):
    """After the re-raise, nothing more may be sent. mod_wsgi 4.9.4 appends
    Apache's HTML 500 error page to the partial 200 response body."""
    status, headers, body, _ = raw_get(srv, "/sr?exc_info_after_output")
    assert body == b"partial-output;"


def test_no_start_response_is_500(srv):
    mark = srv.log_mark()
    status, headers, body, port = raw_get(srv, "/sr?no_start_response")
    assert status.startswith("HTTP/1.1 500")
    assert b"never started" not in body
    srv.wait_for_log(r"\[wsgi:error\].*" + client_rx(port), since=mark)


def test_write_callable(srv):
    status, headers, body, _ = raw_get(srv, "/sr?write")
    assert status.startswith("HTTP/1.1 200")
    assert body == b"from-write;again;from-iterable"


def test_write_callable_only(srv):
    r = srv.get("/sr?write_only")
    assert r.status == 200 and r.body == b"only-write"


# --------------------------------------------------- Content-Length

@pytest.mark.parametrize("case", ["cl_short", "cl_short_single"])
def test_output_cut_at_content_length(srv, case):
    status, headers, body, _ = raw_get(srv, "/sr?" + case)
    assert status.startswith("HTTP/1.1 200")
    assert headers["content-length"] == ["5"]
    assert body == b"hello"


def test_content_length_cut_keeps_connection_usable(srv):
    conn = srv.connection()
    try:
        conn.request("GET", "/sr?cl_short")
        r = conn.getresponse()
        assert r.read() == b"hello"
        conn.request("GET", "/hello")
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"hello world"
    finally:
        conn.close()


# ---------------------------------------------------------------- HEAD

def test_head_has_no_body_but_keeps_content_length(srv):
    status, headers, body, _ = raw_get(srv, "/method", method=b"HEAD")
    assert status.startswith("HTTP/1.1 200")
    assert headers["content-length"] == ["22"]
    assert body == b""


def test_head_of_streamed_response_has_no_body(srv):
    status, headers, body, _ = raw_get(
        srv, "/stream?mode=normal&token=" + token(), method=b"HEAD")
    assert status.startswith("HTTP/1.1 200")
    assert body == b""


def test_head_then_get_on_keep_alive(srv):
    conn = srv.connection()
    try:
        conn.request("HEAD", "/method")
        r = conn.getresponse()
        assert r.read() == b""
        conn.request("GET", "/method")
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"method-body-0123456789"
    finally:
        conn.close()


# ----------------------------------------------------------- streaming

def test_each_block_is_sent_before_the_next_is_produced(srv):
    tok = token()
    s = srv.open_socket(timeout=10)
    try:
        s.sendall(b"GET /stream?mode=release&token=" + tok.encode() +
                  b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        # the app now waits for the release file: the first block must
        # already be on the wire
        first = recv_until(s, ("first-block %s\n" % tok).encode(), timeout=5)
        assert b"second-block" not in first
        release = os.path.join(srv.state, "release-" + tok)
        with open(release, "w"):
            pass
        rest = recv_until_close(s)
    finally:
        s.close()
    assert b"second-block released\n" in first + rest
    wait_event(srv, "finally %s completed" % tok)


def test_close_called_on_normal_end(srv):
    tok = token()
    r = srv.get("/stream?mode=normal&token=" + tok)
    assert r.status == 200 and r.body == b"block1\nblock2\n"
    wait_event(srv, "close " + tok)
    wait_event(srv, "finally %s completed" % tok)


def test_close_called_on_exception_mid_iteration(srv):
    tok = token()
    mark = srv.log_mark()
    s = srv.open_socket()
    try:
        s.sendall(b"GET /stream?mode=raise&token=" + tok.encode() +
                  b" HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        data = recv_until_close(s)
    finally:
        s.close()
    status, headers, body = parse_raw_response(data)
    assert status.split()[1] == "200"  # headers went out with block1
    assert body.startswith(b"block1\n")
    srv.wait_for_log(r"mid-stream-failure-" + tok, since=mark)
    wait_event(srv, "close " + tok)
    wait_event(srv, "finally %s exception" % tok)


def test_close_called_when_client_disconnects(srv):
    tok = token()
    s = srv.open_socket()
    try:
        s.sendall(b"GET /stream?mode=forever&token=" + tok.encode() +
                  b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        got = b""
        while len(got) < 20000:
            b = s.recv(65536)
            assert b, "server closed early"
            got += b
    finally:
        # RST rather than FIN, so the server's next write fails at once
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                     b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()
    wait_event(srv, "close " + tok, timeout=5)
    wait_event(srv, "finally %s generatorexit" % tok, timeout=5)
    assert srv.get("/hello").status == 200


def test_close_called_when_client_disconnects_gracefully(srv):
    tok = token()
    s = srv.open_socket()
    try:
        s.sendall(b"GET /stream?mode=forever&token=" + tok.encode() +
                  b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        recv_until(s, b"x" * 100)
    finally:
        s.close()
    wait_event(srv, "close " + tok, timeout=5)
    wait_event(srv, "finally %s generatorexit" % tok, timeout=5)


# -------------------------------------------------------------- errors

def test_exception_in_app_is_500_with_traceback(srv):
    tok = token()
    mark = srv.log_mark()
    status, headers, body, port = raw_get(srv, "/app-error?" + tok)
    assert status.startswith("HTTP/1.1 500")
    assert tok.encode() not in body  # no traceback to the client
    srv.wait_for_log(r"Traceback", since=mark)
    srv.wait_for_log(r"RuntimeError: app-failure-" + tok, since=mark)
    srv.wait_for_log(r"\[wsgi:error\].*" + client_rx(port) + r".*app-failure-" + tok,
                     since=mark)


def test_import_error_is_500_with_traceback(srv):
    for _ in range(2):  # a failed import is not cached as a success
        mark = srv.log_mark()
        status, headers, body, port = raw_get(srv, "/import-error")
        assert status.startswith("HTTP/1.1 500")
        assert b"import-time-failure" not in body
        srv.wait_for_log(r"Traceback", since=mark)
        srv.wait_for_log(r"RuntimeError: import-time-failure-7d41", since=mark)


def test_missing_script_is_404(srv):
    r = srv.get("/missing")
    assert r.status == 404
    r = srv.get("/missing/sub/path")
    assert r.status == 404


def test_stdout_stderr_and_wsgi_errors_reach_error_log(srv):
    tok = token()
    mark = srv.log_mark()
    r = srv.get("/output?" + tok)
    assert r.status == 200 and r.body == b"logged"
    for prefix in ("stdout-line-", "stderr-line-", "wsgi-errors-line-",
                   "wsgi-errors-writelines-"):
        srv.wait_for_log(re.escape(prefix + tok), since=mark)


def test_server_survives_all_of_the_above(srv):
    r = srv.get("/hello")
    assert r.status == 200 and r.body == b"hello world"
    # still the same child process: nothing crashed
    if srv.daemon_mode:
        # two daemon processes: either may answer, but none was replaced
        assert int(r.header("X-Pid")) in srv.first_daemons
        assert set(srv.daemon_processes()) == srv.first_daemons
    else:
        assert r.header("X-Pid") == srv.first_pid
    log = srv.error_log()
    assert "exit signal" not in log, log[-3000:]
    assert "Segmentation fault" not in log
