# Raises inside the application callable, before start_response.
def application(environ, start_response):
    raise RuntimeError("app-failure-" + (environ.get("QUERY_STRING") or "x"))
