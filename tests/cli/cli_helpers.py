"""Helpers for the tests of the ``mod-wsgi-rs`` command (see conftest.py):
where the program and the module are, running the program, watching
processes, HTTP requests, and ``Server``, one ``start-server`` run."""

import atexit
import http.client
import os
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def _readable_by_others(path):
    """Whether any user (Apache's children run as www-data) can read ``path``:
    it is readable by others and every directory above it searchable."""
    path = os.path.abspath(path)
    if not os.stat(path).st_mode & stat.S_IROTH:
        return False
    d = os.path.dirname(path)
    while True:
        if not os.stat(d).st_mode & stat.S_IXOTH:
            return False
        if d == "/":
            return True
        d = os.path.dirname(d)


# A clone www-data cannot read (e.g. under /root, mode 0700): the tests use
# world-readable copies of the example and the module, and run the program
# from a world-readable directory (its daemons start in the current one).
RUN_DIR = tempfile.mkdtemp(prefix="mwr-cli-", dir="/tmp")
os.chmod(RUN_DIR, 0o755)
atexit.register(shutil.rmtree, RUN_DIR, True)


def _readable(path):
    if not os.path.isfile(path) or _readable_by_others(path):
        return path
    copy = os.path.join(RUN_DIR, os.path.basename(path))
    shutil.copyfile(path, copy)
    os.chmod(copy, 0o644)
    return copy


BIN = os.path.abspath(os.environ.get("MOD_WSGI_RS_BIN")
                      or os.path.join(REPO, "target", "release", "mod-wsgi-rs"))
SO = _readable(os.path.abspath(os.environ.get("MOD_WSGI_SO")
                               or os.path.join(REPO, "target", "release", "libmod_wsgi_rs.so")))
EXAMPLE = _readable(os.path.join(REPO, "examples", "hello.wsgi"))
APACHE = "/usr/sbin/apache2"

START_TIMEOUT = 20.0
STOP_TIMEOUT = 40.0


# ------------------------------------------------------------------ helpers

def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def cli_env(**extra):
    """The environment for mod-wsgi-rs: no active virtualenv unless a test
    sets one, a UTF-8 locale."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
    env["LANG"] = "C.UTF-8"
    env.pop("LC_ALL", None)
    # install-module never writes into the real /etc/apache2 from a test:
    # tests that want mods-available files give a temporary directory.
    env["MOD_WSGI_RS_MODS_AVAILABLE"] = ""
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def run_cli(*args, env=None, timeout=60, cwd=None):
    """Runs mod-wsgi-rs to completion; returns the CompletedProcess."""
    return subprocess.run([BIN] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env or cli_env(),
                          timeout=timeout, cwd=cwd or RUN_DIR, text=True)


def _stat(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    fields = data.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])


def pid_alive(pid):
    st = _stat(pid)
    return st is not None and st[0] not in ("Z", "X")


def cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return None


def processes_of(root, port=None):
    """Live processes (not zombies, not us) whose command line mentions
    ``root``, or that are daemon processes named after ``port``."""
    marker = "(wsgi:127.0.0.1:%d:" % port if port else None
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        pid = int(name)
        cmd = cmdline(pid)
        if not cmd or not pid_alive(pid):
            continue
        if root in cmd or (marker and cmd.startswith(marker)):
            found.append((pid, cmd))
    return found


def reap_zombie_children():
    """Zombies that are our children (Apache re-parented to us when pytest is
    a subreaper): reap them, by pid."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        st = _stat(int(name))
        if st and st[0] == "Z" and st[1] == me:
            try:
                os.waitpid(int(name), os.WNOHANG)
            except ChildProcessError:
                pass


def kill_everything(root, port=None):
    """SIGKILL the Apache of a pid file and anything from ``root``."""
    pidfile = os.path.join(root, "httpd.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
    except (OSError, ValueError):
        pass
    for pid, _ in processes_of(root, port):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while processes_of(root, port) and time.monotonic() < deadline:
        time.sleep(0.05)
    reap_zombie_children()


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %s %r>" % (self.status, self.body[:300])


def http_request(port, path, method="GET", body=None, headers=None, timeout=10):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, r.headers, r.read())
    finally:
        conn.close()


def wait_for(predicate, timeout, what, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))
        time.sleep(interval)


def make_dir(prefix="mwr-"):
    """A short, world-readable directory under /tmp (Apache's children may
    run as www-data; daemon sockets need short paths)."""
    d = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(d, 0o755)
    return d


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


# ------------------------------------------------------------------ servers

class Server:
    """One ``mod-wsgi-rs start-server`` run."""

    def __init__(self, workdir, n=0, program=None):
        self.program = program or BIN
        self.workdir = workdir
        self.root = os.path.join(workdir, "srv%d" % n)
        self.port = free_port()
        self.proc = None
        self.out_path = os.path.join(workdir, "cli%d.out" % n)
        self.err_path = os.path.join(workdir, "cli%d.err" % n)

    def start(self, *args, env=None, cwd=None, module=True, wait=True):
        argv = [self.program, "start-server"] + [str(a) for a in args]
        argv += ["--port", str(self.port), "--server-root", self.root]
        if module:
            argv += ["--module-path", SO]
        self.argv = argv
        self.out = open(self.out_path, "w")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL,
                                     env=env or cli_env(), cwd=cwd or self.workdir)
        if wait:
            self.wait_ready()
        return self

    def output(self):
        def read(p):
            try:
                with open(p) as f:
                    return f.read()
            except OSError:
                return ""
        return read(self.out_path), read(self.err_path)

    def error_log(self):
        try:
            with open(os.path.join(self.root, "error_log")) as f:
                return f.read()
        except OSError:
            return ""

    def diagnostics(self):
        out, err = self.output()
        return ("--- mod-wsgi-rs stdout ---\n%s\n--- stderr ---\n%s\n--- error_log ---\n%s"
                % (out, err, self.error_log()[-4000:]))

    def wait_ready(self, path="/", timeout=START_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("mod-wsgi-rs exited with %s before serving\n%s"
                                     % (self.proc.returncode, self.diagnostics()))
            try:
                return http_request(self.port, path, timeout=5)
            except OSError as e:
                last = e
            time.sleep(0.05)
        raise AssertionError("server did not answer within %.0fs (%r)\n%s"
                             % (timeout, last, self.diagnostics()))

    def get(self, path, **kw):
        return http_request(self.port, path, **kw)

    def apache_pid(self):
        try:
            with open(os.path.join(self.root, "httpd.pid")) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def leftovers(self):
        return processes_of(self.root, self.port)

    def signal_and_wait(self, sig, timeout=STOP_TIMEOUT):
        """Send ``sig`` to mod-wsgi-rs; return its exit status."""
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("mod-wsgi-rs did not exit within %.0fs of signal %d\n%s"
                                 % (timeout, sig, self.diagnostics()))

    def cleanup(self):
        try:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
        finally:
            kill_everything(self.root, self.port)
            for f in ("out", "err"):
                if hasattr(self, f):
                    getattr(self, f).close()
