"""A small concurrent load generator (threads + http.client keep-alive).

Used by tests/test_faults_*.py and soak/run. Every loop is bounded both in
count and in time. Each request is recorded as a ``Result`` (status, error
text, latency, the time it started and the X-Pid answer header when any),
so a test can count failures and tell which requests were in flight when
a fault happened.
"""

import http.client
import socket
import threading
import time


class Result:
    __slots__ = ("start", "end", "status", "error", "pid", "body_ok")

    def __init__(self, start, end, status, error, pid, body_ok):
        self.start = start
        self.end = end
        self.status = status
        self.error = error
        self.pid = pid
        self.body_ok = body_ok

    @property
    def ok(self):
        return self.error is None and self.status == 200 and self.body_ok

    @property
    def latency(self):
        return self.end - self.start

    def __repr__(self):
        return "<Result %s %s %.3fs pid=%s>" % (self.status, self.error,
                                                self.latency, self.pid)


class Load:
    """``clients`` threads, each sending requests to ``paths`` (cycled) on
    a keep-alive connection (reopened after any error or a close) until
    ``stop()``, ``duration`` seconds, or ``max_requests`` in total.

    ``check(status, body)`` decides whether an answer is a success (default:
    200). ``timeout`` bounds each request."""

    def __init__(self, port, paths, clients=4, duration=10.0,
                 max_requests=100000, timeout=10.0, check=None,
                 method="GET", body=None, headers=None, keepalive=True,
                 host="127.0.0.1", pause=0.0, keep_results=True):
        self.port = port
        self.host = host
        self.paths = [paths] if isinstance(paths, str) else list(paths)
        self.clients = clients
        self.duration = duration
        self.max_requests = max_requests
        self.timeout = timeout
        self.check = check
        self.method = method
        self.body = body
        self.headers = dict(headers or {})
        self.keepalive = keepalive
        self.pause = pause
        # keep_results=False (long soaks): only counters and the failures
        self.keep_results = keep_results
        self.count_ok = 0
        self.count_failed = 0
        self.failure_kinds = {}
        self.results = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self._count = 0
        self.t0 = None

    # ------------------------------------------------------------ control
    def start(self):
        self.t0 = time.monotonic()
        for i in range(self.clients):
            t = threading.Thread(target=self._run, args=(i,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self, join_timeout=None):
        self._stop.set()
        return self.join(join_timeout)

    def join(self, timeout=None):
        timeout = self.timeout + 5 if timeout is None else timeout
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        alive = [t for t in self._threads if t.is_alive()]
        if alive:
            raise AssertionError("%d load client(s) still running after %.0fs"
                                 % (len(alive), timeout))
        return self

    def run(self):
        """Start, wait for the duration (or the request budget), stop."""
        self.start()
        self._stop.wait(self.duration)
        return self.stop()

    def wait_requests(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.count_ok + self.count_failed >= n:
                    return True
            time.sleep(0.01)
        raise AssertionError("only %d of %d requests done within %.0fs"
                             % (self.count_ok + self.count_failed, n, timeout))

    # ------------------------------------------------------------ results
    @property
    def failures(self):
        with self._lock:
            return [r for r in self.results if not r.ok]

    @property
    def successes(self):
        with self._lock:
            return [r for r in self.results if r.ok]

    def pids(self):
        with self._lock:
            return {r.pid for r in self.results if r.pid}

    def summary(self):
        with self._lock:
            res = list(self.results)
        fails = [r for r in res if not r.ok]
        lat = sorted(r.latency for r in res) or [0.0]
        kinds = {}
        for r in fails:
            k = r.error or "status %s" % r.status
            kinds[k] = kinds.get(k, 0) + 1
        return {
            "requests": len(res),
            "failures": len(fails),
            "failure_kinds": kinds,
            "p50": lat[len(lat) // 2],
            "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
            "max": lat[-1],
        }

    # ------------------------------------------------------------- worker
    def _take(self):
        with self._lock:
            if self._count >= self.max_requests:
                return False
            self._count += 1
            return True

    def _record(self, r):
        with self._lock:
            if r.ok:
                self.count_ok += 1
            else:
                self.count_failed += 1
                k = r.error or "status %s" % r.status
                self.failure_kinds[k] = self.failure_kinds.get(k, 0) + 1
            if self.keep_results or not r.ok:
                self.results.append(r)

    def _run(self, index):
        conn = None
        n = 0
        while not self._stop.is_set():
            if time.monotonic() - self.t0 > self.duration:
                break
            if not self._take():
                break
            path = self.paths[(index + n) % len(self.paths)]
            n += 1
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port,
                                                  timeout=self.timeout)
            start = time.monotonic()
            status, error, pid, body_ok = None, None, None, False
            try:
                headers = dict(self.headers)
                if not self.keepalive:
                    headers["Connection"] = "close"
                conn.request(self.method, path, body=self.body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
                pid = resp.getheader("X-Pid")
                body_ok = self.check(status, data) if self.check else status == 200
                if resp.will_close or not self.keepalive:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException, socket.timeout) as e:
                error = "%s: %s" % (type(e).__name__, e)
                try:
                    conn.close()
                except Exception:
                    pass
                conn = None
            self._record(Result(start, time.monotonic(), status, error, pid,
                                body_ok))
            if self.pause:
                self._stop.wait(self.pause)
        if conn is not None:
            conn.close()
