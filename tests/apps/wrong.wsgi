# About thirty wrong things an application can do, chosen by the query
# string (tests/test_hostile_apps.py). "ok" is a correct answer, used to
# check that the process still serves after each wrong one. Every case
# records "case NAME" in STATE_DIR/events.log when it starts; close()
# methods record "closed NAME".
import io
import os
import sys
import threading
import time

SAVED = {}


def record(environ, what):
    state = environ.get("STATE_DIR")
    if state:
        with open(os.path.join(state, "events.log"), "a") as f:
            f.write(what + "\n")


class ClosingIter:
    """Yields ``items``; close() records itself, then maybe raises."""

    def __init__(self, environ, name, items, raise_in_close=False):
        self.environ, self.name, self.items = environ, name, items
        self.raise_in_close = raise_in_close

    def __iter__(self):
        return iter(self.items)

    def close(self):
        record(self.environ, "closed " + self.name)
        if self.raise_in_close:
            raise RuntimeError("close-failed-" + self.name)


class LyingLen:
    """Claims one item, yields two (some servers set Content-Length from a
    one-item response)."""

    def __len__(self):
        return 1

    def __iter__(self):
        yield b"first;"
        yield b"second"


class IterRaises:
    def __iter__(self):
        raise RuntimeError("iter-failed")


class StrFile:
    """A file-like whose read() returns str."""

    def read(self, n=-1):
        if getattr(self, "done", False):
            return ""
        self.done = True
        return "text, not bytes"


def ok_headers(extra=()):
    return [("Content-Type", "text/plain")] + list(extra)


def application(environ, start_response):
    case = environ.get("QUERY_STRING", "") or "ok"
    name = case.split("&")[0]
    record(environ, "case " + name)
    sr = start_response

    if name == "ok":
        body = ("ok %d" % os.getpid()).encode()
        sr("200 OK", ok_headers([("Content-Length", str(len(body)))]))
        return [body]
    if name == "none":
        sr("200 OK", ok_headers())
        return None
    if name == "str":
        sr("200 OK", ok_headers())
        return "a str, not bytes"
    if name == "int":
        sr("200 OK", ok_headers())
        return 42
    if name == "list_of_str":
        sr("200 OK", ok_headers())
        return ["a", "b"]
    if name == "list_bytes_then_str":
        sr("200 OK", ok_headers())
        return [b"good-part;", "bad-part"]
    if name == "list_of_int":
        sr("200 OK", ok_headers())
        return [1, 2, 3]
    if name == "yield_none":
        sr("200 OK", ok_headers())

        def g():
            yield None
        return g()
    if name == "gen_raises_first":
        def g():
            raise RuntimeError("gen-failed-before-first-yield")
            yield b"never"
        sr("200 OK", ok_headers())
        return g()
    if name == "gen_raises_after":
        def g():
            yield b"partial-output;"
            raise RuntimeError("gen-failed-after-first-yield")
        sr("200 OK", ok_headers())
        return g()
    if name == "gen_start_response_late_raises":
        def g():
            sr("200 OK", ok_headers())
            raise RuntimeError("gen-failed-after-start-response")
            yield b"never"
        return g()
    if name == "gen_close_raises":
        def g():
            try:
                yield b"complete-body"
            finally:
                record(environ, "closed gen_close_raises")
                raise RuntimeError("gen-finally-failed")
        sr("200 OK", ok_headers([("Content-Length", "13")]))
        return g()
    if name == "close_raises":
        sr("200 OK", ok_headers([("Content-Length", "13")]))
        return ClosingIter(environ, name, [b"complete-body"], raise_in_close=True)
    if name == "iter_raises":
        sr("200 OK", ok_headers())
        return IterRaises()
    if name == "no_start_response":
        return [b"body without start_response"]
    if name == "no_start_response_empty":
        return []
    if name == "exc_info_not_tuple":
        sr("500 Oops", ok_headers(), "not-a-tuple")
        return [b"x"]
    if name == "exc_info_wrong_tuple":
        sr("500 Oops", ok_headers(), (1, 2))
        return [b"x"]
    if name == "exc_info_none_triple":
        # (None, None, None) as exc_info while no exception is active
        sr("200 OK", ok_headers())
        sr("500 Oops", ok_headers(), (None, None, None))
        return [b"x"]
    if name == "start_response_twice":
        sr("200 OK", ok_headers())
        sr("201 Created", ok_headers())
        return [b"x"]
    if name == "start_response_bad_args":
        sr()
        return [b"x"]
    if name == "filewrapper_closed":
        f = open(__file__, "rb")
        f.close()
        sr("200 OK", ok_headers())
        return environ["wsgi.file_wrapper"](f)
    if name == "filewrapper_str":
        sr("200 OK", ok_headers())
        return environ["wsgi.file_wrapper"](StrFile())
    if name == "filewrapper_not_file":
        sr("200 OK", ok_headers())
        return environ["wsgi.file_wrapper"](12345)
    if name == "yield_bytearray":
        sr("200 OK", ok_headers())
        return [bytearray(b"from-a-bytearray")]
    if name == "yield_memoryview":
        sr("200 OK", ok_headers())
        return [memoryview(b"from-a-memoryview")]
    if name == "dict":
        sr("200 OK", ok_headers())
        return {"key": "value"}
    if name == "lying_len":
        sr("200 OK", ok_headers())
        return LyingLen()
    if name == "raise_system_exit":
        raise SystemExit(3)
    if name == "raise_keyboard_interrupt":
        raise KeyboardInterrupt()
    if name == "raise_base_exception":
        class Weird(BaseException):
            pass
        raise Weird("not an Exception subclass")
    if name == "recursion":
        def r(n):
            return r(n + 1)
        return r(0)
    if name == "exception_str_fails":
        class BadStr(Exception):
            def __str__(self):
                raise ValueError("str of the exception failed")

            def __repr__(self):
                raise ValueError("repr of the exception failed")
        raise BadStr()
    if name == "huge_header_count":
        sr("200 OK", ok_headers([("X-H%d" % i, "v") for i in range(20000)]))
        return [b"many headers"]
    if name == "huge_header_value":
        sr("200 OK", ok_headers([("X-Big", "v" * (4 << 20))]))
        return [b"one huge header"]
    if name == "huge_status":
        sr("200 " + "R" * (1 << 20), ok_headers())
        return [b"huge reason phrase"]
    if name == "write_after_return":
        # keep write(), call it from a thread after the response is over
        write = sr("200 OK", ok_headers([("Content-Length", "5")]))
        SAVED["write"] = write
        SAVED["start_response"] = sr
        SAVED["input"] = environ["wsgi.input"]
        SAVED["errors"] = environ["wsgi.errors"]

        def later():
            time.sleep(0.3)
            out = []
            for what, f in (("write", lambda: write(b"late")),
                            ("start_response", lambda: sr("200 OK", [])),
                            ("input", lambda: SAVED["input"].read(10)),
                            ("errors", lambda: SAVED["errors"].write("late\n"))):
                try:
                    f()
                    out.append(what + ":no-error")
                except BaseException as e:
                    out.append("%s:%s" % (what, type(e).__name__))
            record(environ, "late " + " ".join(out))
        threading.Thread(target=later).start()
        return [b"hello"]
    if name == "use_saved":
        # objects of an earlier request, used during this one
        out = []
        for what in ("write", "start_response", "input", "errors"):
            obj = SAVED.get(what)
            if obj is None:
                out.append(what + ":missing")
                continue
            try:
                if what == "write":
                    obj(b"from an old request")
                elif what == "start_response":
                    obj("200 OK", [])
                elif what == "input":
                    obj.read(10)
                else:
                    obj.write("old errors\n")
                out.append(what + ":no-error")
            except BaseException as e:
                out.append("%s:%s" % (what, type(e).__name__))
        body = " ".join(out).encode()
        sr("200 OK", ok_headers([("Content-Length", str(len(body)))]))
        return [body]
    if name == "write_then_return_str":
        write = sr("200 OK", ok_headers())
        write(b"written;")
        return ["a str after write"]
    if name == "write_str":
        write = sr("200 OK", ok_headers())
        write("a str to write()")
        return []
    if name == "headers_mutated_after":
        headers = ok_headers()
        sr("200 OK", headers)
        headers.append(("X-Bad", "a\r\nX-Injected: 1"))
        return [b"mutated headers after start_response"]
    if name == "status_subclass":
        class S(str):
            def __str__(self):
                return "200 OK\r\nX-Injected: 1"
        sr(S("200 OK"), ok_headers())
        return [b"str subclass status"]
    if name == "close_wsgi_input":
        environ["wsgi.input"].close() if hasattr(environ["wsgi.input"], "close") else None
        data = environ["wsgi.input"].read()
        body = b"read after close: " + data
        sr("200 OK", ok_headers())
        return [body]
    if name == "slow_close":
        # the response is complete at once; close() takes 2 s
        class SlowClose:
            def __iter__(self):
                return iter([b"complete"])

            def close(self):
                time.sleep(2)
                record(environ, "closed slow_close")
        sr("200 OK", ok_headers([("Content-Length", "8")]))
        return SlowClose()
    if name == "errors_unflushed":
        # a last wsgi.errors line without a newline: flushed by the server
        # once the response is over
        environ["wsgi.errors"].write("unflushed-errors-text")
        body = b"wrote to wsgi.errors"
        sr("200 OK", ok_headers([("Content-Length", str(len(body)))]))
        return [body]
    if name == "exc_info_bad_after_output":
        write = sr("200 OK", ok_headers())
        write(b"partial;")
        sr("500 Oops", ok_headers(), "not-a-tuple")
        return [b"after"]
    if name == "stdout_flood":
        for i in range(2000):
            print("flood line %d" % i)
        sr("200 OK", ok_headers())
        return [b"flooded stdout"]
    raise ValueError("unknown case %r" % case)
