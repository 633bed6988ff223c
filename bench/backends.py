"""The application servers that Apache users put behind mod_proxy_http
instead of running a WSGI module: Gunicorn (gthread worker) and Granian
(``--interface wsgi``), from the bench virtualenv.

Each serves ``apps/dispatch.py`` (every bench app mounted as
WSGIScriptAlias would mount it) on a loopback port, with the same number
of processes and threads as the modules' daemon mode, as www-data when run
as root (like the daemon processes), pinned to the server CPUs.
"""

import os
import signal
import subprocess
import time

# What to start, per backend: the command (after the interpreter's bin/).
# {procs} and {threads} are the daemon mode's processes= and threads=.
COMMANDS = {
    # gthread: one thread pool per worker process, keep-alive connections
    # held in a poller; --keep-alive above Apache's reuse of its backend
    # connections so that Apache never sends on a connection gunicorn just
    # closed.
    "gunicorn": ["gunicorn", "--worker-class", "gthread", "--workers", "{procs}",
                 "--threads", "{threads}", "--bind", "127.0.0.1:{port}",
                 "--keep-alive", "75", "--pid", "{pidfile}", "--chdir", "{apps}",
                 "--log-level", "warning", "--error-logfile", "{log}",
                 "dispatch:application"],
    # WSGI applications run on the blocking threads of each worker.
    # --http 1: Apache speaks HTTP/1.1 to its backends.
    "granian": ["granian", "--interface", "wsgi", "--http", "1", "--no-ws",
                "--no-access-log", "--host", "127.0.0.1",
                "--port", "{port}", "--workers", "{procs}",
                "--blocking-threads", "{threads}", "--working-dir", "{apps}",
                "--pid-file", "{pidfile}", "--log-level", "warning",
                "dispatch:application"],
}
PACKAGE = {"gunicorn": "gunicorn", "granian": "granian"}


def version(venv, name):
    out = subprocess.run(
        [os.path.join(venv, "bin", "python"), "-c",
         "import importlib.metadata as m; print(m.version(%r))" % PACKAGE[name]],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout.decode().strip()
    return out or None


def as_www_data():
    """setpriv prefix that drops to www-data when we are root."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=www-data", "--regid=www-data", "--init-groups"]


class Backend:
    """One Gunicorn or Granian process tree, started and stopped by us."""

    def __init__(self, name, venv, root, apps, mounts, procs, threads, cpus, env):
        self.name = name
        self.venv = venv
        self.root = root
        self.apps = apps
        self.mounts = mounts          # "/hello=hello.wsgi,..." for dispatch.py
        self.procs = procs
        self.threads = threads
        self.cpus = cpus              # taskset prefix or []
        self.env = env
        self.pidfile = os.path.join(root, "%s.pid" % name)
        self.log = os.path.join(root, "%s.log" % name)
        self.port = None
        self.proc = None

    def command(self):
        fill = {"procs": self.procs, "threads": self.threads, "port": self.port,
                "pidfile": self.pidfile, "apps": self.apps, "log": self.log}
        argv = [a.format(**fill) for a in COMMANDS[self.name]]
        argv[0] = os.path.join(self.venv, "bin", argv[0])
        return self.cpus + as_www_data() + argv

    def start(self, port, ready, timeout=30.0):
        """Starts the server on ``port``; ``ready()`` says when it answers."""
        self.port = port
        # The pid file and the log live in the server root, written by
        # www-data.
        os.chmod(self.root, 0o777)
        env = dict(self.env)
        env["BENCH_MOUNTS"] = self.mounts
        env["HOME"] = self.root
        out = open(os.path.join(self.root, "%s.stdout" % self.name), "wb")
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env=env,
                                     start_new_session=True, cwd=self.apps)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s:\n%s" % (
                    self.name, self.proc.returncode, self.log_tail()))
            if ready():
                return
            time.sleep(0.05)
        raise RuntimeError("%s did not answer within %.0f s:\n%s" % (
            self.name, timeout, self.log_tail()))

    def log_tail(self, n=30):
        out = []
        for p in (os.path.join(self.root, "%s.stdout" % self.name), self.log):
            try:
                with open(p, errors="replace") as f:
                    out += f.read().splitlines()[-n:]
            except OSError:
                pass
        return "\n".join(out)

    def main_pid(self):
        """The pid in the pid file (the arbiter / main process), else ours."""
        try:
            with open(self.pidfile) as f:
                pid = int(f.read().strip() or 0)
            if pid:
                return pid
        except (OSError, ValueError):
            pass
        return self.proc.pid if self.proc else None

    def stop(self, grace=10.0):
        """SIGTERM the pid of the pid file; SIGKILL the whole process group
        if anything is left after ``grace`` seconds. Returns what had to be
        killed (a list of pids)."""
        if self.proc is None:
            return []
        pid = self.main_pid()
        pgid = self.proc.pid          # start_new_session: its own group
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        killed = []
        try:
            self.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            killed.append(pid)
        left = _group_members(pgid)
        if left:
            killed += left
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        deadline = time.monotonic() + 5
        while _group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.proc = None
        return sorted(set(killed))


def _group_members(pgid):
    out = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            out.append(int(name))
    return out
