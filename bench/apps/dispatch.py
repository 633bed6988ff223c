# Every bench app behind one WSGI callable, for the servers that have no
# WSGIScriptAlias (Gunicorn and Granian behind Apache's mod_proxy_http).
# BENCH_MOUNTS="/hello=hello.wsgi,/flask=flask_app.wsgi,..." says which
# script serves which first path segment; like WSGIScriptAlias, the mount
# goes to SCRIPT_NAME and the rest of the path stays in PATH_INFO.
import importlib.machinery
import importlib.util
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(script):
    name = "bench_app_" + os.path.splitext(script)[0]
    spec = importlib.util.spec_from_loader(
        name, importlib.machinery.SourceFileLoader(name, os.path.join(HERE, script)))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.application


APPS = {}
for entry in os.environ.get("BENCH_MOUNTS", "").split(","):
    if entry:
        mount, _, script = entry.partition("=")
        APPS[mount] = _load(script)
if not APPS:
    raise RuntimeError("BENCH_MOUNTS is empty: set it to /mount=script.wsgi,...")


def _not_found(environ, start_response):
    start_response("404 Not Found", [("Content-Type", "text/plain"),
                                     ("Content-Length", "10")])
    return [b"not found\n"]


def application(environ, start_response):
    path = environ.get("PATH_INFO", "")
    end = path.find("/", 1)
    mount = path if end < 0 else path[:end]
    app = APPS.get(mount)
    if app is None:
        return _not_found(environ, start_response)
    environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + mount
    environ["PATH_INFO"] = path[len(mount):]
    return app(environ, start_response)
