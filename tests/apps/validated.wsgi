# An app wrapped in wsgiref.validate.validator, with WSGIWarning raised as an
# error: any spec violation by the server becomes an exception (-> 500 and
# an AssertionError/WSGIWarning traceback in the error log).
import hashlib
import warnings
from wsgiref.validate import validator, WSGIWarning

warnings.simplefilter("error", WSGIWarning)


def app(environ, start_response):
    inp = environ["wsgi.input"]
    total = 0
    h = hashlib.sha256()
    while True:
        b = inp.read(4096)
        if not b:
            break
        total += len(b)
        h.update(b)
    environ["wsgi.errors"].write("validated app saw %d bytes\n" % total)
    body = ("%s %d %s" % (environ["REQUEST_METHOD"], total,
                          h.hexdigest())).encode("ascii")
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


application = validator(app)
