"""The end-to-end suite's virtualenv: made once per machine, then reused.

The venv is made with Debian's Python (the one the module is built against)
and holds the pinned versions of ``requirements.txt``. It lives in a cache
directory, by default ``/var/cache/mod_wsgi_rs-tests`` when run as root
(``$XDG_CACHE_HOME/mod_wsgi_rs-tests`` otherwise; ``MOD_WSGI_RS_TEST_CACHE``
overrides both):

    venv-py311-<hash>/   the virtualenv; <hash> covers requirements.txt and
                         the exact base Python version
    wheels/              every wheel ever installed (sdists are built once),
                         so a new venv (edited requirements, deleted venv)
                         does not fetch again what the machine already has
    pip-cache/           PIP_CACHE_DIR, pip's HTTP cache (when pip keeps one)
    .lock                taken while a venv is being made (concurrent runs)

A venv counts as made only once ``.complete`` is written inside it; a half
made one (an interrupted run) is made again. Everything is world-readable:
Apache's children and the daemon processes run as www-data.

Warm the cache by hand (prints the venv's path):

    /usr/bin/python3 tests/e2e/venv_cache.py
"""

import fcntl
import hashlib
import os
import shutil
import stat
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, "requirements.txt")
BASE_PYTHON = "/usr/bin/python3"
# Bump when the way the venv is made changes (not its contents).
LAYOUT = "1"
IMPORT_CHECK = "import flask, django, httpbin, werkzeug"


class VenvError(RuntimeError):
    pass


def cache_root():
    env = os.environ.get("MOD_WSGI_RS_TEST_CACHE")
    if env:
        return os.path.abspath(env)
    if os.geteuid() == 0:
        return "/var/cache/mod_wsgi_rs-tests"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "mod_wsgi_rs-tests")


def base_python_version():
    """(full version "3.11.2", short "311") of BASE_PYTHON."""
    out = subprocess.run(
        [BASE_PYTHON, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        check=True, stdout=subprocess.PIPE, text=True).stdout.strip()
    major, minor, _ = out.split(".")
    return out, major + minor


def venv_key(full_version):
    h = hashlib.sha256()
    with open(REQUIREMENTS, "rb") as f:
        h.update(f.read())
    h.update(("\0%s\0%s\0%s" % (BASE_PYTHON, full_version, LAYOUT)).encode())
    return h.hexdigest()[:12]


def _pip_env(root):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and k not in ("PIP_FIND_LINKS", "PIP_NO_INDEX",
                                                       "PIP_REQUIRE_VIRTUALENV",
                                                       "VIRTUAL_ENV")}
    env["PIP_CACHE_DIR"] = os.path.join(root, "pip-cache")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(cmd, env, what):
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise VenvError("%s failed (exit %d): %s\n%s"
                        % (what, p.returncode, " ".join(cmd), p.stdout[-6000:]))
    return p.stdout


def _make_world_readable(path):
    for dirpath, dirnames, filenames in os.walk(path):
        for name in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
            try:
                st = os.lstat(name)
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            mode = st.st_mode | stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
            if stat.S_ISDIR(st.st_mode) or st.st_mode & stat.S_IXUSR:
                mode |= stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
            if mode != st.st_mode:
                os.chmod(name, stat.S_IMODE(mode))


def _is_complete(venv, key):
    try:
        with open(os.path.join(venv, ".complete")) as f:
            return f.read().split()[0] == key and os.path.exists(
                os.path.join(venv, "bin", "python"))
    except (OSError, IndexError):
        return False


def ensure_venv(log=None):
    """Returns (venv path, seconds spent making it or 0.0 when reused)."""
    log = log or (lambda msg: None)
    full, short = base_python_version()
    key = venv_key(full)
    root = cache_root()
    venv = os.path.join(root, "venv-py%s-%s" % (short, key))
    if _is_complete(venv, key):
        return venv, 0.0
    old_umask = os.umask(0o022)
    try:
        os.makedirs(root, exist_ok=True)
        os.chmod(root, 0o755)
        with open(os.path.join(root, ".lock"), "w") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            if _is_complete(venv, key):  # another run made it meanwhile
                return venv, 0.0
            t0 = time.monotonic()
            _build(root, venv, key, log)
            return venv, time.monotonic() - t0
    finally:
        os.umask(old_umask)


def _build(root, venv, key, log):
    env = _pip_env(root)
    wheels = os.path.join(root, "wheels")
    os.makedirs(wheels, exist_ok=True)
    if os.path.exists(venv):
        shutil.rmtree(venv)
    log("making the e2e virtualenv %s" % venv)
    _run([BASE_PYTHON, "-m", "venv", venv], env,
         "creating the virtualenv (is python3-venv installed? scripts/install-deps)")
    py = os.path.join(venv, "bin", "python")
    install = [py, "-m", "pip", "install", "-q", "--no-index",
               "--find-links", wheels, "-r", REQUIREMENTS]
    try:
        _run(install, env, "installing from the wheel cache")
        log("installed from the wheel cache %s" % wheels)
    except VenvError:
        # Something is not in the wheel cache yet: fetch (and build) the
        # wheels that are missing, then install offline from the cache.
        log("fetching wheels into %s" % wheels)
        _run([py, "-m", "pip", "wheel", "-q", "--wheel-dir", wheels,
              "--find-links", wheels, "-r", REQUIREMENTS], env,
             "downloading the wheels from PyPI")
        _run(install, env, "installing from the wheel cache")
    _run([py, "-c", IMPORT_CHECK], env, "importing the frameworks")
    _make_world_readable(venv)
    _make_world_readable(wheels)
    with open(os.path.join(venv, ".complete"), "w") as f:
        f.write("%s %s\n" % (key, time.strftime("%Y-%m-%dT%H:%M:%S")))
    os.chmod(os.path.join(venv, ".complete"), 0o644)
    # Venvs of older requirements are of no further use: drop them.
    prefix = os.path.basename(venv).rsplit("-", 1)[0] + "-"
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith(prefix) and path != venv and os.path.isdir(path):
            log("removing the outdated virtualenv %s" % path)
            shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":
    path, secs = ensure_venv(log=lambda m: print(m, file=sys.stderr))
    print(path)
    print("made in %.1fs" % secs if secs else "reused", file=sys.stderr)
