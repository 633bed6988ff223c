# Life-cycle test app (tests/test_process_lifecycle.py). On its first
# request in a process it registers a Python atexit handler that appends
# "atexit <pid>" to STATE_DIR/atexit.log, and records "registered <pid>"
# there. With ?hang=S the process also registers a handler that sleeps S s,
# which atexit runs first (last registered, first run).
# ?op=sleep&s=S records "sleep <pid>" there, then sleeps S s before
# answering. Every answer carries X-Pid.
import atexit
import os
import threading
import time
from urllib.parse import parse_qs

_lock = threading.Lock()
_registered = False


def _append(state, line):
    with open(os.path.join(state, "atexit.log"), "a") as f:
        f.write(line + "\n")


def _register(state, hang):
    global _registered
    with _lock:
        if _registered:
            return
        _registered = True
        pid = os.getpid()
        atexit.register(_append, state, "atexit %d" % pid)
        if hang:
            atexit.register(time.sleep, hang)
        _append(state, "registered %d" % pid)


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    _register(environ["STATE_DIR"], float(q.get("hang", "0")))
    if q.get("op") == "sleep":
        _append(environ["STATE_DIR"], "sleep %d" % os.getpid())
        time.sleep(float(q.get("s", "1")))
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body))),
                              ("X-Pid", str(os.getpid()))])
    return [body]
