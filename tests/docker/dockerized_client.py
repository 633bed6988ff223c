"""HTTP client and error-log helpers of the dockerized suite (a module of
its own, so that test files can import it without importing a conftest)."""

import http.client
import json
import os
import time
import urllib.parse

EMBEDDED_URL = os.environ.get("WSGI_RS_EMBEDDED_URL")
DAEMON_URL = os.environ.get("WSGI_RS_DAEMON_URL")
EXAMPLE_URL = os.environ.get("WSGI_RS_EXAMPLE_URL")
ERROR_LOG = os.environ.get("WSGI_RS_APACHE_ERROR_LOG")

NOT_YET = "does not serve yet"
READY_TIMEOUT = 60.0


class Response:
    def __init__(self, status, reason, headers, body, local_addr):
        self.status = status
        self.reason = reason
        self.headers = headers  # http.client.HTTPMessage (case-insensitive)
        self.body = body
        self.local_addr = local_addr  # (ip, port) of our end of the TCP connection

    @property
    def text(self):
        return self.body.decode("latin-1")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<Response %d %r %r>" % (self.status, self.reason, self.body[:200])


class Server:
    """An HTTP/1.1 client for one base URL (one virtual host/port)."""

    def __init__(self, base_url, mode):
        u = urllib.parse.urlsplit(base_url)
        self.base_url = base_url
        self.mode = mode
        self.host = u.hostname
        self.port = u.port or 80

    def connection(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = self.connection(timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            local = conn.sock.getsockname()[:2]
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, r.reason, r.headers, data, local)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body=body, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)


def error_log_text():
    if not ERROR_LOG:
        return ""
    try:
        with open(ERROR_LOG, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def wait_for_log(needle, timeout=5.0):
    """Polls the shared error log until it contains `needle`; returns the
    log text (which may lack it after `timeout`)."""
    deadline = time.monotonic() + timeout
    while True:
        text = error_log_text()
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


