# Answers with the status code given as ?code=NNN and a body naming it.
def application(environ, start_response):
    code = environ.get("QUERY_STRING") or "200"
    reasons = {"200": "OK", "404": "Not Found", "500": "Internal Server Error",
               "403": "Forbidden"}
    body = ("app-body-%s" % code).encode("ascii")
    start_response("%s %s" % (code, reasons.get(code, "Whatever")),
                   [("Content-Type", "text/plain"),
                    ("Content-Length", str(len(body)))])
    return [body]
