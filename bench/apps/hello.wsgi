# Hello world: an 18-byte body with a Content-Length.
BODY = b"Hello world, WSGI\n"
HEADERS = [("Content-Type", "text/plain"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
