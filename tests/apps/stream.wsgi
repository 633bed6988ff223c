# Streaming responses. ?mode=...&token=...
#   normal  - two blocks, then ends
#   release - one block, then waits (polling) for STATE_DIR/release-<token>
#             to exist before producing the second block
#   raise   - one block, then the generator raises
#   forever - an 8 KiB block every 10 ms (for up to 30 s) until the server
#             stops iterating (client gone)
# The iterable's close() appends "close <token>" and the generator's finally
# appends "finally <token> <how>" to STATE_DIR/events.log.
import os
import time
from urllib.parse import parse_qs


def record(environ, line):
    with open(os.path.join(environ["STATE_DIR"], "events.log"), "a") as f:
        f.write(line + "\n")


def generate(environ, mode, token):
    how = "exception"
    try:
        if mode == "normal":
            yield b"block1\n"
            yield b"block2\n"
        elif mode == "release":
            yield ("first-block %s\n" % token).encode()
            path = os.path.join(environ["STATE_DIR"], "release-" + token)
            deadline = time.monotonic() + 10
            while not os.path.exists(path) and time.monotonic() < deadline:
                time.sleep(0.01)
            yield b"second-block " + (b"released" if os.path.exists(path)
                                      else b"timeout") + b"\n"
        elif mode == "raise":
            yield b"block1\n"
            raise RuntimeError("mid-stream-failure-" + token)
        elif mode == "forever":
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                yield b"x" * 8192
                time.sleep(0.01)
        how = "completed"
    except GeneratorExit:
        how = "generatorexit"
        raise
    finally:
        record(environ, "finally %s %s" % (token, how))


class Stream:
    def __init__(self, environ, mode, token):
        self.environ = environ
        self.token = token
        self.gen = generate(environ, mode, token)

    def __iter__(self):
        return self.gen

    def close(self):
        record(self.environ, "close %s" % self.token)
        self.gen.close()


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    start_response("200 OK", [("Content-Type", "text/plain")])
    return Stream(environ, q.get("mode", "normal"), q.get("token", "none"))
