# Facts about the embedded interpreter, as JSON.
import json
import os
import signal
import sys
import threading
import time


def _sig_handler(signum, frame):  # pragma: no cover - never delivered
    pass


def _interpreter_id():
    # CPython-private; the main interpreter is 0
    for name in ("_xxsubinterpreters", "_interpreters"):
        try:
            mod = __import__(name)
            cur = mod.get_current()
            return int(cur[0] if isinstance(cur, tuple) else cur)
        except Exception:
            continue
    return None


def application(environ, start_response):
    info = {
        "pid": os.getpid(),
        "optimize": sys.flags.optimize,
        "dont_write_bytecode": sys.dont_write_bytecode,
        "hash_randomization": sys.flags.hash_randomization,
        "sys_path": sys.path,
        "executable": sys.executable,
        "version": list(sys.version_info[:3]),
        "main_thread": threading.current_thread() is threading.main_thread(),
        "thread": threading.get_ident(),
        "interpreter_id": _interpreter_id(),
        "module": __name__,
        "module_globals": id(globals()),
    }
    try:
        import wsgi_test_helper
        info["helper"] = wsgi_test_helper.VALUE
    except ImportError as e:
        info["helper"] = None
        info["helper_error"] = str(e)
    # sys.stdin must be restricted by default
    try:
        data = sys.stdin.read(1)
        info["stdin"] = {"raised": False, "value": repr(data)}
    except BaseException as e:
        info["stdin"] = {"raised": True, "type": type(e).__name__,
                         "message": str(e)}
    # signal.signal must not install handlers by default
    if "signal=1" in environ.get("QUERY_STRING", ""):
        before = signal.getsignal(signal.SIGUSR2)
        try:
            ret = signal.signal(signal.SIGUSR2, _sig_handler)
            info["signal"] = {"raised": False, "returned": repr(ret)}
        except BaseException as e:
            info["signal"] = {"raised": True, "type": type(e).__name__,
                              "message": str(e)}
        info["signal"]["installed"] = signal.getsignal(signal.SIGUSR2) is _sig_handler
        info["signal"]["before"] = repr(before)
    preload = sys.modules.get("__wsgi_test_preload__")
    info["preload"] = None if preload is None else {
        "pid": preload.pid, "time": preload.time}
    info["now"] = time.time()
    body = json.dumps(info).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
