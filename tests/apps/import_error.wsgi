# Fails at import time.
raise RuntimeError("import-time-failure-7d41")


def application(environ, start_response):  # never reached
    start_response("200 OK", [])
    return [b"unreachable"]
