# startup-timeout test app (tests/test_process_lifecycle.py): the first
# process that imports it stays broken, like Django after a failed
# populate() ("populate() isn't reentrant"): every import in that process
# raises. The marker file in the state directory names that process; any
# other process imports it fine.
import os

_STATE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "state")
_MARKER = os.path.join(_STATE, "startup_fail.marker")

try:
    with open(_MARKER, "x") as f:
        f.write(str(os.getpid()))
    _broken = True
except FileExistsError:
    with open(_MARKER) as f:
        _broken = f.read().strip() == str(os.getpid())

if _broken:
    raise RuntimeError("populate() isn't reentrant (simulated in pid %d)"
                       % os.getpid())


def application(environ, start_response):
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body))),
                              ("X-Pid", str(os.getpid()))])
    return [body]
