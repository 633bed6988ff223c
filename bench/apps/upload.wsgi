# Reads the request body in 64 KiB read(n) calls and answers its sha256 and
# length.
import hashlib


def application(environ, start_response):
    h = hashlib.sha256()
    total = 0
    read = environ["wsgi.input"].read
    while True:
        b = read(65536)
        if not b:
            break
        h.update(b)
        total += len(b)
    body = ("%s %d\n" % (h.hexdigest(), total)).encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
