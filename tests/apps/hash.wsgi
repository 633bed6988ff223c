# sha256 and length of the request body, read in 64 KiB read(n) calls.
import hashlib


def application(environ, start_response):
    h = hashlib.sha256()
    total = 0
    inp = environ["wsgi.input"]
    while True:
        b = inp.read(65536)
        if not b:
            break
        h.update(b)
        total += len(b)
    body = ("%s %d" % (h.hexdigest(), total)).encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
