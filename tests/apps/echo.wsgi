# Reads wsgi.input in the way chosen by ?mode= and reports what each call
# returned. Modes: readn (read(n) loop, n from ?n=), readall (read()),
# readline (readline(size) loop, size from ?n=, -1 = no size), readlines
# (readlines(hint), hint from ?n=), iter (for line in input), over (one
# read(CONTENT_LENGTH + 1000)).  After the mode's reads, read() and read(10)
# are called three more times each to check EOF stays EOF.
# Two modes answer for themselves: interleave (read(n), a wsgi.errors line
# and a write() of the block's sha256 after each read) and first (one
# read(n), the rest of the body left unread).
import hashlib
import json
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    mode = q.get("mode", "readall")
    n = int(q.get("n", "-1"))
    inp = environ["wsgi.input"]
    if mode == "interleave":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        whole = hashlib.sha256()
        while True:
            b = inp.read(n)
            if not b:
                break
            whole.update(b)
            environ["wsgi.errors"].write("interleave read %d\n" % len(b))
            environ["wsgi.errors"].flush()
            write(hashlib.sha256(b).hexdigest().encode() + b"\n")
        return [b"whole " + whole.hexdigest().encode() + b"\n"]
    if mode == "first":
        b = inp.read(n)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"%d %s" % (len(b), hashlib.sha256(b).hexdigest().encode())]
    calls = []
    if mode == "readn":
        while True:
            b = inp.read(n)
            calls.append(b)
            if not b:
                break
    elif mode == "readall":
        calls.append(inp.read())
    elif mode == "readline":
        while True:
            b = inp.readline(n) if n >= 0 else inp.readline()
            calls.append(b)
            if not b:
                break
    elif mode == "readlines":
        calls.extend(inp.readlines(n) if n >= 0 else inp.readlines())
    elif mode == "iter":
        for line in inp:
            calls.append(line)
    elif mode == "over":
        cl = int(environ.get("CONTENT_LENGTH") or 0)
        calls.append(inp.read(cl + 1000))
    else:
        raise ValueError("unknown mode %r" % mode)
    after = [inp.read(), inp.read(10), inp.read(), inp.read(10), inp.read(),
             inp.read(10)]
    out = {
        "types": sorted({type(c).__name__ for c in calls + after}),
        "calls": [c.decode("latin-1") for c in calls],
        "after": [a.decode("latin-1") for a in after],
        "data": b"".join(calls).decode("latin-1"),
        "content_length": environ.get("CONTENT_LENGTH"),
        "has_http_transfer_encoding": "HTTP_TRANSFER_ENCODING" in environ,
    }
    body = json.dumps(out).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
