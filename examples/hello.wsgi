# A small WSGI application: says hello and shows the basics of the WSGI
# environ as mod_wsgi_rs fills it in.
#
#   mod-wsgi-rs start-server examples/hello.wsgi
#   curl http://127.0.0.1:8000/some/path?x=1
import os
import sys

FIELDS = (
    "REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
    "SERVER_NAME", "SERVER_PORT", "REMOTE_ADDR", "HTTP_HOST",
    "wsgi.url_scheme", "wsgi.multithread", "wsgi.multiprocess",
    "mod_wsgi.process_group", "mod_wsgi.application_group",
)


def application(environ, start_response):
    lines = ["Hello from mod_wsgi_rs!", ""]
    for key in FIELDS:
        lines.append("%-26s %r" % (key, environ.get(key)))
    lines.append("%-26s %s" % ("python", sys.version.split()[0]))
    lines.append("%-26s %d" % ("pid", os.getpid()))
    body = ("\n".join(lines) + "\n").encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
