# mod_wsgi 6 script reloading hook (tests/test_semantics_61.py): the server
# calls reload_required(resource) before reusing this module; the state
# directory's reload.flag decides: "yes" asks for a reload, "raise" raises.
# Each call's resource is appended to reload-calls.log. The response is a
# token made when the module was executed (a reload gives a new one).
import os
import uuid

STATE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "state")
TOKEN = uuid.uuid4().hex


def reload_required(resource):
    with open(os.path.join(STATE, "reload-calls.log"), "a") as f:
        f.write("%s\n" % resource)
    try:
        with open(os.path.join(STATE, "reload.flag")) as f:
            flag = f.read().strip()
    except FileNotFoundError:
        return False
    if flag == "raise":
        raise RuntimeError("reload-hook-failed-4c1e")
    return flag == "yes"


def application(environ, start_response):
    body = TOKEN.encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
