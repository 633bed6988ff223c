# mod_wsgi 6.1 semantics, by QUERY_STRING (tests/test_semantics_61.py):
#   sr-<case>      calls start_response with bad arguments, catches what it
#                  raises, answers JSON: exception type, message, whether
#                  the traceback's last frame is this file at the call's line
#   cl-<value>     Content-Length <value>, not caught
#   twice          start_response twice without exc_info, caught
#   streams-<tok>  describes sys.stdout/sys.stderr/wsgi.errors and writes
#                  <tok> through their .buffer as bytes/bytearray/memoryview
#   stdin          what using sys.stdin does
#   env            environ (str/int/float values as they are), types, pid
import json
import sys
import traceback

BAD = {
    "status-int": (200, []),
    "status-bytes": (b"200 OK", []),
    "status-nonlatin1": ("200 \u20ac", []),
    "status-surrogate": ("200 \udce9", []),
    "status-code": ("20 OK", []),
    "status-crlf": ("200 OK\r\nX-Injected: 1", []),
    "headers-tuple": ("200 OK", (("X-A", "1"),)),
    "header-list": ("200 OK", [["X-A", "1"]]),
    "header-three": ("200 OK", [("X-A", "1", "2")]),
    "name-int": ("200 OK", [(1, "1")]),
    "name-bytes": ("200 OK", [(b"X-A", "1")]),
    "name-empty": ("200 OK", [("", "1")]),
    "name-space": ("200 OK", [("X A", "1")]),
    "name-nonlatin1": ("200 OK", [("X-\u20ac", "1")]),
    "value-int": ("200 OK", [("X-A", 1)]),
    "value-bytes": ("200 OK", [("X-A", b"1")]),
    "value-crlf": ("200 OK", [("X-A", "1\r\nX-Injected: 1")]),
    "value-lf": ("200 OK", [("X-A", "1\nX-Injected: 1")]),
    "value-nonlatin1": ("200 OK", [("X-A", "\u20ac")]),
}


def reply(start_response, obj, status="200 OK"):
    body = json.dumps(obj).encode()
    start_response(status, [("Content-Type", "application/json"),
                             ("Content-Length", str(len(body)))])
    return [body]


def describe(stream):
    t = type(stream)
    out = {"type": "%s.%s" % (t.__module__, t.__qualname__)}
    try:
        b = stream.buffer
        out["buffer"] = "%s.%s" % (type(b).__module__, type(b).__qualname__)
        out["name"] = stream.name
        out["encoding"] = stream.encoding
        out["errors"] = stream.errors
        out["line_buffering"] = stream.line_buffering
    except Exception as e:  # a Restricted stream
        out["error"] = "%s: %s" % (type(e).__name__, e)
    return out


def application(environ, start_response):
    case = environ.get("QUERY_STRING", "")
    if case.startswith("sr-"):
        status, headers = BAD[case[3:]]
        try:
            call_line = sys._getframe().f_lineno + 1
            start_response(status, headers)
        except Exception as e:
            last = traceback.extract_tb(e.__traceback__)[-1]
            return reply(start_response, {
                "type": type(e).__name__, "message": str(e),
                "at_call": last.filename == __file__ and last.lineno == call_line,
            })
        return reply(start_response, {"type": None})
    if case.startswith("cl-"):
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", case[3:])])
        return [b"body with a bad Content-Length"]
    if case == "twice":
        start_response("200 OK", [("X-First", "1")])
        try:
            start_response("201 Created", [("X-Second", "1")])
        except Exception as e:
            body = json.dumps({"type": type(e).__name__, "message": str(e)}).encode()
            start_response("500 Internal Server Error",
                           [("Content-Type", "application/json")], sys.exc_info())
            return [body]
        return reply(start_response, {"type": None})
    if case.startswith("streams-"):
        tok = case[8:]
        errors = environ["wsgi.errors"]
        info = {"wsgi.errors": describe(errors), "stdout": describe(sys.stdout),
                "stderr": describe(sys.stderr)}
        errors.buffer.write(("errors-bytes-%s\n" % tok).encode())
        errors.buffer.write(bytearray(("errors-bytearray-%s\n" % tok).encode()))
        errors.buffer.write(memoryview(("errors-memoryview-%s\n" % tok).encode()))
        errors.buffer.writelines([b"errors-wl-bytes-" + tok.encode() + b"\n",
                                  bytearray(b"errors-wl-bytearray-" + tok.encode() + b"\n"),
                                  memoryview(b"errors-wl-memoryview-" + tok.encode() + b"\n")])
        errors.write("errors-text-%s\n" % tok)
        sys.stderr.buffer.write(("stderr-bytes-%s\n" % tok).encode())
        sys.stderr.flush()
        print("stdout-print-%s" % tok)
        sys.stdout.buffer.write(memoryview(("stdout-memoryview-%s\n" % tok).encode()))
        sys.stdout.flush()
        try:
            errors.buffer.write(12)
            info["int_write"] = None
        except Exception as e:
            info["int_write"] = type(e).__name__
        return reply(start_response, info)
    if case == "stdin":
        t = type(sys.stdin)
        out = {"type": "%s.%s" % (t.__module__, t.__qualname__)}
        for what in ("read", "readline", "fileno"):
            try:
                getattr(sys.stdin, what)()
                out[what] = None
            except Exception as e:
                out[what] = "%s: %s" % (type(e).__name__, e)
        return reply(start_response, out)
    if case == "env":
        import os
        return reply(start_response, {
            "pid": os.getpid(),
            "environ": {k: (v if isinstance(v, (str, int, float)) else repr(v))
                        for k, v in environ.items()},
            "types": {k: type(v).__name__ for k, v in environ.items()},
        })
    raise ValueError("unknown case %r" % case)
