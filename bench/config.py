"""What the benchmark measures: the servers, the scenarios, the shared
Apache settings and the targets (used by bench.py and report.py)."""

import os

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
APPS_SRC = os.path.join(BENCH, "apps")
UPLOAD_LUA = os.path.join(BENCH, "upload.lua")

MIB = 1024 * 1024
GIB = 1024 * MIB

APACHE = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
# The module of each module server; "mod_wsgi6" comes from --mod-wsgi6
# (bench/run passes the .so that scripts/reference-mod_wsgi made).
IMPLS = {
    "rs": os.path.join(REPO, "target", "release", "libmod_wsgi_rs.so"),
    "mod_wsgi": os.path.join(MODDIR, "mod_wsgi.so"),
    "mod_wsgi6": None,
}
MODULE_IMPLS = ("rs", "mod_wsgi", "mod_wsgi6")
MOD_WSGI_IMPLS = ("mod_wsgi", "mod_wsgi6")   # "the best mod_wsgi" is the faster
PROXY_IMPLS = ("gunicorn", "granian")          # Apache mod_proxy_http -> them
ALL_IMPLS = MODULE_IMPLS + PROXY_IMPLS + ("static",)
IMPL_LABEL = {"rs": "mod_wsgi_rs", "mod_wsgi": "mod_wsgi 4.9.4",
              "mod_wsgi6": "mod_wsgi 6.1.1", "gunicorn": "proxy+gunicorn",
              "granian": "proxy+granian", "static": "static"}

HELLO = b"Hello world, WSGI\n"
FLASK_PATH = "/flask/hello/bench?lang=en"

# The MPM settings shared by every server (event MPM): two children of 25
# threads, no process churn, enough async slots for 256 keep-alive clients.
MPM_SETTINGS = [
    "StartServers 2",
    "ServerLimit 2",
    "ThreadLimit 25",
    "ThreadsPerChild 25",
    "MaxRequestWorkers 50",
    "MinSpareThreads 25",
    "MaxSpareThreads 75",
    "AsyncRequestWorkerFactor 8",
    "MaxConnectionsPerChild 0",
    "KeepAlive On",
    "KeepAliveTimeout 15",
    "MaxKeepAliveRequests 0",
    "Timeout 60",
]
DAEMON_PROCESSES = 2
DAEMON_THREADS = 15

# The WSGIScriptAlias mounts of the module servers; the proxied servers get
# the same through apps/dispatch.py (BENCH_MOUNTS).
MOUNTS = (("/hello", "hello.wsgi"), ("/r64k", "r64k.wsgi"),
          ("/stream", "stream.wsgi"), ("/file", "file.wsgi"),
          ("/upload", "upload.wsgi"), ("/flask", "flask_app.wsgi"),
          ("/hello_metrics", "hello.wsgi"), ("/sleep", "sleep.wsgi"))


class Scenario:
    def __init__(self, key, label, path, static, conns, lua=None):
        self.key = key
        self.label = label
        self.path = path          # URL on the WSGI servers
        self.static = static      # URL on the static server, or None
        self.conns = conns
        self.lua = lua


SCENARIOS = [
    Scenario("hello", "hello world (18 B)", "/hello", "/hello.txt", 16),
    Scenario("64k", "64 KiB response", "/r64k", "/64k.bin", 16),
    Scenario("stream10m", "10 MiB streamed", "/stream", "/10m.bin", 4),
    Scenario("file3m", "3 MiB file_wrapper", "/file", "/3m.bin", 8),
    Scenario("upload1m", "1 MiB upload, hashed", "/upload", None, 8, UPLOAD_LUA),
    Scenario("flask", "Flask app", FLASK_PATH, "/flask.json", 16),
    Scenario("hello_c256", "hello, 256 keep-alive clients", "/hello",
             "/hello.txt", 256),
    # mod_wsgi_rs always counts requests for its wsgi-metrics handler; this
    # is hello on a server that also has the handler configured.
    Scenario("hello_metrics", "hello, wsgi-metrics configured", "/hello_metrics",
             "/hello.txt", 16),
]
SCENARIO_BY_KEY = {s.key: s for s in SCENARIOS}

# The performance issue's targets: mod_wsgi_rs / the best mod_wsgi ...
TARGETS = {
    ("stream10m", "embedded"): 1.2,
    ("stream10m", "daemon"): 1.5,
    ("upload1m", "embedded"): 1.2,
    ("upload1m", "daemon"): 1.5,
}
# ... and mod_wsgi_rs / Apache serving the static file of the same size.
STATIC_TARGET = {
    ("hello", "embedded"): 0.95,
    ("hello", "daemon"): 0.85,
    ("64k", "embedded"): 0.9,
}
MEMORY_LIMIT = 16 * MIB
