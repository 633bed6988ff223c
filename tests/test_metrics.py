"""The wsgi-metrics handler (issue #19): Prometheus text and OpenMetrics
exposition of figures summed over every Apache child and daemon process,
checked against known traffic in the run's mode (MOD_WSGI_TEST_MODE=
embedded: the main group is %{GLOBAL}; =daemon: a daemon group "mx").
Each test compares a scrape after its traffic with one before, so tests
sharing the server do not disturb each other. A second group "recycle"
(maximum-requests=3, one process, one thread) is there in both runs for the
restart counts; mod_wsgi.server_metrics() in a daemon answers from the
first start (the daemons are forked once Apache has its scoreboard)."""

import os
import re
import signal
import threading
import uuid

import pytest

from harness.apache import DAEMON_MODE, IMPL, wait_for

pytestmark = pytest.mark.skipif(IMPL != "rs", reason="the wsgi-metrics handler is mod_wsgi_rs's")

GROUP = "mx" if DAEMON_MODE else "%{GLOBAL}"
PROCESSES, THREADS = 2, 4

BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIServerMetrics On
WSGIDaemonProcess recycle processes=1 threads=1 maximum-requests=3 server-metrics=On
WSGIScriptAlias /r @APPS@/metrics.wsgi process-group=recycle
WSGIDaemonProcess crash processes=1 threads=1
WSGIScriptAlias /c @APPS@/metrics.wsgi process-group=crash
<Location /server-metrics>
    SetHandler wsgi-metrics
    Require local
</Location>
""" + ("""
WSGIDaemonProcess mx processes=%d threads=%d server-metrics=On
WSGIScriptAlias /m @APPS@/metrics.wsgi process-group=mx
""" % (PROCESSES, THREADS) if DAEMON_MODE else """
WSGIScriptAlias /m @APPS@/metrics.wsgi process-group=%{GLOBAL}
""")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text):
    """The samples of a text exposition: {(name, frozenset(labels)): value}."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "malformed sample line %r" % line
        labels = frozenset(LABEL.findall(m.group(2) or ""))
        key = (m.group(1), labels)
        assert key not in out, "duplicate series %r" % (key,)
        out[key] = float(m.group(3))
    return out


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(BODY, name="metrics")


def scrape(srv, headers=None):
    r = srv.get("/server-metrics", headers=headers)
    assert r.status == 200, (r.status, r.text, srv.error_log_tail())
    return r


def figures(srv):
    return parse(scrape(srv).text)


def value(f, name, **labels):
    return f.get((name, frozenset(labels.items())), 0.0)


def requests(f, code, group=GROUP):
    return value(f, "mod_wsgi_requests_total", group=group, code=str(code))


def bucket(f, le, name="mod_wsgi_request_duration_seconds", group=GROUP):
    return value(f, name + "_bucket", group=group, le=le)


def count(f, name="mod_wsgi_request_duration_seconds", group=GROUP):
    return value(f, name + "_count", group=group)


def get_ok(srv, path, status=200):
    r = srv.get(path)
    assert r.status == status, (path, r.status, srv.error_log_tail())
    return r


def test_text_format_and_headers(srv):
    r = scrape(srv)
    assert r.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8"
    assert "# EOF" not in r.text
    f = parse(r.text)
    assert value(f, "mod_wsgi_processes", group="%{GLOBAL}") >= 1
    assert ("mod_wsgi_processes", frozenset({("group", "recycle")})) in f


def test_requests_counted_exactly_by_code(srv):
    before = figures(srv)
    for _ in range(20):
        get_ok(srv, "/m/ok")
    for _ in range(5):
        get_ok(srv, "/m/fail", 500)
    for _ in range(3):
        get_ok(srv, "/m/missing", 404)
    for _ in range(2):
        get_ok(srv, "/m/teapot", 418)
    after = figures(srv)
    assert requests(after, 200) - requests(before, 200) == 20
    assert requests(after, 500) - requests(before, 500) == 5
    assert requests(after, 404) - requests(before, 404) == 3
    assert requests(after, "other") - requests(before, "other") == 2
    assert count(after) - count(before) == 30
    assert bucket(after, "+Inf") - bucket(before, "+Inf") == 30
    # nothing leaks into the other groups
    assert requests(after, 200, "recycle") == requests(before, 200, "recycle")


def test_exact_under_concurrency(srv):
    before = figures(srv)
    errors = []

    def client():
        try:
            for _ in range(50):
                r = srv.get("/m/ok")
                if r.status != 200:
                    errors.append(r.status)
        except Exception as e:  # reported below
            errors.append(e)
    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    after = figures(srv)
    assert requests(after, 200) - requests(before, 200) == 400
    assert count(after) - count(before) == 400
    if DAEMON_MODE:
        q = "mod_wsgi_queue_duration_seconds"
        assert count(after, q) - count(before, q) == 400


def test_slow_request_lands_in_its_bucket(srv):
    before = figures(srv)
    get_ok(srv, "/m/slow?ms=300")
    after = figures(srv)
    d = {le: bucket(after, le) - bucket(before, le) for le in ("0.25", "0.5", "1", "+Inf")}
    assert d["0.25"] == 0, d
    assert d["1"] == d["+Inf"] == 1, d
    name = "mod_wsgi_request_duration_seconds_sum"
    assert value(after, name, group=GROUP) - value(before, name, group=GROUP) >= 0.3


def test_busy_threads_and_buffered_body_during_a_held_request(srv):
    tag = uuid.uuid4().hex[:8]
    held = os.path.join(srv.state, "held-" + tag)
    body = b"x" * 100000
    result = []
    t = threading.Thread(target=lambda: result.append(
        srv.post("/m/hold?tag=" + tag, body, timeout=30)))
    t.start()
    try:
        wait_for(lambda: os.path.exists(held), timeout=10, what="the held request")
        f = figures(srv)
        assert value(f, "mod_wsgi_threads", group=GROUP, state="busy") == 1
        if DAEMON_MODE:
            assert value(f, "mod_wsgi_request_body_buffers", group="%{GLOBAL}") == 1
            assert value(f, "mod_wsgi_request_body_buffered_bytes",
                         group="%{GLOBAL}") == len(body)
    finally:
        open(os.path.join(srv.state, "release-" + tag), "w").close()
        t.join()
    assert result and result[0].status == 200
    f = wait_for(lambda: (lambda f: f if value(f, "mod_wsgi_threads", group=GROUP,
                                                state="busy") == 0 else None)(figures(srv)),
                 timeout=5, what="the thread idle again")
    assert value(f, "mod_wsgi_request_body_buffered_bytes", group="%{GLOBAL}") == 0


def test_processes_threads_and_memory(srv):
    get_ok(srv, "/m/ok")
    f = figures(srv)
    busy = value(f, "mod_wsgi_threads", group=GROUP, state="busy")
    idle = value(f, "mod_wsgi_threads", group=GROUP, state="idle")
    if DAEMON_MODE:
        assert value(f, "mod_wsgi_processes", group=GROUP) == PROCESSES
        assert busy + idle == PROCESSES * THREADS
    else:
        assert value(f, "mod_wsgi_processes", group=GROUP) >= 1
        assert busy + idle >= 1
    rss = {dict(k[1])["pid"]: v for k, v in f.items()
           if k[0] == "mod_wsgi_process_resident_memory_bytes"
           and dict(k[1])["group"] == GROUP}
    assert len(rss) == value(f, "mod_wsgi_processes", group=GROUP)
    assert all(v > 1 << 20 for v in rss.values()), rss


def restarts(f, reason, group="recycle"):
    return value(f, "mod_wsgi_process_restarts_total", group=group, reason=reason)


def test_maximum_requests_restart_is_counted(srv):
    first = int(get_ok(srv, "/r/pid").text)
    before = figures(srv)
    pids = {first}
    # maximum-requests=3: the process serving these retires at its third.
    for _ in range(3):
        pids.add(int(get_ok(srv, "/r/pid").text))
    f = wait_for(lambda: (lambda f: f if restarts(f, "maximum-requests")
                          > restarts(before, "maximum-requests") else None)(figures(srv)),
                 timeout=15, what="restarts_total{reason=maximum-requests}")
    assert restarts(f, "maximum-requests") - restarts(before, "maximum-requests") == 1
    new = int(get_ok(srv, "/r/pid").text)
    assert new not in pids or len(pids) > 1


def test_killed_worker_is_counted_by_its_signal(srv):
    pid = int(get_ok(srv, "/c/pid").text)
    before = figures(srv)
    assert value(before, "mod_wsgi_processes", group="crash") == 1
    os.kill(pid, signal.SIGKILL)
    f = wait_for(lambda: (lambda f: f if restarts(f, "signal:SIGKILL", "crash")
                          > restarts(before, "signal:SIGKILL", "crash") else None)(figures(srv)),
                 timeout=15, what="restarts_total{reason=signal:SIGKILL}")
    assert restarts(f, "signal:SIGKILL", "crash") - \
        restarts(before, "signal:SIGKILL", "crash") == 1
    assert sum(v for k, v in f.items() if k[0] == "mod_wsgi_process_restarts_total"
               and ("group", "crash") in k[1]) == 1
    assert int(wait_for(lambda: srv.get("/c/pid").text, timeout=15,
                        what="a new worker")) != pid


def test_openmetrics_when_asked(srv):
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    get_ok(srv, "/m/ok")
    r = scrape(srv, {"Accept": "application/openmetrics-text;version=1.0.0,"
                               "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"})
    assert r.header("Content-Type") == \
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    assert r.text.endswith("# EOF\n")
    families = {m.name: m for m in text_string_to_metric_families(r.text)}
    assert families["mod_wsgi_requests"].type == "counter"
    assert families["mod_wsgi_request_duration_seconds"].type == "histogram"
    assert any(s.labels.get("group") == GROUP and s.labels.get("code") == "200"
               for s in families["mod_wsgi_requests"].samples)


def test_text_format_parses_with_prometheus_client(srv):
    from prometheus_client.parser import text_string_to_metric_families
    families = {m.name: m for m in text_string_to_metric_families(scrape(srv).text)}
    assert families["mod_wsgi_threads"].type == "gauge"
    assert families["mod_wsgi_request_duration_seconds"].type == "histogram"


def test_only_get_and_head(srv):
    r = srv.post("/server-metrics", b"")
    assert r.status == 405
    r = srv.request("HEAD", "/server-metrics")
    assert r.status == 200 and r.body == b""


def test_server_metrics_python_api_has_the_groups(srv):
    get_ok(srv, "/m/ok")
    sm = get_ok(srv, "/m/sm").json()
    assert sm is not None, "server_metrics() is None in the %s group" % GROUP
    assert {"processes", "server_limit", "groups"} <= set(sm["keys"])
    mine = sm["groups"][GROUP]
    assert mine["requests"]["200"] >= 1
    assert mine["request_duration"]["count"] >= 1
    assert {"threads_busy", "threads_idle", "processes", "restarts"} <= set(mine)


def test_server_metrics_in_a_daemon_at_first_start(srv):
    """The daemon groups are forked in pre_mpm at the first start, after
    Apache created its scoreboard: server_metrics() answers at once."""
    sm = get_ok(srv, "/r/sm").json()
    assert sm is not None
    assert "processes" in sm["keys"]
