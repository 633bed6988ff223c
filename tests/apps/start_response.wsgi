# start_response protocol cases, chosen by QUERY_STRING.
import sys


def application(environ, start_response):
    case = environ.get("QUERY_STRING", "")
    if case == "twice":
        start_response("200 OK", [("X-First", "1")])
        start_response("201 Created", [("X-Second", "1")])
        return [b"twice"]
    if case == "exc_info_before_output":
        start_response("200 OK", [("X-First", "1")])
        try:
            raise ValueError("replaced-before-output")
        except ValueError:
            start_response("500 Internal Server Error",
                           [("X-Second", "1"), ("Content-Type", "text/plain")],
                           sys.exc_info())
        return [b"replaced"]
    if case == "exc_info_after_output":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial-output;")
        try:
            raise ValueError("exc-info-after-output-reraised")
        except ValueError:
            start_response("500 Internal Server Error",
                           [("Content-Type", "text/plain")], sys.exc_info())
        return [b"must-not-be-sent"]
    if case == "write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"from-write;")
        write(b"")
        write(b"again;")
        return [b"from-iterable"]
    if case == "write_only":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"only-write")
        return []
    if case == "cl_short":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", "5")])
        return [b"hel", b"lo world", b" and more"]
    if case == "cl_short_single":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", "5")])
        return [b"hello world"]
    if case == "no_start_response":
        return [b"never started"]
    raise ValueError("unknown case %r" % case)
