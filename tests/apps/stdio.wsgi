# An application that closes the process's standard descriptors (0-2), then
# writes to fd 2 as C code writing to stderr would (tests/test_stdio_fds.py).
# /fds reports where 0-2 point; /close, /closerange and /cclose close them
# (os.close(2), os.closerange(0, 3), libc close(2) through ctypes);
# /write writes MARKER to fd 2 and answers normally. /cclose-hold closes fd 2
# the same way, sends "closed" and keeps its request running until /release
# (at most 30 s).
import ctypes
import json
import os
import threading

MARKER = b"STDIO-LEAK-MARKER"
RELEASE = threading.Event()


def targets():
    out = {}
    for fd in (0, 1, 2):
        try:
            out[str(fd)] = os.readlink("/proc/self/fd/%d" % fd)
        except OSError:
            out[str(fd)] = "closed"
    return out


def write_marker(tag):
    try:
        os.write(2, MARKER + b" " + tag + b"\n")
        return "written"
    except OSError as e:
        return "error %d" % e.errno


def hold(out):
    ctypes.CDLL(None).close(2)
    yield b"closed\n"
    out["released"] = RELEASE.wait(30)
    yield json.dumps(out, sort_keys=True).encode()


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    out = {"pid": os.getpid()}
    if path == "/close":
        os.close(2)
        out["after"] = targets()
        out["write"] = write_marker(b"same-request")
    elif path == "/closerange":
        os.closerange(0, 3)
        out["after"] = targets()
        out["write"] = write_marker(b"same-request")
    elif path == "/cclose":
        ctypes.CDLL(None).close(2)
    elif path == "/cclose-hold":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return hold(out)
    elif path == "/release":
        RELEASE.set()
    elif path == "/write":
        out["write"] = write_marker(environ.get("QUERY_STRING", "").encode())
    out["fds"] = targets()
    body = json.dumps(out, sort_keys=True).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
