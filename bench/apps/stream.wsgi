# A streamed response: a generator of 64 KiB blocks, no Content-Length (so
# Apache sends it chunked). ?size=N bytes, 10 MiB by default.
BLOCK = b"x" * 65536


def blocks(size):
    while size >= len(BLOCK):
        yield BLOCK
        size -= len(BLOCK)
    if size:
        yield BLOCK[:size]


def application(environ, start_response):
    size = 10 * 1024 * 1024
    qs = environ.get("QUERY_STRING", "")
    if qs.startswith("size="):
        size = int(qs[5:])
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return blocks(size)
