"""Helpers of the end-to-end suite shared by conftest.py and the tests
(kept out of conftest.py so that tests never import a ``conftest`` module,
a name every test directory has)."""

import os
import pwd

from harness.apache import Apache
from browser import Browser

ALL_MODES = ("embedded", "daemon")
_mode_env = os.environ.get("MOD_WSGI_TEST_MODE", "").strip()
MODES = (_mode_env,) if _mode_env in ALL_MODES else ALL_MODES
MOUNTS = ("/", "/sub")
# (mode, mount) pairs; ids like "daemon-sub", "embedded-root".
MODE_MOUNTS = [(m, mt) for m in MODES for mt in MOUNTS]
MODE_MOUNT_IDS = ["%s-%s" % (m, "root" if mt == "/" else mt.strip("/"))
                  for m, mt in MODE_MOUNTS]

DAEMON_GROUP = "e2e"
DJANGO_ADMIN = ("admin", "admin@example.org", "e2e-Passw0rd-ßecret")


def run_as_www_data():
    return os.geteuid() == 0


def give_to_apache_user(path):
    """chown -R to www-data when Apache runs as www-data (we are root)."""
    if not run_as_www_data():
        return
    pw = pwd.getpwnam("www-data")
    for dirpath, dirnames, filenames in os.walk(path):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        for fn in filenames:
            os.chown(os.path.join(dirpath, fn), pw.pw_uid, pw.pw_gid)


# --------------------------------------------------------------- configs
def python_config(mode, venv, python_path="@APPS@/e2e", group=DAEMON_GROUP,
                  daemon_options="processes=1 threads=8"):
    """Where Python comes from: WSGIPythonHome in embedded mode,
    python-home= on WSGIDaemonProcess in daemon mode (Apache's children then
    run Debian's Python, as users' servers do)."""
    if mode == "embedded":
        lines = ["WSGIPythonHome %s" % venv]
        if python_path:
            lines.append("WSGIPythonPath %s" % python_path)
        return "\n".join(lines) + "\n"
    opts = "python-home=%s" % venv
    if python_path:
        opts += " python-path=%s" % python_path
    return ("WSGISocketPrefix @ROOT@/run/wsgi\n"
            "WSGIDaemonProcess %s %s %s display-name=%%{GROUP}\n"
            "WSGIProcessGroup %s\n" % (group, opts, daemon_options, group))


def app_config(mode, venv, script, mount, extra=""):
    return (python_config(mode, venv)
            + "WSGIApplicationGroup %{GLOBAL}\n"
            + extra
            + "WSGIScriptAlias %s @APPS@/e2e/%s\n" % (mount, script))


class AppServer:
    """A started Apache serving one e2e app at ``mount``. ``prefix`` is the
    mount as a path prefix ('' for /)."""

    def __init__(self, srv, mode, mount, venv):
        self.srv = srv
        self.mode = mode
        self.mount = mount
        self.prefix = "" if mount == "/" else mount
        self.venv = venv

    def path(self, p):
        return self.prefix + p

    def browser(self):
        return Browser(self.srv)

    def get(self, p, **kw):
        return self.srv.get(self.path(p), **kw)

    def check_probe(self, r):
        """The response came from the app in the venv, in the right mode."""
        assert r.header("X-E2E-Prefix") == self.venv, r.headers
        expected_group = DAEMON_GROUP if self.mode == "daemon" else ""
        assert r.header("X-E2E-Process-Group") == expected_group, r.headers


def start_app_server(request, body, name, prepare=None, mpm="event"):
    """Like harness.start_server, with a ``prepare(srv)`` step between
    making the server root and starting Apache (data files, a database)."""
    srv = Apache(body=body, mpm=mpm, name=name)
    request.addfinalizer(srv.stop)
    if prepare is not None:
        prepare(srv)
    srv.start()
    return srv


