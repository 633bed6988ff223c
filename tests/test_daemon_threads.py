"""Which thread of a daemon process serves a request (`daemon::turns`):
requests that arrive back to back run on the thread that has the turn to
wait for work, without waking another thread for each; a request never
waits long behind a slow one, whether that one sleeps (blocked in the
kernel) or computes (holding the GIL)."""

import collections
import threading
import time
import uuid

import pytest

from harness.apache import wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN, events

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess turns processes=1 threads=4
WSGIScriptAlias /t @APPS@/daemon.wsgi process-group=turns
"""


@pytest.fixture(scope="module")
def srv(server_factory):
    s = server_factory(BODY, name="d-turns")
    assert s.get("/t?op=thread").status == 200
    return s


def _thread_of(srv):
    r = srv.get("/t?op=thread", timeout=10)
    assert r.status == 200, (r.status, r.body)
    return r.body.split()[1]


def test_concurrent_small_requests_stay_on_one_thread(srv):
    """Six clients, 40 requests each, at once: one thread serves most of
    them (each wakes no other thread), though four are free."""
    counts = collections.Counter()
    lock = threading.Lock()
    errors = []

    def client():
        try:
            for _ in range(40):
                t = _thread_of(srv)
                with lock:
                    counts[t] += 1
        except Exception as e:  # reported below
            errors.append(e)

    clients = [threading.Thread(target=client) for _ in range(6)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    assert not errors, errors
    total = sum(counts.values())
    assert total == 240
    top = counts.most_common(1)[0][1]
    assert top >= 0.6 * total, counts


@pytest.mark.parametrize("slow", ["sleep", "spin"])
def test_a_request_does_not_wait_behind_a_slow_one(srv, slow):
    """While a request sleeps or computes for 3 s in one thread, another
    thread of the same process answers a second request at once."""
    tag = uuid.uuid4().hex[:10]
    done = []
    t = threading.Thread(target=lambda: done.append(
        srv.get("/t?op=%s&s=3&tag=%s" % (slow, tag), timeout=20)))
    t.start()
    try:
        wait_for(lambda: any(e.startswith("enter %s " % tag) for e in events(srv)),
                 what="the %s request started" % slow)
        start = time.monotonic()
        r = srv.get("/t?op=thread", timeout=10)
        waited = time.monotonic() - start
        assert r.status == 200
        assert waited < 1.0, "the request waited %.2f s behind the %s" % (waited, slow)
    finally:
        t.join()
    assert done and done[0].status == 200, done
