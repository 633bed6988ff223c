"""Daemon mode: one group's daemon cannot drive another group's.

Every daemon socket is reachable by any process running as Apache's user,
and an application can read its own process's memory. Each group has its
own secret, and a daemon process holds only its own: an application in
group alpha that finds every secret in its memory (the secret of the
HELLO it was itself reached with) and sends a forged request
(REMOTE_USER=admin) to group beta's socket is refused, beta's application
never runs it, and beta logs the refusal. Read as root, no memory of
alpha's processes holds beta's secret."""

import importlib.machinery
import importlib.util
import os

import pytest

from harness.apache import start_server, wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN, socket_paths

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess alpha processes=1 threads=4
WSGIDaemonProcess beta processes=1 threads=4
WSGIScriptAlias /alpha @APPS@/isolation.wsgi process-group=alpha
WSGIScriptAlias /beta @APPS@/isolation.wsgi process-group=beta
"""

APP = os.path.join(os.path.dirname(__file__), "apps", "isolation.wsgi")


def _app_module():
    """The test app's wire-protocol helpers, loaded from its source."""
    loader = importlib.machinery.SourceFileLoader("isolation_app", APP)
    spec = importlib.util.spec_from_loader("isolation_app", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


wire = _app_module()


@pytest.fixture(scope="module")
def srv(request):
    return start_server(request, BODY, name="d-isolation")


def _socket(srv, group):
    paths = [p for p in socket_paths(srv) if p.endswith(".%s.sock" % group)]
    assert len(paths) == 1, socket_paths(srv)
    return paths[0]


def _recorded(srv):
    try:
        with open(os.path.join(srv.state, "remote_users.log")) as f:
            return [tuple(line.split()) for line in f]
    except FileNotFoundError:
        return []


def _record(srv, group):
    r = srv.get("/%s?op=record" % group)
    assert r.status == 200 and r.body == b"recorded", (r, srv.error_log_tail())
    return int(r.headers["X-Pid"])


def _memory_of(pid):
    """The private writable memory of process ``pid`` (read as root)."""
    chunks = []
    try:
        mem = open("/proc/%d/mem" % pid, "rb", buffering=0)
    except PermissionError as e:
        pytest.skip("reading another process's memory needs CAP_SYS_PTRACE "
                    "(a container without it): %s" % e)
    with mem:
        for start, end in wire.private_regions(pid):
            try:
                chunks.append(os.pread(mem.fileno(), end - start, start))
            except OSError:
                pass  # unmapped since maps was read, or not readable
    return chunks


def _ppid(pid):
    with open("/proc/%d/stat" % pid) as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def test_a_group_cannot_drive_another_group(srv):
    alpha, beta = _socket(srv, "alpha"), _socket(srv, "beta")
    _record(srv, "alpha")
    _record(srv, "beta")
    assert ("alpha", "-") in _recorded(srv) and ("beta", "-") in _recorded(srv)
    mark = srv.log_mark()
    r = srv.get("/alpha?op=attack&own=%s&target=%s" % (alpha, beta), timeout=60)
    assert r.status == 200, (r, srv.error_log_tail())
    result = r.json()
    # The attack is real: alpha's application found a secret in its own
    # memory that its own group accepts...
    assert result["candidates"] >= 1 and result["own_accepted"] >= 1, result
    wait_for(lambda: ("alpha", "selfcheck") in _recorded(srv),
             what="alpha's self-check request recorded")
    # ...but none that beta accepts.
    assert result["target_accepted"] == 0, result
    assert ("beta", "admin") not in _recorded(srv), _recorded(srv)
    srv.wait_for_log(r"daemon process 'beta': refused a connection.*wrong secret",
                     since=mark)
    # Both groups still serve their own requests.
    _record(srv, "alpha")
    _record(srv, "beta")


def test_a_daemon_holds_no_other_groups_secret(srv):
    """beta's secret, read from beta's own memory (the HELLO it was
    reached with) and checked against beta's socket, is nowhere in the
    memory of alpha's worker or of its slot manager."""
    beta_secrets = _secrets_of(srv, "beta", _record(srv, "beta"))
    alpha_pid = _record(srv, "alpha")
    assert beta_secrets, "beta's secret was not found in beta's memory"
    for pid in (alpha_pid, _ppid(alpha_pid)):
        memory = _memory_of(pid)
        assert memory, pid
        assert not any(s in chunk for s in beta_secrets for chunk in memory), (
            "beta's secret is in the memory of alpha's process %d" % pid)


def _stack_rss_kib(pid):
    """Resident KiB of process ``pid``'s main stack ([stack] in smaps)."""
    in_stack = False
    try:
        f = open("/proc/%d/smaps" % pid)
    except PermissionError as e:
        pytest.skip("reading another process's smaps needs CAP_SYS_PTRACE "
                    "(a container without it): %s" % e)
    with f:
        for line in f:
            if line[0] in "0123456789abcdef" and " " in line and "-" in line.split()[0]:
                in_stack = line.rstrip().endswith("[stack]")
            elif in_stack and line.startswith("Rss:"):
                return int(line.split()[1])
    raise AssertionError("no [stack] mapping in process %d" % pid)


def test_the_stack_scrub_touches_only_what_apache_left(srv):
    """The slot manager zeroes the stack the Apache parent left below it
    (where other groups' secrets were computed), not a fixed 256 KiB: its
    stack holds about as many pages as the parent's, and so does the
    worker forked from it."""
    worker = _record(srv, "alpha")
    manager = _ppid(worker)
    parent = _ppid(manager)
    assert parent == srv.pid, (parent, srv.pid)
    limit = _stack_rss_kib(parent) + 64
    assert _stack_rss_kib(manager) <= limit, (_stack_rss_kib(manager), limit)
    assert _stack_rss_kib(worker) <= limit + 64, (_stack_rss_kib(worker), limit)


def _secrets_of(srv, group, pid):
    """``group``'s secret as found in the memory of its process ``pid``
    (the HELLO it was reached with), checked against its socket."""
    return [c for c in wire.candidates_in(_memory_of(pid))
            if wire.speak(_socket(srv, group), c,
                          [(b"SCRIPT_FILENAME", b"/nonexistent.wsgi")])]


def test_each_group_keeps_its_secret_across_a_graceful_restart(srv):
    """Apache children of the old generation reach the new daemons with
    the secrets they know: each group's secret is the same after a
    graceful restart, and still its own."""
    before = {g: _secrets_of(srv, g, _record(srv, g)) for g in ("alpha", "beta")}
    assert before["alpha"] and before["beta"], before
    assert not set(before["alpha"]) & set(before["beta"])
    old_pids = {_record(srv, "alpha"), _record(srv, "beta")}
    srv.graceful()
    wait_for(lambda: not {_record(srv, "alpha"), _record(srv, "beta")} & old_pids,
             timeout=20, what="both groups served by new daemon processes")
    for g, other in (("alpha", "beta"), ("beta", "alpha")):
        assert any(wire.speak(_socket(srv, g), s,
                              [(b"SCRIPT_FILENAME", b"/nonexistent.wsgi")])
                   for s in before[g]), "%s's secret changed" % g
        assert not any(wire.speak(_socket(srv, g), s,
                                  [(b"SCRIPT_FILENAME", b"/nonexistent.wsgi")])
                       for s in before[other]), "%s accepts %s's secret" % (g, other)
