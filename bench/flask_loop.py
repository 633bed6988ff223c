"""The bench's Flask app (apps/flask_app.wsgi) called directly, as a WSGI
server would call it, in a loop: microseconds of Python per request, with
no server around it. Run it with the `python3` executable and with
embedded_python.c (the shared libpython) to compare the two builds of the
same CPython (see embedded_python.c)."""

import glob
import io
import os
import sys
import time
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader

HERE = os.path.dirname(os.path.abspath(__file__))
VENV = os.environ.get("BENCH_VENV", "/var/cache/mod_wsgi_rs-bench/venv-py%d.%d"
                      % sys.version_info[:2])
sys.path[:0] = glob.glob(os.path.join(VENV, "lib", "python3*", "site-packages"))
loader = SourceFileLoader("flask_app", os.path.join(HERE, "apps", "flask_app.wsgi"))
module = module_from_spec(spec_from_loader("flask_app", loader))
loader.exec_module(module)
application = module.application


def environ():
    return {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "/flask", "PATH_INFO": "/hello/bench",
            "QUERY_STRING": "lang=en", "SERVER_NAME": "localhost", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "localhost", "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": True, "wsgi.run_once": False}


def start_response(status, headers, exc_info=None):
    assert status == "200 OK", status


def request():
    body = b"".join(application(environ(), start_response))
    assert body.startswith(b"{"), body


# FLASK_LOOP_N: requests per round (5000; fewer under valgrind).
N = int(os.environ.get("FLASK_LOOP_N", "5000"))
for _ in range(N // 2):
    request()
best = float("inf")
for _ in range(5):
    start = time.perf_counter()
    for _ in range(N):
        request()
    best = min(best, (time.perf_counter() - start) / N)
# Run as a script, sys.argv[0] is this file; embedded, it is empty.
how = "the python3 executable" if getattr(sys, "argv", [""])[0] else "libpython, embedded"
print("%s: %.1f µs per request (best of 5 x %d)" % (how, best * 1e6, N))
