# The wheel check's app: says which module and which Python serve it.
import json
import sys

import mod_wsgi


def application(environ, start_response):
    body = json.dumps({
        "server_implementation": getattr(mod_wsgi, "server_implementation", None),
        "prefix": sys.prefix,
        "version": "%d.%d" % sys.version_info[:2],
        "process_group": environ.get("mod_wsgi.process_group"),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
