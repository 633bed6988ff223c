"""How processes end (issue #15, life cycle): Python atexit handlers run
once per process when an embedded Apache child or a daemon process ends
normally (stop, graceful restart, recycling), bounded so a hanging handler
cannot hold the exit up; SIGUSR1 restarts one daemon process gracefully
(eviction-timeout); startup-timeout= restarts a daemon whose application
never loaded; threads=0 runs import scripts only and answers 503.

Each test sets its mode up itself (embedded, or its own daemon groups), so
the file runs in the embedded pass only."""

import collections
import os
import signal
import threading
import time

import pytest

from harness.apache import pid_alive, wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]


# ------------------------------------------------------------ atexit.log
def atexit_lines(srv):
    try:
        with open(os.path.join(srv.state, "atexit.log")) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def registered(srv):
    return {int(line.split()[1]) for line in atexit_lines(srv)
            if line.startswith("registered ")}


def ran(srv):
    return collections.Counter(int(line.split()[1]) for line in atexit_lines(srv)
                               if line.startswith("atexit "))


def registrations(srv):
    return collections.Counter(int(line.split()[1]) for line in atexit_lines(srv)
                               if line.startswith("registered "))


def assert_ran_once(srv, pids, timeout=10):
    """Each of ``pids`` ran its atexit handler exactly once per registration
    (once, unless its script was executed again: a reload)."""
    assert pids
    wait_for(lambda: all(ran(srv)[p] >= 1 for p in pids), timeout=timeout,
             what="atexit handlers of %r (log: %r)" % (sorted(pids), atexit_lines(srv)))
    counts, wanted = ran(srv), registrations(srv)
    assert all(counts[p] == wanted[p] >= 1 for p in pids), (sorted(pids), atexit_lines(srv))


def pid_of(r):
    assert r.status == 200, r
    return int(r.header("X-Pid"))


# ----------------------------------------------------------- embedded mode
EMBEDDED = r"""
WSGIScriptAlias /app @APPS@/atexit.wsgi
"""


def test_embedded_atexit_runs_at_stop(fresh_server):
    srv = fresh_server(EMBEDDED, name="lc-emb-stop")
    pid = pid_of(srv.get("/app"))
    assert registered(srv) == {pid}
    srv.stop()
    assert_ran_once(srv, {pid}, timeout=1)


def test_embedded_atexit_runs_at_graceful_restart(fresh_server):
    srv = fresh_server(EMBEDDED, name="lc-emb-graceful")
    old = pid_of(srv.get("/app"))
    srv.graceful()
    assert_ran_once(srv, {old})
    new = pid_of(srv.get("/app"))
    assert new != old
    assert ran(srv)[new] == 0
    srv.stop()
    assert_ran_once(srv, {old, new}, timeout=1)


def test_embedded_atexit_runs_when_a_child_recycles(fresh_server):
    """MaxConnectionsPerChild: Apache's counterpart of maximum-requests."""
    srv = fresh_server(EMBEDDED + "MaxConnectionsPerChild 2\n",
                       mpm="prefork", name="lc-emb-recycle")
    # Four prefork children share the connections: keep asking until one
    # child is seen to have been replaced after its 2 connections.
    seen = collections.Counter()
    t0 = time.monotonic()
    while not any(n >= 2 and not pid_alive(p) for p, n in seen.items()):
        seen[pid_of(srv.get("/app"))] += 1
        assert time.monotonic() - t0 < 15, seen
        time.sleep(0.02)
    recycled = {p for p, n in seen.items() if n >= 2 and not pid_alive(p)}
    assert_ran_once(srv, recycled)
    srv.stop()
    assert_ran_once(srv, registered(srv), timeout=1)


def test_embedded_hanging_atexit_handler_is_cut(fresh_server):
    """A handler that sleeps 60 s: the Apache child still exits by itself
    (3 s bound), within the harness's stop grace, and says so."""
    srv = fresh_server(EMBEDDED, name="lc-emb-hang")
    pid = pid_of(srv.get("/app?hang=60"))
    mark = srv.log_mark()
    srv.stop()
    assert srv.unclean_shutdown == [], srv.unclean_shutdown
    assert srv.stop_seconds < 5, srv.stop_seconds
    assert ("Apache child process (pid %d) exiting; Python atexit handlers did not "
            "finish within 3 s" % pid) in srv.log_since(mark)
    assert ran(srv)[pid] == 0


# ------------------------------------------------------------- daemon mode
def daemon_body(options="", alias_extra=""):
    return r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess lc processes=1 threads=4 %s
WSGIScriptAlias /app @APPS@/atexit.wsgi process-group=lc %s
""" % (options, alias_extra)


def test_daemon_atexit_runs_at_stop(fresh_server):
    srv = fresh_server(daemon_body(), name="lc-d-stop")
    pid = pid_of(srv.get("/app"))
    mark = srv.log_mark()
    srv.stop()
    assert_ran_once(srv, {pid}, timeout=1)
    log = srv.log_since(mark)
    assert "(pid %d): stopping: a stop signal arrived" % pid in log, log


def test_daemon_atexit_runs_at_graceful_restart(fresh_server):
    srv = fresh_server(daemon_body(), name="lc-d-graceful")
    old = pid_of(srv.get("/app"))
    srv.graceful()
    assert_ran_once(srv, {old})
    new = wait_for(lambda: (lambda p: p != old and p)(pid_of(srv.get("/app"))),
                   timeout=10, what="a new daemon process")
    srv.stop()
    assert_ran_once(srv, {old, new}, timeout=1)


@pytest.mark.parametrize("limit,reason", [
    ("maximum-requests=3", "maximum-requests reached"),
    ("inactivity-timeout=1", "inactivity-timeout reached"),
    ("restart-interval=2", "restart-interval reached"),
    ("request-timeout=1 graceful-timeout=1", "request-timeout exceeded"),
])
def test_daemon_atexit_runs_when_recycled(fresh_server, limit, reason):
    srv = fresh_server(daemon_body(limit), name="lc-d-" + limit.split("=")[0])
    first = pid_of(srv.get("/app"))
    mark = srv.log_mark()
    if limit.startswith("maximum"):
        for _ in range(2):
            srv.get("/app")
    stuck = []
    if limit.startswith("request"):
        threading.Thread(target=slow_request, args=(srv, 5, stuck), daemon=True).start()
    assert_ran_once(srv, {first}, timeout=10)
    wait_for(lambda: not pid_alive(first), what="pid %d to exit" % first)
    srv.wait_for_log(r"\(pid %d\): stopping: %s" % (first, reason), since=mark)
    # The replacement serves.
    assert pid_of(srv.get("/app")) != first


def test_daemon_atexit_runs_after_a_touched_script(fresh_server):
    srv = fresh_server(daemon_body(), name="lc-d-touch")
    first = pid_of(srv.get("/app"))
    t = time.time() + 5
    os.utime(os.path.join(srv.apps, "atexit.wsgi"), (t, t))
    srv.get("/app")
    assert_ran_once(srv, {first})
    # The reloaded script registered a second handler in the same process:
    # both ran, once each.
    assert registrations(srv)[first] == 2, atexit_lines(srv)


def test_hanging_atexit_handler_is_cut_at_shutdown_timeout(fresh_server):
    """A handler that sleeps 60 s: the recycled process still exits within
    shutdown-timeout (2 s) of its last request, and says so."""
    srv = fresh_server(daemon_body("maximum-requests=1 shutdown-timeout=2"),
                       name="lc-d-hang")
    mark = srv.log_mark()
    pid = pid_of(srv.get("/app?hang=60"))
    t0 = time.monotonic()
    wait_for(lambda: not pid_alive(pid), timeout=6, what="pid %d to exit" % pid)
    assert time.monotonic() - t0 < 4
    srv.wait_for_log(r"\(pid %d\): Python atexit handlers did not finish within "
                     r"2000 ms" % pid, since=mark)
    assert ran(srv)[pid] == 0  # the hanging handler runs first, and is cut


# ------------------------------------------------------------------ SIGUSR1
METRICS = r"""
<Location /server-metrics>
    SetHandler wsgi-metrics
    Require local
</Location>
"""


def restarts_counted(srv, group, reason):
    """mod_wsgi_process_restarts_total{group, reason} of the metrics handler."""
    r = srv.get("/server-metrics")
    assert r.status == 200, r
    for line in r.text.splitlines():
        if (line.startswith("mod_wsgi_process_restarts_total{")
                and 'group="%s"' % group in line and 'reason="%s"' % reason in line):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def slow_request(srv, seconds, out):
    try:
        r = srv.get("/app?op=sleep&s=%s" % seconds, timeout=30)
        out.append((r.status, r.header("X-Pid")))
    except Exception as e:  # asserted by the caller
        out.append((repr(e), None))


def wait_sleeping(srv, pid):
    wait_for(lambda: "sleep %d" % pid in atexit_lines(srv), timeout=5,
             what="the slow request in pid %d" % pid)


def test_sigusr1_restarts_one_daemon_process_gracefully(fresh_server):
    """kill -USR1 <daemon pid> with a 2 s request in flight: the request
    completes with 200, the process runs its atexit handler and exits, a
    new process serves the next requests, nothing fails."""
    srv = fresh_server(daemon_body("eviction-timeout=20") + METRICS, name="lc-usr1")
    old = pid_of(srv.get("/app"))
    out = []
    t = threading.Thread(target=slow_request, args=(srv, 2, out))
    t.start()
    wait_sleeping(srv, old)
    mark = srv.log_mark()
    os.kill(old, signal.SIGUSR1)
    # New requests go to the replacement at once, while the old one drains.
    statuses = []
    new = None
    t0 = time.monotonic()
    while new is None or new == old:
        r = srv.get("/app")
        statuses.append(r.status)
        new = int(r.header("X-Pid")) if r.status == 200 else None
        assert time.monotonic() - t0 < 5, statuses
    t.join(30)
    assert out == [(200, str(old))], out
    assert set(statuses) == {200}, statuses
    assert_ran_once(srv, {old})
    wait_for(lambda: not pid_alive(old), what="pid %d to exit" % old)
    log = srv.log_since(mark)
    assert "(pid %d): stopping: SIGUSR1 asked for a graceful restart" % old in log, log
    assert "up to 20 s" in log, log
    assert " 502 " not in open(srv.accesslog).read()
    wait_for(lambda: restarts_counted(srv, "lc", "eviction") == 1,
             what="the restart counted as reason=eviction")


def test_sigusr1_waits_at_most_eviction_timeout(fresh_server):
    """eviction-timeout=1 with a 6 s request in flight: the process is gone
    about 1 s after SIGUSR1, not after the request."""
    srv = fresh_server(daemon_body("eviction-timeout=1 shutdown-timeout=1"),
                       name="lc-usr1-bound")
    old = pid_of(srv.get("/app"))
    out = []
    t = threading.Thread(target=slow_request, args=(srv, 6, out))
    t.start()
    wait_sleeping(srv, old)
    t0 = time.monotonic()
    os.kill(old, signal.SIGUSR1)
    wait_for(lambda: not pid_alive(old), timeout=5, what="pid %d to exit" % old)
    assert time.monotonic() - t0 < 3.5
    t.join(30)
    assert pid_of(srv.get("/app")) != old


# ---------------------------------------------------------- startup-timeout
def test_startup_timeout_restarts_a_daemon_whose_app_never_loaded(fresh_server):
    body = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess st processes=1 threads=2 startup-timeout=2
WSGIScriptAlias /app @APPS@/startup_fail.wsgi process-group=st
""" + METRICS
    srv = fresh_server(body, name="lc-startup")
    mark = srv.log_mark()
    t0 = time.monotonic()
    statuses = []
    while True:
        r = srv.get("/app")
        statuses.append(r.status)
        if r.status == 200:
            break
        assert time.monotonic() - t0 < 10, statuses
        time.sleep(0.1)
    took = time.monotonic() - t0
    with open(os.path.join(srv.state, "startup_fail.marker")) as f:
        broken = int(f.read())
    assert set(statuses[:-1]) == {500} and len(statuses) > 5, statuses
    assert took >= 1.8, took
    assert int(r.header("X-Pid")) != broken
    srv.wait_for_log(r"\(pid %d\): stopping: startup-timeout \(2 s\) expired" % broken,
                     since=mark)
    wait_for(lambda: not pid_alive(broken), what="pid %d to exit" % broken)
    wait_for(lambda: restarts_counted(srv, "st", "startup-timeout") == 1,
             what="the restart counted as reason=startup-timeout")


def test_without_startup_timeout_a_broken_daemon_stays_broken(fresh_server):
    """The control: the same app without startup-timeout= keeps failing."""
    body = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess st processes=1 threads=2
WSGIScriptAlias /app @APPS@/startup_fail.wsgi process-group=st
"""
    srv = fresh_server(body, name="lc-startup-off")
    t0 = time.monotonic()
    statuses = []
    while time.monotonic() - t0 < 3:
        statuses.append(srv.get("/app").status)
        time.sleep(0.1)
    assert set(statuses) == {500}, statuses


# ------------------------------------------------------------------ threads=0
def test_threads_zero_runs_import_scripts_and_refuses_requests(fresh_server):
    body = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess svc processes=1 threads=0
WSGIImportScript @APPS@/preload.py process-group=svc application-group=%{GLOBAL}
WSGIScriptAlias /svc @APPS@/hello.wsgi process-group=svc
"""
    srv = fresh_server(body, name="lc-threads0")
    # The import script ran in the daemon process.
    wait_for(lambda: os.path.exists(os.path.join(srv.state, "preload.log")),
             what="the import script's preload.log")
    mark = srv.log_mark()
    r = srv.get("/svc")
    assert r.status == 503, r
    srv.wait_for_log(r"has threads=0: it only runs its WSGIImportScript scripts",
                     since=mark)
    log = srv.log_since(mark)
    assert "route requests to a group with threads=1 or more" in log, log
    assert "request refused with 503" in log, log


def test_sigusr1_to_the_manager_restarts_its_worker(fresh_server):
    """The slot manager passes SIGUSR1 on to its worker (and stays)."""
    srv = fresh_server(daemon_body(), name="lc-usr1-mgr")
    old = pid_of(srv.get("/app"))
    with open("/proc/%d/stat" % old) as f:
        manager = int(f.read().rsplit(")", 1)[1].split()[1])
    os.kill(manager, signal.SIGUSR1)
    assert_ran_once(srv, {old})
    new = pid_of(srv.get("/app"))
    assert new != old
    with open("/proc/%d/stat" % new) as f:
        assert int(f.read().rsplit(")", 1)[1].split()[1]) == manager
