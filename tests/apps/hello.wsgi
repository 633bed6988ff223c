# The simplest app. Does not read the request body.
import os


def application(environ, start_response):
    body = b"hello world"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body))),
                              ("X-Pid", str(os.getpid()))])
    return [body]
