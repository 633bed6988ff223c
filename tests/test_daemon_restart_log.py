"""Graceful restarts leave a clean error log (issue 14): the old
generation's daemon slot managers drain and exit by themselves, and Apache
reaps them as processes it knows, so no restart logs AH00488 "long lost
child came home!"; the new generation's daemons serve. Under each MPM,
since each reaps unknown children in its own main loop."""

import os
import re

import pytest

from harness.apache import wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess rlog processes=2 threads=2
WSGIScriptAlias /hello @APPS@/hello.wsgi process-group=rlog
"""

STARTED = re.compile(r"Starting process 'rlog' \(instance \d\) with pid (\d+)\.")


def managers_started(srv, since):
    """Pids of the slot managers the Apache parent forked after ``since``."""
    return {int(p) for p in STARTED.findall(srv.log_since(since))}


def reaped(pid):
    """Gone from the process table: exited, and its parent waited for it."""
    return not os.path.exists("/proc/%d" % pid)


def parent_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.parametrize("mpm", ["event", "worker", "prefork"])
def test_graceful_restarts_log_no_long_lost_child(fresh_server, mpm):
    srv = fresh_server(BODY, mpm=mpm, name="d-restart-log-" + mpm)
    assert srv.get("/hello").status == 200
    old = wait_for(lambda: len(managers_started(srv, 0)) == 2
                   and managers_started(srv, 0),
                   what="the first generation's 2 managers")
    for round_ in range(2):
        mark = srv.log_mark()
        srv.graceful()
        new = wait_for(lambda: len(managers_started(srv, mark)) == 2
                       and managers_started(srv, mark),
                       what="round %d: 2 new managers" % round_)
        assert not (new & old), (old, new)
        wait_for(lambda: all(reaped(p) for p in old), timeout=20,
                 what="round %d: the old managers %r reaped" % (round_, old))
        r = srv.get("/hello")
        assert r.status == 200 and r.body == b"hello world", r
        worker = int(r.header("X-Pid"))
        assert parent_of(worker) in new, (worker, old, new)
        old = new
    log = srv.error_log()
    lost = [line for line in log.splitlines()
            if "AH00488" in line or "long lost child" in line]
    assert lost == [], lost
