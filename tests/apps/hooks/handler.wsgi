# WSGIHandlerScript for tests/test_handler_scripts.py: dumps its environ's
# strings (and the pid serving it) as JSON.
import json
import os


def handle_request(environ, start_response):
    out = {k: v for k, v in environ.items() if isinstance(v, str)}
    out["pid"] = os.getpid()
    body = json.dumps(out, sort_keys=True).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def application(environ, start_response):
    start_response("500 Wrong Callable", [("Content-Type", "text/plain")])
    return [b"handler scripts run handle_request, not application\n"]
