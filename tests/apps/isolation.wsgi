# Daemon isolation test app (tests/test_daemon_isolation.py). Chosen by
# ?op= (other parameters in the query string):
#   record   append "<process group> <REMOTE_USER or ->" to
#            STATE_DIR/remote_users.log (the process group this process
#            really runs, not what the environ says); answer "recorded"
#   attack&own=SOCK&target=SOCK
#            look through this process's own memory for anything that
#            follows a HELLO's magic and version (the secret of a HELLO
#            this daemon received), and try each one on its own group's
#            socket (REMOTE_USER=selfcheck) and on the target group's
#            socket (REMOTE_USER=admin), with a forged environ asking for
#            op=record; answer JSON: how many candidates, how many each
#            socket accepted (answered READY)
# It imports nothing from the module under test: the wire protocol is
# written out below (see src/daemon/wire.rs).
import ctypes
import json
import os
import socket
import struct
import sys
import time
from urllib.parse import parse_qs

HELLO, ENVIRON, BODY_END = 1, 2, 4
READY, READ, END, ABORT, STATUS = 0x10, 0x11, 0x15, 0x16, 0x17
# The protocol magic and version that start a HELLO payload; built at run
# time so that this source's constants are not themselves a match.
PATTERN = b"MW" + b"RS" + struct.pack(">H", 2)
SECRET_LEN = 32


def candidates_in(chunks):
    """Every distinct 32-byte string that follows PATTERN in ``chunks``."""
    found = []
    for data in chunks:
        i = data.find(PATTERN)
        while i >= 0:
            c = data[i + len(PATTERN):i + len(PATTERN) + SECRET_LEN]
            if len(c) == SECRET_LEN and c != b"\0" * SECRET_LEN and c not in found:
                found.append(c)
            i = data.find(PATTERN, i + 1)
    return found


def private_regions(pid="self"):
    """(start, end) of the private writable mappings of a process: heap,
    stacks, anonymous memory and the data of shared libraries."""
    out = []
    with open("/proc/%s/maps" % pid) as f:
        for line in f:
            parts = line.split(None, 5)
            if parts[1] != "rw-p":
                continue
            path = parts[5].strip() if len(parts) == 6 else ""
            if path and not (path in ("[heap]", "[stack]") or ".so" in path):
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if end - start <= 512 << 20:
                out.append((start, end))
    return out


def own_memory():
    for start, end in private_regions():
        yield ctypes.string_at(start, end - start)


def frame(kind, payload):
    return struct.pack(">BI", kind, len(payload)) + payload


def environ_frame(pairs):
    p = struct.pack(">I", len(pairs))
    for k, v in pairs:
        p += struct.pack(">I", len(k)) + k + struct.pack(">I", len(v)) + v
    return frame(ENVIRON, p)


def read_frame(s):
    head = b""
    while len(head) < 5:
        b = s.recv(5 - len(head))
        if not b:
            return None, b""
        head += b
    kind, n = struct.unpack(">BI", head)
    payload = b""
    while len(payload) < n:
        b = s.recv(n - len(payload))
        if not b:
            return None, b""
        payload += b
    return kind, payload


def speak(path, secret, pairs, timeout=5.0):
    """Sends HELLO with ``secret`` and ENVIRON ``pairs`` to the daemon at
    ``path``: True when the daemon accepted it (answered READY, then ran
    the request), False when it closed the connection."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(path)
        hello = PATTERN + secret + struct.pack(">q", int(time.time() * 1e6))
        s.sendall(frame(HELLO, hello) + environ_frame(pairs))
        kind, _ = read_frame(s)
        if kind != READY:
            return False
        # Let the request finish: answer body reads, stop at its end.
        while True:
            kind, _ = read_frame(s)
            if kind is None or kind in (END, ABORT, STATUS):
                return True
            if kind == READ:
                s.sendall(frame(BODY_END, b""))
    except (OSError, socket.timeout):
        return False
    finally:
        s.close()


def forged(environ, remote_user):
    """This request's own environ (its plain strings), asking for
    op=record as ``remote_user``."""
    pairs = [(k.encode("latin-1"), v.encode("latin-1"))
             for k, v in environ.items()
             if isinstance(v, str) and k not in ("REMOTE_USER", "QUERY_STRING")]
    pairs.append((b"QUERY_STRING", b"op=record"))
    pairs.append((b"REMOTE_USER", remote_user))
    return pairs


def process_group():
    mod = sys.modules.get("mod_wsgi")
    return getattr(mod, "process_group", "?") or "?"


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    op = q.get("op", "")
    if op == "record":
        with open(os.path.join(environ["STATE_DIR"], "remote_users.log"), "a") as f:
            f.write("%s %s\n" % (process_group(), environ.get("REMOTE_USER", "-")))
        body = b"recorded"
    elif op == "attack":
        found = candidates_in(own_memory())[:100]
        own = sum(speak(q["own"], c, forged(environ, b"selfcheck")) for c in found)
        target = sum(speak(q["target"], c, forged(environ, b"admin")) for c in found)
        body = json.dumps({"candidates": len(found), "own_accepted": own,
                           "target_accepted": target}).encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("X-Pid", str(os.getpid()))])
    return [body]
