# Echoes the request body back (read in blocks of ?block=N bytes, default
# 64 KiB), with its length and SHA-256 in response headers.
import hashlib
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    block = int(q.get("block", "65536"))
    inp = environ["wsgi.input"]
    parts = []
    while True:
        b = inp.read(block)
        if not b:
            break
        parts.append(b)
    data = b"".join(parts)
    start_response("200 OK", [
        ("Content-Type", environ.get("CONTENT_TYPE") or "application/octet-stream"),
        ("Content-Length", str(len(data))),
        ("X-Body-Length", str(len(data))),
        ("X-Body-SHA256", hashlib.sha256(data).hexdigest()),
        ("X-Content-Length-Seen", environ.get("CONTENT_LENGTH", "")),
    ])
    return [data]
