# Two WSGI callables that say which one ran, with the environ's strings.
import json
import os


def _app(name):
    def app(environ, start_response):
        out = {k: v for k, v in environ.items() if isinstance(v, str)}
        out["callable"] = name
        out["pid"] = os.getpid()
        body = json.dumps(out, sort_keys=True).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    return app


application = _app("application")
other = _app("other")
