# Writes ?token to stdout (print), sys.stderr and wsgi.errors.
import sys


def application(environ, start_response):
    token = environ.get("QUERY_STRING") or "none"
    print("stdout-line-" + token)
    sys.stdout.flush()
    sys.stderr.write("stderr-line-" + token + "\n")
    sys.stderr.flush()
    errors = environ["wsgi.errors"]
    errors.write("wsgi-errors-line-" + token + "\n")
    errors.writelines(["wsgi-errors-writelines-" + token + "\n"])
    errors.flush()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"logged"]
