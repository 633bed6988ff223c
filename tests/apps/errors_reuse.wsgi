# wsgi.errors across requests: ?keep=1 keeps this request's stream (and its
# binary layer) in a global; every response says whether its stream is one
# that was kept. ?log=TEXT writes TEXT to wsgi.errors without a newline (it
# reaches the log when the request ends).
import json

KEPT = []


def application(environ, start_response):
    qs = environ.get("QUERY_STRING", "")
    err = environ["wsgi.errors"]
    out = {
        "kept_stream": any(err is k for k in KEPT),
        "kept_buffer": any(err.buffer is k.buffer for k in KEPT),
        "type": type(err).__name__,
    }
    if qs == "keep=1":
        KEPT.append(err)
    elif qs == "keep-buffer=1":
        KEPT.append(type("Holder", (), {"buffer": err.buffer})())
    elif qs.startswith("log="):
        err.write(qs[4:])
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
