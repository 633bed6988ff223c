# Sleeps QUERY_STRING seconds (default 0.005: a database call, say), then
# answers "ok" (bench/switches --path '/sleep?0.005').
import time


def application(environ, start_response):
    time.sleep(float(environ.get("QUERY_STRING") or "0.005"))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
