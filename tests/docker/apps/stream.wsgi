# Streams ?n= blocks (default 4), sleeping ?delay= seconds (default 0.3)
# before each block after the first; no Content-Length, so each block must
# reach the client as it is produced. Each block is one line:
# "block I of N\n".
import time
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    n = int(q.get("n", "4"))
    delay = float(q.get("delay", "0.3"))
    start_response("200 OK", [("Content-Type", "text/plain")])

    def blocks():
        for i in range(n):
            if i:
                time.sleep(delay)
            yield ("block %d of %d\n" % (i + 1, n)).encode("ascii")
    return blocks()
