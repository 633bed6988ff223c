# Large responses, each block a different letter so a block sent twice, lost
# or cut shows in the body's hash. ?how=gen|list|write&size=N&block=B
#   gen   - a generator of B-byte blocks (Apache sends it chunked)
#   list  - a list of B-byte blocks
#   write - write() for each block, then an empty iterable
from urllib.parse import parse_qs


def blocks(size, block):
    i = 0
    while size > 0:
        n = min(block, size)
        yield bytes([65 + i % 26]) * n
        size -= n
        i += 1


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    size = int(q.get("size", 10 * 1024 * 1024))
    block = int(q.get("block", 65536))
    how = q.get("how", "gen")
    write = start_response("200 OK", [("Content-Type", "application/octet-stream")])
    if how == "list":
        return list(blocks(size, block))
    if how == "write":
        for b in blocks(size, block):
            write(b)
        return []
    return blocks(size, block)
