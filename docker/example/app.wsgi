# The example application served by the mod_wsgi_rs image at /.
# Replace it by mounting your own: -v "$PWD/myapp:/srv/wsgi/example:ro"
# (the folder must hold app.wsgi defining `application`).
import os
import sys


def application(environ, start_response):
    group = environ.get("mod_wsgi.process_group", "")
    lines = [
        "Hello from mod_wsgi_rs!",
        "",
        "mode: %s" % ("daemon (process group %r)" % group if group else "embedded"),
        "pid: %d" % os.getpid(),
        "python: %s" % sys.version.split()[0],
        "server: %s" % environ.get("SERVER_SOFTWARE", "?"),
        "path: %s%s" % (environ.get("SCRIPT_NAME", ""), environ.get("PATH_INFO", "")),
        "",
    ]
    body = "\n".join(lines).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body))),
                              ("X-WSGI-Process-Group", group),
                              ("X-WSGI-Pid", str(os.getpid()))])
    return [body]
