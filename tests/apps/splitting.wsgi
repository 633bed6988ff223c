# Response-splitting attempts (tests/test_hostile_response.py). The query
# string is "<position>-<char>": the character is put into the status line
# or a header at that position. Positions: status_reason, status_code,
# name_first, name_last, value_first, value_middle, value_last, value_start,
# value_end. Characters by name (CHARS). "ok" answers normally.
import os

CHARS = {
    "crlf": "\r\nX-Injected: yes",
    "lf": "\nX-Injected: yes",
    "cr": "\rX-Injected: yes",
    "crlfcrlf": "\r\n\r\n<html>injected body",
    "nul": "\x00X-Injected: yes",
    "vt": "\x0b",
    "ff": "\x0c",
    "esc": "\x1b[31m",
    "del": "\x7f",
    "c1": "\x85",           # NEL: latin-1, and a line break in Unicode
    "u2028": "\u2028",      # LINE SEPARATOR: not latin-1
    "snowman": "\u2603",
    "surrogate": "\udc80",  # lone surrogate (what surrogateescape gives)
    "emoji": "\U0001F600",
    "latin1": "\xe9",       # allowed: plain latin-1
    "tab": "\t",            # allowed in a value
}


def application(environ, start_response):
    q = environ.get("QUERY_STRING", "")
    if q == "ok":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("X-Pid", str(os.getpid()))])
        return [b"ok"]
    pos, _, char = q.partition("-")
    c = CHARS[char]
    status = "200 OK"
    headers = [("Content-Type", "text/plain"), ("X-First", "1"),
               ("X-Middle", "2"), ("X-Last", "3")]
    if pos == "status_reason":
        status = "200 O" + c + "K"
    elif pos == "status_code":
        status = "2" + c + "00 OK"
    elif pos == "name_first":
        headers[0] = ("Content" + c + "-Type", "text/plain")
    elif pos == "name_last":
        headers[-1] = ("X-La" + c + "st", "3")
    elif pos == "value_first":
        headers[0] = ("Content-Type", "text/plain" + c)
    elif pos == "value_middle":
        headers[2] = ("X-Middle", "a" + c + "b")
    elif pos == "value_last":
        headers[-1] = ("X-Last", "3" + c)
    elif pos == "value_start":
        headers[1] = ("X-First", c + "1")
    elif pos == "value_end":
        headers.append(("X-Extra", "z" + c))
    elif pos == "set_cookie":
        headers.append(("Set-Cookie", "a=b" + c))
    elif pos == "location":
        status = "302 Found"
        headers.append(("Location", "/next" + c))
    else:
        raise ValueError(q)
    start_response(status, headers)
    return [b"body-" + q.encode("ascii", "replace")]
