# The tests rewrite this file (VERSION) and bump its mtime.
import os

VERSION = "v1"
LOADED_IN = os.getpid()


def application(environ, start_response):
    body = ("%s %d" % (VERSION, LOADED_IN)).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
