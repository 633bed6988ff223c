# Dumps the WSGI environ as JSON (str() of every value) with the serving
# process's pid. Mounted at /env on both test virtual hosts.
import json
import os


def application(environ, start_response):
    out = {
        "environ": {k: (v if isinstance(v, str) else repr(v))
                    for k, v in environ.items()},
        "types": {k: type(v).__name__ for k, v in environ.items()},
        "pid": os.getpid(),
    }
    body = json.dumps(out, sort_keys=True).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body))),
                              ("X-Request-Method", environ["REQUEST_METHOD"]),
                              ("X-Pid", str(os.getpid()))])
    return [body]
