# The soak application (soak/run): a mix of what real apps do.
#   /hello            a tiny answer
#   /json             builds and serializes a ~2 KB structure
#   /upload  (POST)   reads the body in 8 KiB read(n) calls, answers sha256 + length
#   /stream           20 blocks of 1 KiB from a generator (close() counted)
#   /file             wsgi.file_wrapper over a 64 KiB file
#   /environ          the request's environ keys (headers vary per request)
#   /slow             sleeps 20 ms
import hashlib
import json
import os
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "soak-data.bin")
CLOSED = [0]
LOCK = threading.Lock()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    headers = [("Content-Type", "text/plain"), ("X-Pid", str(os.getpid()))]
    if path == "/hello":
        body = b"hello"
    elif path == "/json":
        doc = {"items": [{"id": i, "name": "item-%d" % i, "tags": ["a", "b", "c"]}
                         for i in range(40)],
               "query": environ.get("QUERY_STRING", "")}
        body = json.dumps(doc).encode()
    elif path == "/upload":
        h = hashlib.sha256()
        n = 0
        inp = environ["wsgi.input"]
        while True:
            b = inp.read(8192)
            if not b:
                break
            h.update(b)
            n += len(b)
        body = ("%s %d" % (h.hexdigest(), n)).encode()
    elif path == "/stream":
        start_response("200 OK", headers)

        def gen():
            try:
                for i in range(20):
                    yield (b"%04d" % i) * 256
            finally:
                with LOCK:
                    CLOSED[0] += 1
        return gen()
    elif path == "/file":
        start_response("200 OK", headers + [("Content-Length", str(os.path.getsize(DATA)))])
        return environ["wsgi.file_wrapper"](open(DATA, "rb"), 16384)
    elif path == "/environ":
        body = json.dumps(sorted(k for k in environ if k.startswith("HTTP_"))).encode()
    elif path == "/slow":
        time.sleep(0.02)
        body = b"slow"
    else:
        start_response("404 Not Found", headers)
        return [b"no such path"]
    start_response("200 OK", headers + [("Content-Length", str(len(body)))])
    return [body]
