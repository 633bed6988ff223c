# Dumps the WSGI environ as JSON: str() of every value, the type name of
# every value, and (with ?read=1) what wsgi.input returned when read to EOF.
import hashlib
import json


def application(environ, start_response):
    out = {
        "environ": {k: (v if isinstance(v, str) else repr(v))
                    for k, v in environ.items()},
        "types": {k: type(v).__name__ for k, v in environ.items()},
    }
    v = environ.get("mod_wsgi.version")
    out["mod_wsgi_version"] = list(v) if isinstance(v, tuple) else None
    v = environ.get("apache.version")
    out["apache_version"] = list(v) if isinstance(v, tuple) else None
    out["wsgi_version"] = list(environ["wsgi.version"])
    out["file_wrapper_callable"] = callable(environ.get("wsgi.file_wrapper"))
    if "read=1" in environ.get("QUERY_STRING", ""):
        data = environ["wsgi.input"].read()
        out["input"] = {"length": len(data),
                        "sha256": hashlib.sha256(data).hexdigest(),
                        "text": data[:1000].decode("latin-1")}
    body = json.dumps(out, sort_keys=True).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body))),
                              ("X-Request-Method", environ["REQUEST_METHOD"])])
    return [body]
