# Sleeps ?seconds (default 0.5) then answers with pid and thread id.
import os
import threading
import time


def application(environ, start_response):
    t = float(environ.get("QUERY_STRING") or "0.5")
    start = time.time()
    time.sleep(t)
    body = ("%d %d %.3f %.3f" % (os.getpid(), threading.get_ident(), start,
                                 time.time())).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
