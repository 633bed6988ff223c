"""The mod_wsgi Python API (the `mod_wsgi` and `apache` modules) in both
modes: attributes, request_data/active_requests, the events
(request_started, response_started, request_finished, request_exception,
process_stopping) with their documented fields, shutdown callbacks,
metrics, LogHandler's level mapping, and RequestTimeout raised by
interrupt-timeout= in a daemon thread stuck in a pure Python loop (504, the
thread recovers, the process keeps serving).

Run with MOD_WSGI_TEST_MODE=embedded and =daemon: the main server's
requests go to the run's mode; the interrupt-timeout and server-metrics
servers set up their own daemon groups (embedded run only)."""

import json
import os
import re
import time
import uuid

import pytest

from harness.apache import DAEMON_MODE, DAEMON_PROCESSES, DAEMON_THREADS, IMPL, wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN

ONE_INTERPRETER = pytest.mark.skipif(
    IMPL != "rs",
    reason="mod_wsgi_rs runs every application group of a process in one interpreter: "
           "application_group is the group of the script running on the calling thread, "
           "not the interpreter's")
RS_ONLY = pytest.mark.skipif(IMPL != "rs", reason="a mod_wsgi_rs addition")

BODY = r"""
WSGIScriptAlias /api @APPS@/modwsgi_api.wsgi
WSGIScriptAlias /other @APPS@/modwsgi_api.wsgi application-group=other
WSGIScriptAlias /pre @APPS@/modwsgi_api.wsgi application-group=pre process-group=@PROCESS_GROUP@
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="api")


def get_json(srv, path, body=None):
    if body is None:
        r = srv.get(path)
    else:
        r = srv.post(path, body)
    assert r.status == 200, (r, srv.error_log_tail())
    return json.loads(r.body.split(b" (wrapped)")[0])


def read_events(srv, tag, names, timeout=5.0):
    path = os.path.join(srv.state, "events-%s.jsonl" % tag)

    def have():
        try:
            with open(path) as f:
                evs = [json.loads(line) for line in f if line.endswith("\n")]
        except FileNotFoundError:
            return None
        got = {e["name"] for e in evs}
        return evs if set(names) <= got else None
    evs = wait_for(have, timeout=timeout, what="events %r of %s" % (names, tag))
    return {e["name"]: e for e in evs}


# ------------------------------------------------------------ attributes

def test_module_attributes(srv):
    a = get_json(srv, "/api")
    assert a["version"][:2] == [6, 1] and a["version_types"] == ["int"] * 3, a
    if DAEMON_MODE:
        assert a["process_group"] == "testgroup"
        assert a["maximum_processes"] == DAEMON_PROCESSES
        assert a["threads_per_process"] == DAEMON_THREADS
    else:
        assert a["process_group"] == ""
        # the MPM's values (ThreadsPerChild 25 in the harness config)
        assert a["threads_per_process"] == 25
        assert a["maximum_processes"] == a["apache"]["maximum_processes"] >= 1
    assert a["file_wrapper"] is True
    assert a["request_timeout_name"] == "mod_wsgi.RequestTimeout"
    assert "BaseException" in a["request_timeout_bases"]
    assert "Exception" not in a["request_timeout_bases"]
    assert a["log_handler"] is True
    assert a["request_data_is_dict"] == "dict" and a["request_data_same"] is True
    assert a["active_request"] is True
    assert a["event_callbacks"] >= 1 and a["shutdown_callbacks"] >= 1
    assert a["functions"] == sorted([
        "process_metrics", "request_data", "request_metrics", "server_metrics",
        "start_recording_metrics", "subscribe_events", "subscribe_shutdown"])


@RS_ONLY
def test_implementation_version(srv):
    a = get_json(srv, "/api")
    assert len(a["implementation_version"]) == 3
    assert all(isinstance(x, int) for x in a["implementation_version"])


def test_apache_module(srv):
    a = get_json(srv, "/api")["apache"]
    assert a["version"][:2] == [2, 4] and len(a["version"]) == 3
    assert a["mpm_name"] == "event"
    assert a["threads_per_process"] == 25
    assert a["maximum_processes"] >= 1
    assert a["description"].startswith("Apache/2.4")
    assert a["build_date"]


def test_application_group_is_the_running_scripts(srv):
    a = get_json(srv, "/api")
    assert a["application_group"] == a["environ_group"] == "127.0.0.1:%d|/api" % srv.port
    assert a["loaded_in_group"] == a["application_group"]
    b = get_json(srv, "/other")
    assert b["application_group"] == b["environ_group"] == "other"
    assert b["loaded_in_group"] == "other"
    assert a["loaded_during_request"] is True


def test_application_group_while_preloading(srv):
    """A script preloaded (both groups given) runs its module at process
    start, outside any request, in its application group."""
    p = get_json(srv, "/pre")
    assert p["loaded_during_request"] is False
    assert p["loaded_in_group"] == p["application_group"] == "pre"


@ONE_INTERPRETER
def test_application_group_outside_a_request_thread(srv):
    """A thread the application starts runs no script: it sees "" (6.1
    answers the group of the interpreter the thread runs in)."""
    a = get_json(srv, "/other?op=thread_group")
    assert a == {"request_thread": "other", "other_thread": ""}


def test_server_metrics_off_by_default(srv):
    assert get_json(srv, "/api")["server_metrics"] is False


# ------------------------------------------------------------ events

def test_request_events_fields(srv):
    tag = "ev" + uuid.uuid4().hex[:8]
    t0 = time.time()
    out = get_json(srv, "/api?tag=" + tag, body=b"x" * 1000)
    t1 = time.time()
    assert out["input_length"] == 1000
    ev = read_events(srv, tag, ["request_started", "response_started", "request_finished"])
    st, rs, fin = ev["request_started"], ev["response_started"], ev["request_finished"]
    rid = st["request_data"]["environ_request_id"]
    assert rid and st["request_id"] == rs["request_id"] == fin["request_id"] == rid
    assert isinstance(st["thread_id"], int) and st["thread_id"] >= 1
    assert fin["thread_id"] == st["thread_id"]
    assert st["request_environ"] == "dict" and st["application_object"] == "function"
    assert st["callable_object"] == "application"
    # times are seconds since the epoch, ordered
    assert t0 - 1 <= st["request_start"] <= st["application_start"] <= t1
    if DAEMON_MODE:
        assert st["request_start"] <= st["queue_start"] <= st["daemon_start"]
        assert st["daemon_start"] <= st["application_start"]
    else:
        assert st["queue_start"] == 0.0 and st["daemon_start"] == 0.0
    assert st["application_start"] <= fin["application_finish"] <= t1 + 1
    assert 0 <= fin["application_time"] <= fin["application_finish"] - st["request_start"] + 0.01
    assert fin["status"] == 200
    assert rs["response_status"] == "200 OK"
    assert ["Content-Type", "application/json"] in rs["response_headers"]
    assert rs["exception_info"] is None
    assert fin["input_length"] == 1000 and fin["input_reads"] >= 1
    assert fin["output_length"] > 0 and fin["output_writes"] >= 1
    assert 0 <= fin["cpu_time"] <= fin["application_time"] + 1e-6
    assert abs(fin["cpu_user_time"] + fin["cpu_system_time"] - fin["cpu_time"]) < 1e-6
    assert fin["gil_wait_time"] >= 0 and fin["gil_wait_count"] >= 1
    assert fin["request_data"]["tag"] == tag
    assert "request_exception" not in ev


def test_request_exception_event(srv):
    tag = "ex" + uuid.uuid4().hex[:8]
    r = srv.get("/api?op=raise&tag=" + tag)
    assert r.status == 500
    ev = read_events(srv, tag, ["request_started", "request_exception", "request_finished"])
    assert ev["request_exception"]["exception_info"] == "ValueError"
    assert ev["request_exception"]["request_id"] == ev["request_started"]["request_id"]
    assert ev["request_finished"]["status"] == 500


def test_request_started_may_wrap_the_application(srv):
    tag = "wrap" + uuid.uuid4().hex[:8]
    r = srv.get("/api?tag=" + tag)
    assert r.status == 200
    assert r.body.endswith(b" (wrapped)"), r.body[-60:]


def test_request_data_is_per_request(srv):
    a = read_events(srv, "rd" + _tag_get(srv, "rd"), ["request_finished"])
    b = read_events(srv, "rd" + _tag_get(srv, "rd"), ["request_finished"])
    assert a["request_finished"]["request_data"]["tag"] != b["request_finished"]["request_data"]["tag"]


def _tag_get(srv, prefix):
    t = uuid.uuid4().hex[:8]
    assert srv.get("/api?tag=%s%s" % (prefix, t)).status == 200
    return t


# ------------------------------------------------------------ metrics

def test_metrics_recorded_after_start_recording(srv):
    seen = set()
    for _ in range(12):
        m = get_json(srv, "/api?op=metrics")
        pid = m["pid"]
        assert m["was_none"] is (pid not in seen), m
        seen.add(pid)
        p, r = m["process"], m["request"]
        assert p["pid"] == pid == r["pid"]
        assert p["active_requests"] >= 1 and p["request_threads"] >= 1
        assert p["current_time"] >= p["restart_time"] > 0
        assert p["memory_rss"] > 0 and p["cpu_time"] >= 0
        assert r["stop_time"] >= r["start_time"] and r["sample_period"] > 0
        for key in ("request_count", "request_throughput", "capacity_utilization",
                    "status_2xx", "server_time", "application_time"):
            assert key in r, key
    # A later sample counts the earlier requests of its process. Each is
    # counted as it ends, which may be just after its client has the whole
    # response (and the next request may go to another process): polled.
    def counted():
        m = get_json(srv, "/api?op=metrics")
        p = m["process"]
        return (m["pid"] in seen and p["request_count"] >= 1
                and any(t["request_count"] >= 1 for t in p["threads"]))
    wait_for(counted, timeout=10, interval=0.05,
             what="a sample counting its process's earlier requests")


# ------------------------------------------------------------ LogHandler

def test_log_handler_maps_levels(srv):
    tag = uuid.uuid4().hex[:8]
    mark = srv.log_mark()
    assert get_json(srv, "/api?op=log&tag=" + tag) == {"logged": tag}
    for level, apache in (("critical", "crit"), ("error", "error"),
                          ("warning", "warn"), ("info", "info"),
                          ("debug", "debug")):
        srv.wait_for_log(r"\[wsgi:%s\] .*loghandler %s %s$" % (apache, tag, level),
                         since=mark)
    text = srv.log_since(mark)
    line = [ln for ln in text.splitlines() if "loghandler %s error" % tag in ln][0]
    # logged with the request's context (mod_wsgi 6.1's daemons say
    # "[remote ...]", ours log through the Apache child: "[client ...]")
    assert re.search(r"\[(client|remote) 127\.0\.0\.1:\d+\]", line), line


# ------------------------------------------------------------ stopping

@pytest.mark.parametrize("how", ["graceful", "stop"])
def test_process_stopping_and_shutdown_callbacks(fresh_server, how):
    s = fresh_server(BODY, name="api-stop")
    pids = {get_json(s, "/api")["pid"] for _ in range(4)}
    if how == "graceful":
        s.graceful()
    else:
        s.stop()
    reason = ("shutdown_signal" if DAEMON_MODE else "")
    for pid in pids:
        path = os.path.join(s.state, "stopping-%d" % pid)
        wait_for(lambda: os.path.exists(path), timeout=10,
                 what="shutdown callback of pid %d" % pid)
        with open(path) as f:
            got = json.load(f)
        assert got == {"name": "process_stopping", "reason": reason}
        with open(os.path.join(s.state, "stopping-event-%d" % pid)) as f:
            assert json.load(f) == {"shutdown_reason": reason}


# ------------------------------------------------------------ RequestTimeout

DAEMON_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess it processes=1 threads=2 request-timeout=2 interrupt-timeout=4 graceful-timeout=2
WSGIDaemonProcess sm processes=1 threads=2 server-metrics=On
WSGIScriptAlias /it @APPS@/modwsgi_api.wsgi process-group=it
WSGIScriptAlias /sm @APPS@/modwsgi_api.wsgi process-group=sm
"""


@pytest.fixture(scope="module")
def dsrv(server_factory):
    return server_factory(DAEMON_BODY, name="api-daemon")


@pytest.mark.skipif(**SKIP_IN_DAEMON_RUN)
def test_request_timeout_interrupts_a_pure_python_loop(dsrv):
    pid = get_json(dsrv, "/it")["pid"]
    tag = "rt" + uuid.uuid4().hex[:8]
    mark = dsrv.log_mark()
    t0 = time.monotonic()
    r = dsrv.get("/it?op=spin&tag=" + tag, timeout=20)
    secs = time.monotonic() - t0
    assert r.status == 504, (r, dsrv.error_log_tail())
    assert 1.5 <= secs < 4.5, secs
    assert os.path.exists(os.path.join(dsrv.state, "caught-" + tag))
    dsrv.wait_for_log(r"Request interrupted by RequestTimeout; thread recovered", since=mark)
    ev = read_events(dsrv, tag, ["request_finished"])
    assert ev["request_finished"]["status"] == 504
    # the same process goes on serving, on both threads
    for _ in range(4):
        assert get_json(dsrv, "/it")["pid"] == pid
    assert "stopping:" not in dsrv.log_since(mark)


@pytest.mark.skipif(**SKIP_IN_DAEMON_RUN)
def test_server_metrics_when_enabled(dsrv):
    """server-metrics=On: the scoreboard; Off: None. The daemon processes
    are forked once Apache has created its scoreboard (pre_mpm at the
    first start, as in 6.1), so this holds from the first start, and in
    the next generation after a graceful restart."""
    assert get_json(dsrv, "/it?op=server_metrics")["server_metrics"] is None
    first = get_json(dsrv, "/sm?op=server_metrics")["server_metrics"]
    assert first is not None, "server_metrics() is None in a daemon at the first start"
    dsrv.graceful()
    sm = wait_for(lambda: get_json(dsrv, "/sm?op=server_metrics")["server_metrics"],
                  timeout=10, what="server_metrics() from the new generation")
    assert sm is not None
    assert {"server_limit", "thread_limit", "processes", "running_generation",
            "restart_time", "current_time", "running_time"} <= set(sm["keys"])
    assert sm["processes"] == sm["server_limit"] >= 1
    assert sm["pids"], sm
    assert set(sm["statuses"]) <= set("._SRWKLDCGI")
    assert {"status", "access_count", "client", "request", "vhost"} <= set(sm["worker_keys"])
