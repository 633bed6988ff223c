"""Which WSGI module the suite loads: ours, or a reference mod_wsgi.

``MOD_WSGI_SO`` picks it:

- unset: ``target/release/libmod_wsgi_rs.so`` (ours, ``IMPL = "rs"``);
- ``/usr/lib/apache2/modules/mod_wsgi.so`` or the keyword ``mod_wsgi-4.9.4``:
  Debian's mod_wsgi 4.9.4 (``IMPL = "mod_wsgi"``, version (4, 9));
- the keyword ``mod_wsgi-6.1.1``: mod_wsgi 6.1.1 from PyPI, in the venv that
  ``scripts/reference-mod_wsgi`` makes (``IMPL = "mod_wsgi6"``, version
  (6, 1));
- the path of a mod_wsgi ``.so`` installed by pip into a virtualenv
  (``<venv>/lib/python3.X/site-packages/mod_wsgi/server/mod_wsgi-py3X*.so``):
  that mod_wsgi, with its version read from the venv's metadata;
- any other path: taken to be a build of ours.

A pip-installed mod_wsgi needs ``WSGIPythonHome <venv>`` (what
``mod_wsgi-express module-config`` prints): ``PYTHON_HOME`` is that venv and
the harness puts the directive into the base config.
"""

import glob
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(os.path.dirname(HERE))

DEBIAN_MOD_WSGI = "/usr/lib/apache2/modules/mod_wsgi.so"
DEBIAN_VERSION = (4, 9)
DEFAULT_SO = os.path.join(REPO_DIR, "target", "release", "libmod_wsgi_rs.so")

REFERENCE_VERSION = "6.1.1"
REFERENCE_KEYWORD = "mod_wsgi-" + REFERENCE_VERSION
REFERENCE_SCRIPT = os.path.join(REPO_DIR, "scripts", "reference-mod_wsgi")
KEYWORDS = (REFERENCE_KEYWORD, "mod_wsgi-4.9.4")


def reference_venv_dir():
    """Where scripts/reference-mod_wsgi makes the venv (same rule)."""
    env = os.environ.get("MOD_WSGI_REFERENCE_DIR")
    if env:
        return os.path.abspath(env)
    if os.geteuid() == 0:
        return "/var/cache/mod_wsgi_rs/" + REFERENCE_KEYWORD
    base = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
    return os.path.join(base, "mod_wsgi_rs", REFERENCE_KEYWORD)


def venv_module(venv):
    """The mod_wsgi .so inside a venv, or None."""
    found = sorted(glob.glob(os.path.join(
        venv, "lib", "python3*", "site-packages", "mod_wsgi", "server", "mod_wsgi*.so")))
    return found[0] if found else None


def _is_debian_mod_wsgi(path):
    real = os.path.realpath(path)
    if real == os.path.realpath(DEBIAN_MOD_WSGI):
        return True
    return os.path.basename(path).startswith("mod_wsgi.so")


def _pip_mod_wsgi(path):
    """(version, venv) of a mod_wsgi .so installed by pip, else None.
    The venv is None when site-packages is not inside a virtualenv."""
    server = os.path.dirname(os.path.realpath(path))
    package = os.path.dirname(server)
    if (os.path.basename(server) != "server" or os.path.basename(package) != "mod_wsgi"
            or not os.path.basename(path).startswith("mod_wsgi")):
        return None
    site = os.path.dirname(package)
    version = None
    try:
        names = os.listdir(site)
    except OSError:
        names = []
    for name in names:
        m = re.match(r"mod_wsgi-(\d+)\.(\d+)[^-]*\.(?:dist|egg)-info$", name)
        if m:
            version = (int(m.group(1)), int(m.group(2)))
    if version is None:
        return None
    venv = site
    while venv != os.path.dirname(venv):
        if os.path.isfile(os.path.join(venv, "pyvenv.cfg")):
            return version, venv
        venv = os.path.dirname(venv)
    return version, None


def resolve(value):
    """MOD_WSGI_SO's value -> (so path, IMPL, version or None, python home
    or None, hint for a missing .so)."""
    hint = "Build it with `cargo build --release` (in %s), or set MOD_WSGI_SO=%s " \
           "to test Debian's mod_wsgi." % (REPO_DIR, DEBIAN_MOD_WSGI)
    value = (value or "").strip()
    if not value:
        return DEFAULT_SO, "rs", None, None, hint
    if value == "mod_wsgi-4.9.4":
        value = DEBIAN_MOD_WSGI
    if value == REFERENCE_KEYWORD:
        venv = reference_venv_dir()
        so = venv_module(venv)
        hint = "Make it with %s (it builds mod_wsgi %s from PyPI into %s)." % (
            REFERENCE_SCRIPT, REFERENCE_VERSION, venv)
        if so is None:
            return (os.path.join(venv, "lib", "python3.X", "site-packages", "mod_wsgi",
                                 "server", "mod_wsgi-py3X.so"),
                    "mod_wsgi6", (6, 1), venv, hint)
        value = so
    elif "/" not in value and not os.path.exists(value):
        raise RuntimeError(
            "MOD_WSGI_SO=%s: neither a file nor one of the keywords %s; give the "
            "path of a WSGI module .so or a keyword" % (value, ", ".join(KEYWORDS)))
    path = os.path.abspath(value)
    if _is_debian_mod_wsgi(path):
        return path, "mod_wsgi", DEBIAN_VERSION, None, hint
    pip = _pip_mod_wsgi(path)
    if pip:
        version, venv = pip
        impl = "mod_wsgi" if version[0] == 4 else "mod_wsgi%d" % version[0]
        return path, impl, version, venv, hint
    return path, "rs", None, None, hint
