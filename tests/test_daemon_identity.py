"""Daemon mode: who the application runs as (user=, group=,
supplementary-groups=, the Apache User by default, never root's groups),
what it sees (mod_wsgi.process_group, wsgi.multiprocess/multithread from
processes=/threads=), who may connect to a daemon socket, and a group that
cannot start (user=nosuchuser)."""

import os
import pwd
import grp
import shutil
import stat
import subprocess
import time
import uuid

import pytest

from harness.apache import start_server
from harness.daemon import (SKIP_IN_DAEMON_RUN, proc_status, run_python_as,
                            socket_paths)

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

BAD_USER = "nosuchuser-" + uuid.uuid4().hex[:6]

BODY = r"""
WSGISocketPrefix @SOCKETS@/wsgi
WSGIDaemonProcess dflt processes=1 threads=2
WSGIDaemonProcess ug processes=1 threads=2 user=@U@ group=@G@ supplementary-groups=@S2@ umask=0027 home=@STATE@
WSGIDaemonProcess u processes=1 threads=2 user=@U@
WSGIDaemonProcess one threads=1
WSGIDaemonProcess p1 processes=1 threads=1
WSGIDaemonProcess many processes=3 threads=1
WSGIDaemonProcess multi threads=4
WSGIDaemonProcess sockuser processes=1 threads=1 socket-user=nobody connect-timeout=1
WSGIDaemonProcess bad processes=1 threads=1 user=@BAD@ connect-timeout=1
WSGIScriptAlias /dflt @APPS@/daemon.wsgi process-group=dflt
WSGIScriptAlias /ug @APPS@/daemon.wsgi process-group=ug
WSGIScriptAlias /u @APPS@/daemon.wsgi process-group=u
WSGIScriptAlias /one @APPS@/daemon.wsgi process-group=one
WSGIScriptAlias /p1 @APPS@/daemon.wsgi process-group=p1
WSGIScriptAlias /many @APPS@/daemon.wsgi process-group=many
WSGIScriptAlias /multi @APPS@/daemon.wsgi process-group=multi
WSGIScriptAlias /sockuser @APPS@/daemon.wsgi process-group=sockuser
WSGIScriptAlias /bad @APPS@/daemon.wsgi process-group=bad
WSGIScriptAlias /env @APPS@/environ.wsgi process-group=multi
"""


def _run(*cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.PIPE,
                   stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def accounts():
    """A test user U (primary group G, also in S1) and a group S2, removed
    at the end."""
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root and useradd to create a test user")
    base = "mwt" + uuid.uuid4().hex[:6]
    names = {"U": base + "u", "G": base + "g", "S1": base + "s1",
             "S2": base + "s2"}
    made_groups, made_user = [], False
    try:
        for g in ("G", "S1", "S2"):
            _run("groupadd", names[g])
            made_groups.append(names[g])
        _run("useradd", "-M", "-N", "-d", "/nonexistent", "-s",
             "/usr/sbin/nologin", "-g", names["G"], "-G", names["S1"],
             names["U"])
        made_user = True
        ids = dict(names)
        ids["uid"] = pwd.getpwnam(names["U"]).pw_uid
        for g in ("G", "S1", "S2"):
            ids[g + "_gid"] = grp.getgrnam(names[g]).gr_gid
        yield ids
    finally:
        if made_user:
            subprocess.run(["userdel", names["U"]], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        for g in made_groups:
            subprocess.run(["groupdel", g], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)


@pytest.fixture(scope="module")
def srv(request, accounts):
    body = BODY
    for k in ("U", "G", "S2"):
        body = body.replace("@%s@" % k, accounts[k])
    body = body.replace("@BAD@", BAD_USER)
    return start_server(request, body, name="d-identity")


def ident(srv, path):
    r = srv.get(path + "?op=ident")
    assert r.status == 200, (r, srv.error_log_tail())
    return r.json()


WWW = pwd.getpwnam("www-data")


# ------------------------------------------------------------- identity

def test_default_identity_is_apache_user_without_root_groups(srv):
    info = ident(srv, "/dflt")
    assert (info["uid"], info["euid"]) == (WWW.pw_uid, WWW.pw_uid)
    assert (info["gid"], info["egid"]) == (WWW.pw_gid, WWW.pw_gid)
    expected = {WWW.pw_gid} | {g.gr_gid for g in grp.getgrall()
                               if "www-data" in g.gr_mem}
    assert set(info["groups"]) == expected, info
    assert 0 not in info["groups"]
    # the Apache parent runs as root; the daemon is its child
    assert info["pid"] != srv.pid


def test_user_group_and_supplementary_groups(srv, accounts):
    info = ident(srv, "/ug")
    assert (info["uid"], info["euid"]) == (accounts["uid"], accounts["uid"])
    assert (info["gid"], info["egid"]) == (accounts["G_gid"], accounts["G_gid"])
    # supplementary-groups= replaces the user's own groups (S1); the
    # primary group may or may not be listed again
    assert set(info["groups"]) - {accounts["G_gid"]} == {accounts["S2_gid"]}, info
    assert 0 not in info["groups"]
    # umask= and home= of the same group
    assert info["umask"] == 0o027
    assert info["cwd"] == srv.state


def test_user_only_takes_the_users_groups(srv, accounts):
    info = ident(srv, "/u")
    assert info["uid"] == accounts["uid"]
    assert info["gid"] == accounts["G_gid"]
    assert set(info["groups"]) == {accounts["G_gid"], accounts["S1_gid"]}, info


# --------------------------------------------------------------- environ

@pytest.mark.parametrize("path,multiprocess,multithread", [
    ("/one", False, False),    # threads=1, no processes=
    ("/p1", True, False),      # processes=1 given (mod_wsgi's rule: True)
    ("/many", True, False),    # processes=3 threads=1
    ("/multi", False, True),   # threads=4, no processes=
])
def test_multiprocess_multithread_follow_the_group(srv, path, multiprocess,
                                                   multithread):
    """wsgi.multithread is threads > 1. wsgi.multiprocess is True when
    processes= is given at all (mod_wsgi documents that processes=1 still
    means multiprocess, since the user asked for a process pool)."""
    info = ident(srv, path)
    group = path.strip("/")
    assert info["process_group"] == group
    assert info["module_process_group"] == group  # mod_wsgi.process_group
    assert info["multiprocess"] is multiprocess
    assert info["multithread"] is multithread
    assert info["run_once"] is False


def test_environ_in_daemon(srv):
    r = srv.get("/env/x/y?q=1", headers={"X-Custom": "v"})
    assert r.status == 200
    e = r.json()["environ"]
    assert e["mod_wsgi.process_group"] == "multi"
    assert e["SCRIPT_NAME"] == "/env" and e["PATH_INFO"] == "/x/y"
    assert e["QUERY_STRING"] == "q=1" and e["HTTP_X_CUSTOM"] == "v"
    assert e["wsgi.multithread"] == "True" and e["wsgi.multiprocess"] == "False"


# ----------------------------------------------------------- sockets

def test_sockets_are_private_to_their_owner(srv):
    nobody = pwd.getpwnam("nobody").pw_uid
    paths = socket_paths(srv)
    assert len(paths) == 9, paths  # one per group
    owners = []
    for p in paths:
        st = os.stat(p)
        assert stat.S_ISSOCK(st.st_mode), p
        assert st.st_mode & 0o077 == 0, "%s has mode %o" % (p, st.st_mode & 0o777)
        assert st.st_mode & 0o600 == 0o600, "%s has mode %o" % (p, st.st_mode & 0o777)
        owners.append(st.st_uid)
    # Apache's User, except the group with socket-user=nobody
    assert sorted(owners) == sorted([WWW.pw_uid] * 8 + [nobody]), owners


CONNECT = r"""
import errno, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1] if len(sys.argv) > 1 else %r)
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, e.errno))
    sys.exit(0)
print("CONNECTED")
"""


def _www_socket(srv):
    for p in socket_paths(srv):
        if os.stat(p).st_uid == WWW.pw_uid:
            return p
    raise AssertionError("no socket owned by www-data in %r" % socket_paths(srv))


def test_other_user_cannot_connect(srv):
    path = _www_socket(srv)
    nobody = pwd.getpwnam("nobody")
    # the directory is world-searchable: only the socket's mode stops nobody
    assert os.stat(os.path.dirname(path)).st_mode & 0o005 == 0o005
    rc, out = run_python_as(nobody.pw_uid, nobody.pw_gid, CONNECT % path)
    assert out.strip() == "ERR EACCES", out
    # control: Apache's user can connect to the same socket
    rc, out = run_python_as(WWW.pw_uid, WWW.pw_gid, CONNECT % path)
    assert out.strip() == "CONNECTED", out


HELLO_WRONG_SECRET = r"""
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(%r)
payload = b"MWRS" + struct.pack(">H", 2) + b"\0" * 32 + struct.pack(">q", 0)
data = b""
try:
    s.sendall(bytes([1]) + struct.pack(">I", len(payload)) + payload)
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
except (BrokenPipeError, ConnectionResetError):
    pass  # the group that cannot start answers and closes at once
print("CLOSED", data[:1].hex())
"""


def test_connection_without_the_secret_is_refused(srv):
    """Even a process of Apache's own user that reaches the socket cannot
    have a request served without the per-start secret."""
    before = ident(srv, "/dflt")["pid"]
    mark = srv.log_mark()
    for p in socket_paths(srv):
        if os.stat(p).st_uid != WWW.pw_uid:
            continue
        rc, out = run_python_as(WWW.pw_uid, WWW.pw_gid, HELLO_WRONG_SECRET % p)
        assert rc == 0 and out.startswith("CLOSED"), out
        # never a READY frame (kind 0x10): no request was started
        assert out.split()[1:] != ["10"], (p, out)
    srv.wait_for_log(r"refused a connection.*secret", since=mark)
    # and nothing broke
    assert ident(srv, "/dflt")["pid"] == before


def test_socket_user_mismatch_is_503_with_a_useful_log_line(srv):
    """socket-user=nobody: Apache's children (www-data) may not connect.
    The request gets a 503 at once (no waiting for connect-timeout) and the
    log names the socket and what to change."""
    nobody_sock = [p for p in socket_paths(srv)
                   if os.stat(p).st_uid == pwd.getpwnam("nobody").pw_uid]
    assert len(nobody_sock) == 1
    mark = srv.log_mark()
    t0 = time.monotonic()
    r = srv.get("/sockuser?op=ident")
    assert r.status == 503
    assert time.monotonic() - t0 < 3
    m = srv.wait_for_log(r"\[client 127\.0\.0\.1:\d+\] .*permission denied.*", since=mark)
    assert nobody_sock[0] in m.group(0)
    assert "socket-user" in m.group(0)


# ---------------------------------------------------------- bad config

def test_unknown_user_group_does_not_serve(srv):
    """user=<no such user>: the daemon logs a clear line and serves
    nothing; each request gets a 503 (no later than connect-timeout=1 plus
    slack) naming the reason; Apache and the other groups carry on."""
    srv.wait_for_log(r"daemon process 'bad'.*%s" % BAD_USER, timeout=5)
    for _ in range(10):
        mark = srv.log_mark()
        t0 = time.monotonic()
        r = srv.get("/bad?op=ident", timeout=15)
        elapsed = time.monotonic() - t0
        assert r.status == 503, r
        assert b'"uid"' not in r.body
        assert elapsed < 3.5, elapsed
        srv.wait_for_log(r"\[client 127\.0\.0\.1:\d+\] .*'bad'.*%s" % BAD_USER,
                         since=mark)
    assert srv.get("/dflt?op=ident").status == 200
    assert os.path.exists("/proc/%d" % srv.pid)
    assert "Configuration Failed" not in srv.error_log()


def test_no_daemon_process_keeps_root(srv):
    """Every daemon process, including the one of the group that cannot
    take its identity (user=<no such user>) and only answers 503s, has
    given up root: none of them accepts connections from Apache's
    children, which any www-data process can imitate, as root."""
    srv.wait_for_log(r"daemon process 'bad'.*%s" % BAD_USER, timeout=5)
    daemons = srv.daemon_processes()
    assert len(daemons) >= 9
    as_root = {}
    for pid, cmd in daemons.items():
        uids = proc_status(pid).get("Uid", "").split()
        if uids and "0" in uids:
            as_root[pid] = cmd.strip()
    assert not as_root, "daemon processes running as root: %r" % as_root
