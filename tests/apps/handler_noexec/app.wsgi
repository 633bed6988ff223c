# Served through AddHandler wsgi-script .wsgi
def application(environ, start_response):
    body = ("handler-app SCRIPT_NAME=%s PATH_INFO=%s handler=%s" % (
        environ["SCRIPT_NAME"], environ.get("PATH_INFO", ""),
        environ.get("mod_wsgi.request_handler"))).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
