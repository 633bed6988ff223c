# ?mb=N: N MiB of a deterministic pseudo-random pattern (seed ?seed=S,
# default 1) in 64 KiB blocks, with Content-Length. The client recomputes
# it with `pattern(n, seed)` below to check the body byte for byte.
import random
from urllib.parse import parse_qs

BLOCK = 64 * 1024


def pattern(mib, seed):
    rnd = random.Random(seed)
    for _ in range(mib * 16):
        yield rnd.randbytes(BLOCK)


def application(environ, start_response):
    q = parse_qs(environ.get("QUERY_STRING", ""))
    mib = int(q.get("mb", ["1"])[0])
    seed = int(q.get("seed", ["1"])[0])
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(mib << 20))])
    return pattern(mib, seed)
