# Daemon-mode test app (tests/test_daemon_*.py). Every answer carries X-Pid.
# Chosen by ?op= (other parameters in the query string):
#   ident              JSON: pid, ppid, uid, euid, gid, egid, groups, umask,
#                      cwd, process_group, multiprocess, multithread
#   exit&code=N        record "exit <pid>" in STATE_DIR/events.log, then
#                      os._exit(N) before start_response
#   sleep&s=S&tag=T    record "enter T <pid>", sleep S s in
#                      sleepy_function_for_request_timeout, answer
#   spin&s=S&tag=T     record "enter T <pid>", compute for S s (holding the
#                      GIL but for Python's switch interval), answer
#   thread             answer "<pid> <thread ident>"
#   work&ms=M          compute for M ms (holding the GIL), answer
#                      "<pid> <thread ident>"
#   download&mib=N     stream N MiB in 1 MiB blocks: block i is
#                      sha256(b"block-%d" % i).digest() * 32768
#   (nothing)          answer "ok"
import json
import hashlib
import os
import sys
import threading
import time
from urllib.parse import parse_qs


def record(environ, line):
    with open(os.path.join(environ["STATE_DIR"], "events.log"), "a") as f:
        f.write(line + "\n")


def block(i):
    return hashlib.sha256(b"block-%d" % i).digest() * 32768


def sleepy_function_for_request_timeout(seconds):
    time.sleep(seconds)


def compute(seconds):
    """Keep the CPU busy for `seconds` (holding the GIL but for Python's
    switch interval); how many rounds that took."""
    until = time.monotonic() + seconds
    n = 0
    while time.monotonic() < until:
        n += 1
    return n


def _umask():
    m = os.umask(0o022)
    os.umask(m)
    return m


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    op = q.get("op", "")
    headers = [("Content-Type", "text/plain"), ("X-Pid", str(os.getpid()))]
    if op == "ident":
        body = json.dumps({
            "pid": os.getpid(), "ppid": os.getppid(),
            "uid": os.getuid(), "euid": os.geteuid(),
            "gid": os.getgid(), "egid": os.getegid(),
            "groups": sorted(os.getgroups()), "umask": _umask(),
            "cwd": os.getcwd(),
            "process_group": environ.get("mod_wsgi.process_group"),
            "multiprocess": environ.get("wsgi.multiprocess"),
            "multithread": environ.get("wsgi.multithread"),
            "run_once": environ.get("wsgi.run_once"),
            "module_process_group": getattr(sys.modules.get("mod_wsgi"),
                                            "process_group", None),
        }).encode()
    elif op == "exit":
        record(environ, "exit %d" % os.getpid())
        os._exit(int(q.get("code", "1")))
    elif op == "sleep":
        record(environ, "enter %s %d" % (q.get("tag", "-"), os.getpid()))
        sleepy_function_for_request_timeout(float(q.get("s", "1")))
        record(environ, "leave %s %d" % (q.get("tag", "-"), os.getpid()))
        body = b"slept"
    elif op == "spin":
        record(environ, "enter %s %d" % (q.get("tag", "-"), os.getpid()))
        body = b"spun %d" % compute(float(q.get("s", "1")))
    elif op == "thread":
        body = b"%d %d" % (os.getpid(), threading.get_ident())
    elif op == "work":
        compute(float(q.get("ms", "1")) / 1000)
        body = b"%d %d" % (os.getpid(), threading.get_ident())
    elif op == "download":
        n = int(q.get("mib", "1"))
        headers.append(("Content-Length", str(n << 20)))
        start_response("200 OK", headers)
        return (block(i) for i in range(n))
    else:
        body = b"ok"
    headers.append(("Content-Length", str(len(body))))
    start_response("200 OK", headers)
    return [body]
