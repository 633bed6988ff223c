"""Daemon mode with chroot=: a root without /dev.

A daemon process needs random bytes after its chroot: a response to a
client that stops reading is spooled to a temporary file, and where the
filesystem has no O_TMPFILE that file gets a random name. The jail's /tmp
is a bindfs (FUSE) mount, which has no O_TMPFILE, and the jail has no /dev:
the random name must come from the kernel (getrandom), not /dev/urandom.

The jail: /usr bound read-only (Python's standard library), the usual
/bin, /lib... links, the application at the same path as outside, /tmp on
bindfs, a /marks folder where the application says it finished."""

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile

import pytest

from harness.apache import start_server, wait_for
from harness.daemon import SKIP_IN_DAEMON_RUN

pytestmark = [pytest.mark.skipif(**SKIP_IN_DAEMON_RUN), pytest.mark.rs_only]

APP = r'''
import hashlib
import json
import os
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if q.get("op") == "facts":
        body = json.dumps({"in_jail": os.path.exists("/inside-the-jail"),
                           "dev": os.path.exists("/dev"),
                           "pid": os.getpid()}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    mib, tag = int(q["mib"]), q["tag"]
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(mib << 20))])

    def blocks():
        for i in range(mib):
            if i == mib - 1:
                # Every block but this one was taken while the client read
                # nothing: spooled. (Not after the loop: with Content-Length
                # the server stops iterating once it has every byte.)
                with open("/marks/" + tag, "w") as f:
                    f.write("done")
            yield hashlib.sha256(b"block-%d" % i).digest() * 32768
    return blocks()
'''


def _run(*cmd):
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    assert p.returncode == 0, (cmd, p.stdout.decode(errors="replace"))


@pytest.fixture(scope="module")
def jail():
    if os.geteuid() != 0:
        pytest.skip("needs root (chroot=, mounts)")
    if not shutil.which("bindfs"):
        pytest.skip("needs bindfs (apt-get install bindfs): a /tmp without "
                    "O_TMPFILE inside the jail")
    # Not under /tmp: the application's path is repeated inside the jail,
    # whose /tmp is the bindfs mount.
    base = tempfile.mkdtemp(prefix="mwrs-jail-", dir="/var/tmp")
    os.chmod(base, 0o755)
    root, appdir, tmp_src = (os.path.join(base, d) for d in ("root", "app", "tmp"))
    mounted = []
    try:
        for d in (root, appdir, tmp_src):
            os.mkdir(d, 0o755)
        os.chmod(tmp_src, 0o1777)
        for d in ("usr", "tmp", "marks", appdir.lstrip("/")):
            os.makedirs(os.path.join(root, d), 0o755)
        os.chmod(os.path.join(root, "marks"), 0o1777)
        for link in ("bin", "lib", "lib64", "sbin"):
            if os.path.islink("/" + link):
                os.symlink(os.readlink("/" + link), os.path.join(root, link))
        open(os.path.join(root, "inside-the-jail"), "w").close()
        app = os.path.join(appdir, "stream.wsgi")
        for path in (app, os.path.join(root, app.lstrip("/"))):
            with open(path, "w") as f:
                f.write(APP)
        probe = subprocess.run(["mount", "--bind", "/usr", os.path.join(root, "usr")],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
        if probe.returncode != 0 and b"permission denied" in probe.stdout.lower():
            pytest.skip("needs CAP_SYS_ADMIN to bind-mount /usr into the jail "
                        "(a container without it): %s" % probe.stdout.decode().strip())
        assert probe.returncode == 0, probe.stdout
        mounted.append(os.path.join(root, "usr"))
        _run("mount", "-o", "remount,bind,ro", os.path.join(root, "usr"))
        _run("bindfs", tmp_src, os.path.join(root, "tmp"))
        mounted.append(os.path.join(root, "tmp"))
        assert not os.path.exists(os.path.join(root, "dev"))
        yield {"root": root, "app": app, "tmp": tmp_src}
    finally:
        for m in reversed(mounted):
            subprocess.run(["umount", m], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        if not any(os.path.ismount(m) for m in mounted):
            shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def srv(request, jail):
    body = (
        "WSGISocketPrefix @SOCKETS@/wsgi\n"
        "WSGIDaemonProcess jailed processes=1 threads=2 chroot=%s\n"
        "WSGIScriptAlias /jailed %s process-group=jailed\n"
        "<Directory %s>\n  Require all granted\n</Directory>\n"
        % (jail["root"], jail["app"], os.path.dirname(jail["app"])))
    return start_server(request, body, name="d-chroot")


def test_the_daemon_runs_in_the_jail_without_dev(srv):
    facts = _facts(srv)
    assert (facts["in_jail"], facts["dev"]) == (True, False), facts


def _facts(srv):
    r = srv.get("/jailed?op=facts")
    assert r.status == 200, (r, srv.error_log_tail())
    return r.json()


def _open_files(pid):
    out = []
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            out.append(os.readlink("/proc/%d/fd/%s" % (pid, fd)))
        except OSError:
            pass
    return out


def test_a_response_spooled_to_a_named_temp_file_inside_the_jail(srv, jail):
    """A client that reads nothing: once the socket buffers (a few MiB)
    are full, the daemon spools the rest of the 32 MiB response (1 MiB in
    memory, the rest in a temporary file in the jail's /tmp, named at
    random) and the application finishes; the client then gets every
    byte."""
    mib, tag = 32, "spooled"
    pid = _facts(srv)["pid"]  # threads=2, one process: the same worker
    mark = srv.log_mark()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(30)
    try:
        s.connect(("127.0.0.1", srv.port))
        s.sendall(b"GET /jailed?mib=%d&tag=%s HTTP/1.1\r\nHost: localhost\r\n"
                  b"Connection: close\r\n\r\n" % (mib, tag.encode()))
        done = os.path.join(jail["root"], "marks", tag)
        wait_for(lambda: os.path.exists(done), timeout=30,
                 what="the application to finish while its client reads "
                      "nothing (log: %s)" % srv.log_since(mark)[-1500:])
        # The spool file: named in the jail's /tmp (and unlinked at once).
        spool = os.path.join(jail["root"], "tmp") + "/"
        assert any(f.startswith(spool) for f in _open_files(pid)), _open_files(pid)
        chunks = []
        while True:
            b = s.recv(1 << 20)
            if not b:
                break
            chunks.append(b)
        data = b"".join(chunks)
    finally:
        s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:300]
    assert len(body) == mib << 20, len(body)
    for i in range(mib):
        block = body[i << 20:(i + 1) << 20]
        assert block == hashlib.sha256(b"block-%d" % i).digest() * 32768, i
    log = srv.log_since(mark)
    assert "temporary file" not in log, log[-2000:]
    # Nothing is left once the spool file is closed.
    wait_for(lambda: os.listdir(jail["tmp"]) == [],
             what="an empty /tmp in the jail (have %r)" % os.listdir(jail["tmp"]))
