"""Traffic for tests/test_metrics.py: /ok, /fail (500), /missing (404),
/slow?ms=N, /hold?tag=T (waits until STATE/release-T exists, after writing
STATE/held-T), /pid, /sm (what mod_wsgi.server_metrics() has)."""

import json
import os
import time

import mod_wsgi


def application(environ, start_response):
    op = environ.get("PATH_INFO", "").strip("/")
    query = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    state = environ["STATE_DIR"]
    status, body = "200 OK", b"ok"
    if op == "fail":
        status = "500 Internal Server Error"
    elif op == "missing":
        status = "404 Not Found"
    elif op == "teapot":
        status = "418 I'm a teapot"
    elif op == "slow":
        time.sleep(int(query.get("ms", "300")) / 1000.0)
    elif op == "hold":
        tag = query["tag"]
        open(os.path.join(state, "held-" + tag), "w").close()
        deadline = time.time() + 20
        while not os.path.exists(os.path.join(state, "release-" + tag)) and time.time() < deadline:
            time.sleep(0.01)
    elif op == "pid":
        body = str(os.getpid()).encode()
    elif op == "sm":
        sm = mod_wsgi.server_metrics()
        body = json.dumps(None if sm is None else {
            "keys": sorted(sm),
            "groups": sm.get("groups"),
        }).encode()
    start_response(status, [("Content-Type", "text/plain"),
                            ("Content-Length", str(len(body)))])
    return [body]
