# Several entry points, to test callable-object= / WSGICallableObject.
def _make(name):
    def app(environ, start_response):
        body = ("callable=%s reported=%s" % (
            name, environ.get("mod_wsgi.callable_object"))).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    return app


application = _make("application")
myapp = _make("myapp")
other = _make("other")
