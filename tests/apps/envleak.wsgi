# For tests/test_hostile_environ.py: answers JSON with the request's environ
# (str values only), a snapshot of os.environ and the pid/thread; with
# ?mutate=1 it then scribbles over the environ dict it was given (a later
# request must not see any of it).
import json
import os
import threading


def application(environ, start_response):
    out = {
        "environ": {k: v for k, v in environ.items() if isinstance(v, str)},
        "os_environ": dict(os.environ),
        "pid": os.getpid(),
        "thread": threading.get_ident(),
    }
    if "mutate=1" in environ.get("QUERY_STRING", ""):
        environ["HTTP_X_MUTATED"] = "yes"
        environ["REMOTE_USER"] = "mutated-user"
        environ["wsgi.url_scheme"] = "https"
        environ.pop("REMOTE_ADDR", None)
        environ["QUERY_STRING"] = "mutated"
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
