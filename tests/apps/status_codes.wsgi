# Answers with the status given in the query string (URL-encoded), a body
# that looks like an HTTP response, and an X-Pid header
# (tests/test_hostile_response.py: odd status codes must not desynchronise
# a keep-alive connection).
import os
from urllib.parse import unquote


def application(environ, start_response):
    status = unquote(environ.get("QUERY_STRING", "")) or "200 OK"
    body = (b"HTTP/1.1 200 OK\r\nX-Injected: yes\r\nContent-Length: 7\r\n\r\n"
            b"smuggle")
    start_response(status, [("Content-Type", "text/plain"),
                            ("Content-Length", str(len(body))),
                            ("X-Pid", str(os.getpid()))])
    return [body]
