# Reports the REQUEST_METHOD it saw in a header and returns a fixed body
# with an explicit Content-Length (for HEAD tests).
def application(environ, start_response):
    body = b"method-body-0123456789"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body))),
                              ("X-Seen-Method", environ["REQUEST_METHOD"])])
    return [body]
