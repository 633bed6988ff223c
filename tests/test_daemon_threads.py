"""Which thread of a daemon process serves a request (`daemon::turns`):
short requests that arrive back to back run on the thread that has the
turn to wait for work, without waking another thread for each; long ones
go to whichever thread is free, as each arrives; a request never waits
long behind a slow one, whether that one sleeps (blocked in the kernel)
or computes (holding the GIL)."""

import collections
import threading
import time
import uuid

import pytest

from harness.apache import wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN, Hammer, events

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


def requests_per_thread(srv, path, n):
    """Six clients send `n` requests for `path` (answered "<pid> <thread>")
    at once: how many each thread served."""
    h = Hammer(srv.port, path, clients=6, max_requests=n).start().join()
    assert not h.failures, h.failures[:3]
    counts = collections.Counter(r[3].split()[1] for r in h.results)
    assert sum(counts.values()) == n
    return counts


def test_concurrent_small_requests_stay_on_one_thread(srv):
    """Six clients, 240 requests in all, at once: one thread serves most
    of them (each wakes no other thread), though four are free."""
    # Up to five rounds, until one shows it: a burst of requests that took
    # 100 µs of CPU or more (the first ones on new connections and threads,
    # or a busy machine's) hands every request to any free thread for a
    # while. Without turns, no round of 20 came near: at most 110 of 240.
    rounds = []
    for _ in range(5):
        counts = requests_per_thread(srv, "/t?op=thread", 240)
        rounds.append(sorted(counts.values(), reverse=True))
        if rounds[-1][0] >= 0.6 * 240:
            return
    pytest.fail("no thread served 60 %% of a round of 240: %s" % rounds)


def test_concurrent_long_requests_go_to_the_free_threads(srv):
    """Six clients, 120 requests of 2 ms of computing each, at once: taken
    back to back by one thread, they would keep it from sleeping (so that
    any thread that wakes on the CPU preempts it in the middle of its
    Python); each goes to a free thread instead."""
    counts = requests_per_thread(srv, "/t?op=work&ms=2", 120)
    assert len(counts) == 4, counts
    top = counts.most_common(1)[0][1]
    assert top <= 0.5 * 120, counts


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
