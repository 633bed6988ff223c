# Misbehaviours for the fault tests (tests/test_faults_*.py), chosen by the
# query string; every answer carries X-Pid.
#   ?sleep=S[&tag=T]   record "enter T" in STATE_DIR/events.log, sleep S s
#   ?leak=MB           keep MB MiB more (written, so it is resident) for ever
#   ?gil=S             hold the GIL for S s (libc sleep through ctypes.PyDLL,
#                      which does not release it)
#   ?read=1[&tag=T]    record "enter T", read the whole body, answer its size
#   ?big=MB            answer MB MiB (1 MiB blocks from a generator)
#   (nothing)          answer "ok"
import ctypes
import os
import threading
import time
from urllib.parse import parse_qs

LEAK = []


def record(environ, what):
    state = environ.get("STATE_DIR")
    if state:
        with open(os.path.join(state, "events.log"), "a") as f:
            f.write("%s %d %d %.6f\n" % (what, os.getpid(),
                                         threading.get_ident(), time.time()))


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    body = b"ok"
    if "sleep" in q:
        record(environ, "enter " + q.get("tag", "sleep"))
        time.sleep(float(q["sleep"]))
        body = b"slept " + q["sleep"].encode()
        record(environ, "leave " + q.get("tag", "sleep"))
    elif "leak" in q:
        LEAK.append(b"\x01" * (int(q["leak"]) << 20))
        body = ("leaked %d MiB" % (len(LEAK) * int(q["leak"]))).encode()
    elif "gil" in q:
        record(environ, "gil")
        ctypes.PyDLL(None).sleep(int(q["gil"]))
        body = b"held the GIL"
    elif "big" in q:
        n = int(q["big"])
        record(environ, "big")
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(n << 20)),
                                  ("X-Pid", str(os.getpid()))])

        def blocks():
            # "big-done" once the server has taken every block (the server
            # closes the generator once Content-Length is reached).
            try:
                for _ in range(n):
                    yield b"b" * (1 << 20)
            finally:
                record(environ, "big-done")
        return blocks()
    elif "read" in q:
        record(environ, "enter " + q.get("tag", "read"))
        data = environ["wsgi.input"].read()
        body = ("read %d" % len(data)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body))),
                              ("X-Pid", str(os.getpid()))])
    return [body]
