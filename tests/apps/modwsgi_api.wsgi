# The mod_wsgi Python API (tests/test_mod_wsgi_api.py): attributes,
# events, metrics, LogHandler, RequestTimeout, shutdown callbacks.
# Events of requests tagged ?tag=... are written to STATE_DIR as JSON lines
# (events-<tag>.jsonl), so a test can read them whichever process served.
import json
import logging
import os
import sys
import threading
import time
from urllib.parse import parse_qs

import mod_wsgi

try:
    import apache
except ImportError:  # pragma: no cover - reported by op=attrs
    apache = None

LOADED_IN_GROUP = mod_wsgi.application_group
try:
    mod_wsgi.request_data()
    LOADED_DURING_REQUEST = True
except RuntimeError:  # preloaded: no request on this thread
    LOADED_DURING_REQUEST = False
STATE = None


def state_dir(environ=None):
    global STATE
    if STATE is None and environ is not None:
        STATE = environ.get("STATE_DIR")
    return STATE or os.environ.get("STATE_DIR")


def plain(value):
    """The event value as JSON can carry it."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return repr(value)


def write_atomically(name, value):
    """A test polls for the file: it appears complete or not at all."""
    path = os.path.join(state_dir(), name)
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.rename(path + ".tmp", path)


def wrap(app):
    def wrapped(environ, start_response):
        for block in app(environ, start_response):
            yield block
        yield b" (wrapped)"
    return wrapped


@mod_wsgi.subscribe_events
def on_event(name, **event):
    data = event.get("request_data")
    if data is None:
        data = {}
    tag = data.get("tag")
    if name == "request_started":
        env = event["request_environ"]
        state_dir(env)
        q = parse_qs(env.get("QUERY_STRING", ""))
        tag = q.get("tag", [None])[0]
        if tag is None:
            return None
        data["tag"] = tag
        data["environ_request_id"] = env.get("mod_wsgi.request_id")
    if name == "process_stopping":
        write_atomically("stopping-event-%d" % os.getpid(), plain(event))
        return None
    if not tag:
        return None
    record = {"name": name, "pid": os.getpid()}
    for key, value in event.items():
        if key in ("request_environ", "application_object"):
            record[key] = type(value).__name__
        elif key == "exception_info":
            record[key] = None if value is None else value[0].__name__
        else:
            record[key] = plain(value)
    with open(os.path.join(state_dir(), "events-%s.jsonl" % tag), "a") as f:
        f.write(json.dumps(record) + "\n")
    if name == "request_started" and tag.startswith("wrap"):
        return {"application_object": wrap(event["application_object"])}
    return None


@mod_wsgi.subscribe_shutdown
def on_shutdown(name, **event):
    write_atomically("stopping-%d" % os.getpid(),
                     {"name": name, "reason": event.get("shutdown_reason")})


def attrs(environ):
    m = mod_wsgi
    out = {
        "pid": os.getpid(),
        "version": list(m.version),
        "version_types": [type(x).__name__ for x in m.version],
        "implementation_version": list(getattr(m, "implementation_version", ())),
        "process_group": m.process_group,
        "application_group": m.application_group,
        "loaded_in_group": LOADED_IN_GROUP,
        "loaded_during_request": LOADED_DURING_REQUEST,
        "environ_group": environ.get("mod_wsgi.application_group"),
        "maximum_processes": m.maximum_processes,
        "threads_per_process": m.threads_per_process,
        "file_wrapper": m.FileWrapper is environ["wsgi.file_wrapper"],
        "request_timeout_bases": [c.__name__ for c in m.RequestTimeout.__mro__],
        "request_timeout_name": m.RequestTimeout.__module__ + "." + m.RequestTimeout.__name__,
        "log_handler": issubclass(m.LogHandler, logging.Handler),
        "request_data_is_dict": type(m.request_data()).__name__,
        "request_data_same": m.request_data() is m.request_data(),
        "active_request": m.active_requests.get(environ.get("mod_wsgi.request_id")) is m.request_data(),
        "event_callbacks": len(m.event_callbacks),
        "shutdown_callbacks": len(m.shutdown_callbacks),
        "server_metrics": m.server_metrics() is not None,
        "functions": sorted(n for n in ("subscribe_events", "subscribe_shutdown",
                                        "request_data", "request_metrics",
                                        "process_metrics", "server_metrics",
                                        "start_recording_metrics")
                            if callable(getattr(m, n, None))),
    }
    if apache is not None:
        out["apache"] = {
            "version": list(apache.version),
            "mpm_name": apache.mpm_name,
            "maximum_processes": apache.maximum_processes,
            "threads_per_process": apache.threads_per_process,
            "description": apache.description,
            "build_date": apache.build_date,
        }
    return out


def metrics():
    was = mod_wsgi.process_metrics()
    mod_wsgi.start_recording_metrics()
    return {
        "pid": os.getpid(),
        "was_none": was is None,
        "process": mod_wsgi.process_metrics(),
        "request": mod_wsgi.request_metrics(),
    }


def server_metrics():
    sm = mod_wsgi.server_metrics()
    if sm is None:
        return None
    statuses = sorted({w["status"] for p in sm["processes"] for w in p["workers"]})
    return {
        "keys": sorted(sm),
        "server_limit": sm["server_limit"],
        "thread_limit": sm["thread_limit"],
        "processes": len(sm["processes"]),
        "pids": [p["pid"] for p in sm["processes"] if p["pid"]],
        "statuses": statuses,
        "worker_keys": sorted(sm["processes"][0]["workers"][0]),
    }


def log_levels(tag):
    logger = logging.getLogger("modwsgi-api-" + tag)
    logger.propagate = False
    handler = mod_wsgi.LogHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.critical("loghandler %s critical", tag)
        logger.error("loghandler %s error", tag)
        logger.warning("loghandler %s warning", tag)
        logger.info("loghandler %s info", tag)
        logger.debug("loghandler %s debug", tag)
    finally:
        logger.removeHandler(handler)


def spin(environ, catch):
    try:
        while True:
            pass
    except mod_wsgi.RequestTimeout:
        if catch:
            path = os.path.join(state_dir(environ), "caught-%s" % catch)
            with open(path, "w") as f:
                f.write("RequestTimeout")
        raise


def application(environ, start_response):
    state_dir(environ)
    q = parse_qs(environ.get("QUERY_STRING", ""))
    op = q.get("op", ["attrs"])[0]
    tag = q.get("tag", [""])[0]
    if op == "raise":
        raise ValueError("modwsgi-api raised on purpose")
    if op == "spin":
        spin(environ, tag)
    if op == "sleep":
        time.sleep(float(q.get("s", ["0.2"])[0]))
    if op == "log":
        log_levels(tag)
        out = {"logged": tag}
    elif op == "thread_group":
        seen = []
        t = threading.Thread(target=lambda: seen.append(mod_wsgi.application_group))
        t.start()
        t.join()
        out = {"request_thread": mod_wsgi.application_group, "other_thread": seen[0]}
    elif op == "metrics":
        out = metrics()
    elif op == "server_metrics":
        out = {"server_metrics": server_metrics()}
    else:
        out = attrs(environ)
        body = environ["wsgi.input"].read()
        out["input_length"] = len(body)
    data = json.dumps(out).encode()
    headers = [("Content-Type", "application/json")]
    if not tag.startswith("wrap"):
        # a wrapping subscriber adds to the body
        headers.append(("Content-Length", str(len(data))))
    start_response("200 OK", headers)
    return [data]
