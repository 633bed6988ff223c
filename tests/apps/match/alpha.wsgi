# Served through WSGIScriptAliasMatch ^/m/([^/]+) .../match/$1.wsgi
def application(environ, start_response):
    body = ("match-alpha SCRIPT_NAME=%s PATH_INFO=%s" % (
        environ["SCRIPT_NAME"], environ.get("PATH_INFO", ""))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
