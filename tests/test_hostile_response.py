"""Response splitting (the CVE-2018-1000164 / CVE-2023-27522 classes).

1. An application puts CR, LF, NUL, other control characters or non
   latin-1 text into each position of the status line and of the headers
   (tests/apps/splitting.wsgi), in embedded and in daemon mode: 500, one
   log line saying why, nothing injected. Plain latin-1 (and a tab in a
   value) is allowed and arrives intact.
2. A hostile daemon: the test replaces a daemon group's socket with its own
   listener speaking the wire protocol, and sends split headers, oversized
   or malformed frames: the Apache child re-checks everything (500/502/504,
   a log line, nothing injected, nothing hangs).
"""

import glob
import os
import re
import signal
import socket
import struct
import threading
import time

import pytest

from harness.apache import parse_raw_response, pid_alive, recv_until_close

pytestmark = [
    pytest.mark.skipif(os.environ.get("MOD_WSGI_TEST_MODE") == "daemon",
                       reason="covers embedded and daemon mode itself"),
    # rs_only: the log lines checked are mod_wsgi_rs's, the fake daemon speaks our
    # wire protocol, and mod_wsgi 4.9.4 passes odd status codes through
    pytest.mark.rs_only,
]

BODY = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess split processes=1 threads=8
WSGIScriptAlias /e @APPS@/splitting.wsgi
WSGIScriptAlias /d @APPS@/splitting.wsgi process-group=split
"""

POSITIONS = ["status_reason", "status_code", "name_first", "name_last",
             "value_first", "value_middle", "value_last", "value_start",
             "value_end", "set_cookie", "location"]
REFUSED_EVERYWHERE = ["crlf", "lf", "cr", "crlfcrlf", "nul", "vt", "ff", "esc",
                      "del", "u2028", "snowman", "surrogate", "emoji"]
LATIN1_OK = ["c1", "latin1"]  # allowed in values and in the reason phrase
CHARS = REFUSED_EVERYWHERE + LATIN1_OK + ["tab"]
RAW = {"c1": b"\x85", "latin1": b"\xe9", "tab": b"\t"}

# What the log line says for each kind of refusal.
WHY = r"(control character|not latin-1|not allowed in a header name|three-digit code)"


def allowed(pos, char):
    if char in REFUSED_EVERYWHERE:
        return False
    if pos.startswith("name") or pos == "status_code":
        return False
    if pos == "status_reason":
        return char in LATIN1_OK
    return True  # a value: latin-1 and tab are fine


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="splitting")


def fetch(port, path, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                   % path).encode())
        return recv_until_close(s)
    finally:
        s.close()


def assert_nothing_injected(raw):
    head = raw.partition(b"\r\n\r\n")[0]
    assert b"X-Injected" not in raw, raw[:600]
    assert b"injected body" not in raw, raw[:600]
    for line in head.split(b"\r\n"):
        assert b"\n" not in line and b"\r" not in line and b"\0" not in line


@pytest.mark.parametrize("mode", ["e", "d"])
@pytest.mark.parametrize("pos", POSITIONS)
def test_split_attempts_in_every_position(srv, mode, pos):
    """Every character at this position: refused ones give a 500 and a log
    line naming the problem; allowed ones arrive byte for byte."""
    problems = []
    for char in CHARS:
        mark = srv.log_mark()
        raw = fetch(srv.port, "/%s?%s-%s" % (mode, pos, char))
        assert_nothing_injected(raw)
        status, headers, body = parse_raw_response(raw)
        if allowed(pos, char):
            if not status.startswith("HTTP/1.1 200") and not status.startswith("HTTP/1.1 302"):
                problems.append((char, "refused", status))
                continue
            head = raw.partition(b"\r\n\r\n")[0]
            if RAW[char] not in head:
                problems.append((char, "character lost", head[-200:]))
        else:
            if not status.startswith("HTTP/1.1 500"):
                problems.append((char, "accepted", raw[:300]))
                continue
            try:
                srv.wait_for_log(WHY, since=mark, timeout=3)
            except AssertionError:
                problems.append((char, "no log line", srv.log_since(mark)[-500:]))
    assert not problems, problems
    r = srv.get("/%s?ok" % mode)
    assert r.status == 200


def test_one_log_line_per_refusal(srv):
    """A refused response is explained once (not once per layer): one line
    naming the header and the character; the traceback of the exception
    start_response raised (uncaught by the app) follows it."""
    for mode in ("e", "d"):
        mark = srv.log_mark()
        raw = fetch(srv.port, "/%s?value_middle-crlf" % mode)
        assert raw.startswith(b"HTTP/1.1 500")
        srv.wait_for_log(WHY, since=mark, timeout=3)
        import time
        time.sleep(0.2)
        lines = [l for l in srv.log_since(mark).splitlines()
                 if re.search(WHY, l) and "Error: " not in l]
        assert len(lines) == 1, lines


@pytest.mark.parametrize("where", ["status_reason", "name_first", "value_middle"])
def test_surrogate_is_reported_clearly(srv, where):
    """A str holding a lone surrogate (e.g. from surrogateescape) is not
    latin-1: the log says so (it used to say the value "is not a str")."""
    mark = srv.log_mark()
    raw = fetch(srv.port, "/e?%s-surrogate" % where)
    assert raw.startswith(b"HTTP/1.1 500")
    srv.wait_for_log(WHY, since=mark, timeout=1)


# ----------------------------------------------------------- hostile daemon

FAKE_BODY = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess fake processes=1 threads=1 header-buffer-size=4096 socket-timeout=3
WSGIScriptAlias /f @APPS@/hello.wsgi process-group=fake
"""

HELLO, ENVIRON, READY, HEADERS, DATA, FILE, END, ABORT, STATUS, LOG = (
    1, 2, 0x10, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18)


def frame(kind, payload=b""):
    return bytes([kind]) + struct.pack(">I", len(payload)) + payload


def bstr(b):
    return struct.pack(">I", len(b)) + b


def headers_payload(status, headers):
    return (bstr(status) + struct.pack(">I", len(headers))
            + b"".join(bstr(n) + bstr(v) for n, v in headers))


def ok_headers(status=b"200 OK", extra=()):
    return frame(HEADERS, headers_payload(status, [(b"Content-Type", b"text/plain")] + list(extra)))


def read_exact(conn, n):
    data = b""
    while len(data) < n:
        b = conn.recv(n - len(data))
        if not b:
            raise EOFError
        data += b
    return data


def read_frame(conn):
    head = read_exact(conn, 5)
    kind, n = head[0], struct.unpack(">I", head[1:])[0]
    return kind, read_exact(conn, n)


def decode_environ(p):
    n = struct.unpack(">I", p[:4])[0]
    i, env = 4, {}
    for _ in range(n):
        kl = struct.unpack(">I", p[i:i + 4])[0]
        k = p[i + 4:i + 4 + kl]
        i += 4 + kl
        vl = struct.unpack(">I", p[i:i + 4])[0]
        v = p[i + 4:i + 4 + vl]
        i += 4 + vl
        env[k.decode("latin-1")] = v.decode("latin-1")
    return env


READY_FRAME = frame(READY, struct.pack(">I", 4242))

# scenario → (frames to send, or None to close at once, or "silent"),
# expected status, what the log must say, whether the body must be cut.
SCENARIOS = {
    "ok": (READY_FRAME + ok_headers() + frame(DATA, b"fake") + frame(END), 200, None),
    "status_crlf": (READY_FRAME + ok_headers(b"200 OK\r\nX-Injected: yes") + frame(END),
                    500, r"refused the response of daemon.*control character"),
    "status_lf": (READY_FRAME + ok_headers(b"200 OK\nX-Injected: yes") + frame(END),
                  500, r"refused the response"),
    "status_nul": (READY_FRAME + ok_headers(b"200 OK\0") + frame(END), 500, r"refused the response"),
    "status_short": (READY_FRAME + ok_headers(b"20 OK") + frame(END), 500, r"three-digit code"),
    "status_interim": (READY_FRAME + ok_headers(b"100 Continue") + frame(DATA, b"HTTP/1.1 200 OK\r\nX-Injected: yes\r\n\r\n") + frame(END),
                       500, r"refused the response.*200 to 599"),
    "status_999": (READY_FRAME + ok_headers(b"999 Max") + frame(END), 500, r"refused the response"),
    "status_no_reason": (READY_FRAME + ok_headers(b"200") + frame(END), 500, r"refused the response"),
    "value_crlf": (READY_FRAME + ok_headers(extra=[(b"X-A", b"a\r\nX-Injected: yes")]) + frame(END),
                   500, r"refused the response.*control character"),
    "value_lf": (READY_FRAME + ok_headers(extra=[(b"X-A", b"a\nX-Injected: yes")]) + frame(END),
                 500, r"refused the response"),
    "value_cr": (READY_FRAME + ok_headers(extra=[(b"X-A", b"a\rX-Injected: yes")]) + frame(END),
                 500, r"refused the response"),
    "value_nul": (READY_FRAME + ok_headers(extra=[(b"X-A", b"a\0b")]) + frame(END),
                  500, r"refused the response"),
    "value_del": (READY_FRAME + ok_headers(extra=[(b"X-A", b"a\x7fb")]) + frame(END),
                  500, r"refused the response"),
    "name_space": (READY_FRAME + ok_headers(extra=[(b"X A", b"1")]) + frame(END),
                   500, r"refused the response"),
    "name_colon": (READY_FRAME + ok_headers(extra=[(b"X-Injected: yes\r\nX-B", b"1")]) + frame(END),
                   500, r"refused the response"),
    "name_empty": (READY_FRAME + ok_headers(extra=[(b"", b"1")]) + frame(END),
                   500, r"refused the response"),
    "value_latin1": (READY_FRAME + ok_headers(extra=[(b"X-A", b"caf\xe9")]) + frame(DATA, b"x") + frame(END),
                     200, None),
    "headers_too_big": (READY_FRAME + ok_headers(extra=[(b"X-Big", b"v" * 5000)]) + frame(END),
                        502, r"exceeds the limit of 4096"),
    "unknown_kind": (READY_FRAME + frame(0x99, b"??"), 502, r"unknown frame kind 0x99"),
    "data_before_headers": (READY_FRAME + frame(DATA, b"x") + frame(END), 502, r"body data before headers"),
    "end_without_headers": (READY_FRAME + frame(END), 502, r"ended the response without headers"),
    "close_at_once": (None, 502, r"closed the connection before sending a complete response"),
    "truncated_frame": (READY_FRAME + ok_headers()[:7], 502, r"(malformed|closed the connection)"),
    # nothing reached the client yet: Apache turns the error into a 502
    "file_without_fd": (READY_FRAME + ok_headers() + frame(FILE, struct.pack(">QQ", 0, 10)),
                        502, r"FILE without a descriptor"),
    "status_frame": (READY_FRAME + frame(STATUS, struct.pack(">H", 503) + b"fake daemon busy"),
                     503, r"fake daemon busy"),
    "status_frame_bad_code": (READY_FRAME + frame(STATUS, struct.pack(">H", 999)), 500, None),
    "oversized_data_frame": (READY_FRAME + ok_headers() + bytes([DATA]) + struct.pack(">I", 0x7fffffff),
                             502, r"exceeds the limit"),
    "second_headers_split": (READY_FRAME + ok_headers() + frame(DATA, b"first;")
                             + frame(HEADERS, headers_payload(b"200 OK", [(b"X-B", b"a\r\nX-Injected: yes")]))
                             + frame(DATA, b"second") + frame(END), 200, r"refused the response"),
    "silent": ("silent", 504, r"no response from daemon"),
}
CUT = {"second_headers_split"}  # 200 sent, then the body stops short


class FakeDaemon:
    """Listens on the group's socket path in place of the real daemon."""

    def __init__(self, path):
        self.path = path
        self.hellos = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        os.unlink(path)
        self.sock.bind(path)
        os.chmod(path, 0o777)
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.conns = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        self.conns.append(conn)
        conn.settimeout(10)
        try:
            kind, hello = read_frame(conn)
            self.hellos.append((kind, hello))
            kind, env = read_frame(conn)
            assert kind == ENVIRON
            env = decode_environ(env)
            plan = SCENARIOS[env.get("QUERY_STRING", "ok")][0]
            if plan is None:
                conn.close()
                return
            if plan == "silent":
                self.stop.wait(8)
                conn.close()
                return
            conn.sendall(plan)
            # keep the connection open a little, as a real daemon would
            self.stop.wait(0.3)
        except (OSError, EOFError, AssertionError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def close(self):
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


def install_fake(srv, cls):
    """Puts a `cls` stand-in on the group's socket and ends the real daemon,
    so the connections Apache children kept to it close and every request
    goes to the stand-in (the real daemon's replacement listens on the old
    socket, which no one reaches any more)."""
    socks = glob.glob(os.path.join(srv.rundir, "wsgi.*.sock"))
    assert len(socks) == 1, socks
    d = cls(socks[0])
    workers = [p for p, cmd in srv.daemon_processes().items() if not cmd.endswith("manager")]
    assert workers
    for p in workers:
        os.kill(p, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(pid_alive(p) for p in workers):
        assert time.monotonic() < deadline, "the killed daemon did not exit"
        time.sleep(0.02)
    return d


def serve_through_fake(server_factory, body, name, cls):
    """For a fixture: an Apache whose group at /f answers through a `cls`
    stand-in; yields (server, stand-in)."""
    srv = server_factory(body, name=name)
    assert srv.get("/f").status == 200  # the real daemon works
    d = install_fake(srv, cls)
    try:
        yield srv, d
    finally:
        d.close()


@pytest.fixture(scope="module")
def fake(server_factory):
    yield from serve_through_fake(server_factory, FAKE_BODY, "fakedaemon", FakeDaemon)


@pytest.mark.rs_only
@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_hostile_daemon_answers_are_rechecked(fake, scenario):
    """mod_wsgi 4.9.4 relays what its daemon sends (its wire format is
    different); this checks our Apache-side re-validation."""
    srv, d = fake
    _, want, log_rx = SCENARIOS[scenario]
    mark = srv.log_mark()
    raw = fetch(srv.port, "/f?" + scenario, timeout=15)
    assert_nothing_injected(raw)
    status, headers, body = parse_raw_response(raw)
    assert status.startswith("HTTP/1.1 %d" % want), (status, raw[:400])
    if scenario in CUT:
        chunked = "chunked" in ",".join(headers.get("transfer-encoding", []))
        assert chunked and not body.endswith(b"0\r\n\r\n"), raw[:400]
    if log_rx:
        srv.wait_for_log(log_rx, since=mark, timeout=5)
    log = srv.log_since(mark)
    assert "panicked" not in log and "internal error" not in log, log[-2000:]
    if scenario == "ok":
        assert body.endswith(b"fake") or b"fake" in body
    if scenario == "value_latin1":
        assert b"X-A: caf\xe9\r\n" in raw


@pytest.mark.rs_only
def test_apache_child_authenticates_to_the_daemon(fake):
    """What the fake daemon received: a HELLO frame with the protocol magic
    and a 32-byte secret, the same on every connection of this start."""
    srv, d = fake
    fetch(srv.port, "/f?ok")
    hellos = [h for k, h in d.hellos if k == HELLO]
    assert hellos, d.hellos[:3]
    for h in hellos:
        assert h[:4] == b"MWRS" and len(h) == 4 + 2 + 32 + 8
    assert len({h[6:38] for h in hellos}) == 1
    assert hellos[0][6:38] != b"\0" * 32


# ------------------------------------------------------- interim statuses

CODES_BODY = r"""
WSGISocketPrefix @ROOT@/run/wsgi
WSGIDaemonProcess codes processes=1 threads=2
WSGIScriptAlias /e @APPS@/status_codes.wsgi
WSGIScriptAlias /d @APPS@/status_codes.wsgi process-group=codes
"""


@pytest.fixture(scope="module")
def codes(server_factory):
    return server_factory(CODES_BODY, name="codes")


def _pipelined(srv, mode, status):
    s = srv.open_socket(timeout=10)
    try:
        s.sendall(b"GET /%s?%s HTTP/1.1\r\nHost: x\r\n\r\n"
                  b"GET /%s?200%%20OK HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                  % (mode.encode(), status.replace(" ", "%20").encode(), mode.encode()))
        return recv_until_close(s)
    finally:
        s.close()


def _client_view(raw):
    """Parse the stream as a client does: 1xx responses are interim (no
    body, a final response follows); returns the final responses' status
    lines and the headers they carried."""
    finals = []
    while raw:
        head, sep, raw = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.split(b"\r\n")
        code = int(lines[0].split()[1])
        if 100 <= code < 200:
            continue  # interim: what follows is the next response
        headers = dict(l.split(b":", 1) for l in lines[1:] if b":" in l)
        n = int(headers.get(b"Content-Length", b"0"))
        if code in (204, 304):
            n = 0
        finals.append((code, headers))
        raw = raw[n:]
    return finals


@pytest.mark.parametrize("mode", ["e", "d"])
@pytest.mark.parametrize("status", ["100 Continue", "101 Switching Protocols",
                                    "102 Processing", "103 Early Hints", "199 Odd"])
def test_interim_status_is_refused(codes, mode, status):
    """A final response must have a status >= 200: a 1xx from start_response
    is refused with a 500, and the body (which here looks like a response
    with X-Injected) never reaches a client as a response of its own. (It
    used to go out as "HTTP/1.1 100 Continue" + Content-Length + body: a
    client or a proxy then read the body as the next response. mod_wsgi
    4.9.4 still does.)"""
    raw = _pipelined(codes, mode, status)
    finals = _client_view(raw)
    assert all(b"X-Injected" not in h for _, h in finals), raw[:600]
    assert finals and finals[0][0] == 500, raw[:300]


@pytest.mark.parametrize("mode", ["e", "d"])
@pytest.mark.parametrize("status", ["600 Weird", "999 Max"])
def test_status_beyond_599_is_refused(codes, mode, status):
    raw = _pipelined(codes, mode, status)
    assert raw.startswith(b"HTTP/1.1 500"), raw[:200]


@pytest.mark.parametrize("mode", ["e", "d"])
@pytest.mark.parametrize("status", ["204 No Content", "304 Not Modified"])
def test_bodyless_status_drops_the_body(codes, mode, status):
    """204 and 304 never carry a body, whatever the app returns: the next
    response on the connection is parsed cleanly."""
    raw = _pipelined(codes, mode, status)
    finals = _client_view(raw)
    assert [c for c, _ in finals] == [int(status[:3]), 200], raw[:600]
    assert all(b"X-Injected" not in h for _, h in finals)
