# What the stock-Apache check asks the module that serves it: the values
# only mod_wsgi_rs gives (Debian's mod_wsgi 4.9.4 has version (4, 9, 4) and
# no server_implementation; mod_wsgi_rs reports mod_wsgi 6.1's API level as
# version and its own as implementation_version).
import json

import mod_wsgi


def application(environ, start_response):
    body = json.dumps({
        "environ_version": list(environ.get("mod_wsgi.version", ())),
        "module_version": list(getattr(mod_wsgi, "version", ())),
        "implementation_version": list(getattr(mod_wsgi, "implementation_version", ())),
        "server_implementation": getattr(mod_wsgi, "server_implementation", None),
        "process_group": environ.get("mod_wsgi.process_group"),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
