"""Daemon mode across restarts: a touched .wsgi is served by the new code
at once and its process is replaced; `apache2 -k graceful` under
concurrent load fails no request (in-flight ones included) and replaces the
daemons; `apache2 -k stop` leaves no daemon process behind."""

import os
import subprocess
import threading
import time
import uuid

import pytest

from harness.apache import (APACHE_BIN, apache_env, pid_alive,
                            processes_mentioning, wait_for)
from harness.daemon import SKIP_IN_DAEMON_RUN, Hammer, events

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]


# ----------------------------------------------------------- reloading

RELOAD_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess rl processes=2 threads=2
WSGIScriptAlias /reload @APPS@/reload.wsgi process-group=rl
"""


def test_touched_script_is_served_by_new_code_and_process_replaced(fresh_server):
    srv = fresh_server(RELOAD_BODY, name="d-reload")
    r = srv.get("/reload")
    assert r.status == 200 and r.text.startswith("v1 "), r
    before = srv.settled_daemon_processes(minimum=2)
    mark = srv.log_mark()
    path = os.path.join(srv.apps, "reload.wsgi")
    with open(path) as f:
        src = f.read()
    with open(path, "w") as f:
        f.write(src.replace('VERSION = "v1"', 'VERSION = "v2"'))
    t = time.time() + 5
    os.utime(path, (t, t))
    # the request that notices the change is served by the new code
    r = srv.get("/reload")
    assert r.status == 200 and r.text.startswith("v2 "), r
    # every later answer is v2, and soon one comes from a new process
    t0 = time.monotonic()
    while True:
        r = srv.get("/reload")
        assert r.status == 200 and r.text.startswith("v2 "), r
        if int(r.text.split()[1]) not in before:
            break
        assert time.monotonic() - t0 < 5, "no new process within 5 s: %r" % r
        time.sleep(0.02)
    srv.wait_for_log(r"'rl'.*(script|reload)", since=mark)


# ------------------------------------------------------ graceful restart

GRACEFUL_BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess gr processes=2 threads=5 connect-timeout=5
WSGIScriptAlias /hello @APPS@/hello.wsgi process-group=gr
WSGIScriptAlias /slow @APPS@/daemon.wsgi process-group=gr
"""


ROUNDS = 4


def test_graceful_restart_under_load_fails_no_request(fresh_server):
    """4 clients hammer a fast app (a new connection per request) while
    `apache2 -k graceful` runs 4 times, each time with 3 one-second requests
    in flight in the daemons: not one request fails, and afterwards the
    answers come from new daemon processes."""
    srv = fresh_server(GRACEFUL_BODY, name="d-graceful")
    assert srv.get("/hello").status == 200
    h = Hammer(srv.port, "/hello", clients=4, timeout=20,
               keepalive=False).start()
    slow = []
    try:
        h.wait_count(40)
        first_pids = set(h.pids())
        for round_ in range(ROUNDS):
            tag = "g%d-%s" % (round_, uuid.uuid4().hex[:6])
            threads = []
            for i in range(3):
                def one(i=i):
                    try:
                        r = srv.get("/slow?op=sleep&s=1&tag=%s" % tag, timeout=20)
                        slow.append((r.status, r.body))
                    except Exception as e:  # asserted below
                        slow.append((repr(e), b""))
                t = threading.Thread(target=one)
                t.start()
                threads.append(t)
            wait_for(lambda: sum(1 for e in events(srv)
                                 if e.startswith("enter %s " % tag)) == 3,
                     timeout=10, what="3 slow requests in the daemons")
            n = h.count()
            srv.graceful()
            h.wait_count(n + 40)
            for t in threads:
                t.join(20)
        n = h.count()
        h.wait_count(n + 40)
    finally:
        h.stop()
    assert h.failures == [], (len(h.failures), h.failures[:5],
                              srv.error_log_tail(30))
    assert slow == [(200, b"slept")] * (3 * ROUNDS), slow
    last_pids = {r[2] for r in h.results[-20:]}
    assert not (last_pids & first_pids), (first_pids, last_pids)


# ------------------------------------------------------------------ stop

def test_stop_leaves_no_daemon_process(fresh_server):
    """`apache2 -k stop` with three daemon groups (one with a display-name,
    one with a request stuck in the app): the parent, its children and
    every daemon process are gone within shutdown-timeout plus slack."""
    tag = uuid.uuid4().hex[:6]
    body = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess stopa-%(t)s processes=2 threads=2 shutdown-timeout=1
WSGIDaemonProcess stopb-%(t)s processes=1 threads=2 display-name=mwsgi-stop-%(t)s
WSGIDaemonProcess stopc-%(t)s processes=1 threads=1 display-name=%%{GROUP}
WSGIScriptAlias /a @APPS@/daemon.wsgi process-group=stopa-%(t)s
WSGIScriptAlias /b @APPS@/daemon.wsgi process-group=stopb-%(t)s
WSGIScriptAlias /c @APPS@/daemon.wsgi process-group=stopc-%(t)s
""" % {"t": tag}
    srv = fresh_server(body, name="d-stop")
    for p in ("/a", "/b", "/c"):
        assert srv.get(p + "?op=ident").status == 200
    stuck = {}

    def stuck_request():
        try:
            stuck["r"] = srv.get("/a?op=sleep&s=30&tag=stuck", timeout=30)
        except Exception as e:  # the server goes away under it
            stuck["r"] = e

    t = threading.Thread(target=stuck_request)
    t.start()
    wait_for(lambda: any(e.startswith("enter stuck ") for e in events(srv)),
             timeout=5, what="the stuck request in the app")
    daemons = srv.daemon_processes()
    titles = ["(wsgi:stopa-" + tag, "mwsgi-stop-" + tag, "(wsgi:stopc-" + tag]
    for title in titles:
        assert any(title in cmd for cmd in daemons.values()), (title, daemons)
    parent = srv.pid
    t0 = time.monotonic()
    p = subprocess.run([APACHE_BIN, "-f", srv.conf_path, "-k", "stop"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       env=apache_env(), timeout=30)
    assert p.returncode == 0, p.stdout

    def all_gone():
        left = [d for d in daemons if pid_alive(d)]
        for title in titles:
            left += [pid for pid, _ in processes_mentioning(title)]
        return not left and not pid_alive(parent)

    try:
        wait_for(all_gone, timeout=10, what="every daemon process to exit")
    finally:
        t.join(35)
    assert time.monotonic() - t0 < 10
    left = {pid: cmd for pid, cmd in daemons.items() if pid_alive(pid)}
    assert not left, left
