"""``module-config``, ``module-location`` and ``install-module``: using the
module from a hand-written httpd.conf."""

import filecmp
import os
import shutil
import signal
import subprocess

from cli_helpers import (APACHE, BIN, EXAMPLE, SO, cli_env, free_port, http_request,
                      kill_everything, pid_alive, processes_of, reap_zombie_children,
                      run_cli, wait_for, write)


def test_module_location(cli_bin):
    r = run_cli("module-location", "--module-path", SO)
    assert r.returncode == 0
    assert r.stdout == SO + "\n"


def test_module_is_found_next_to_the_program(cli_bin, workdir):
    """Without --module-path: libmod_wsgi_rs.so in the program's directory
    (target/release when cargo built both)."""
    shutil.copy(BIN, os.path.join(workdir, "mod-wsgi-rs"))
    os.symlink(SO, os.path.join(workdir, "libmod_wsgi_rs.so"))
    r = subprocess.run([os.path.join(workdir, "mod-wsgi-rs"), "module-config"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       env=cli_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'LoadModule wsgi_module "%s/libmod_wsgi_rs.so"\n' % workdir


def test_module_config_in_a_hand_written_httpd_conf(cli_bin, workdir):
    r = run_cli("module-config", "--module-path", SO)
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'LoadModule wsgi_module "%s"\n' % SO
    port = free_port()
    user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
    conf = write(os.path.join(workdir, "httpd.conf"), f"""
ServerRoot "{workdir}"
PidFile "{workdir}/httpd.pid"
ErrorLog "{workdir}/error_log"
DefaultRuntimeDir "{workdir}"
Listen 127.0.0.1:{port}
ServerName localhost
{user}
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
{r.stdout}
WSGIScriptAlias /hello {EXAMPLE}
<Directory {os.path.dirname(EXAMPLE)}>
    Require all granted
</Directory>
""")
    try:
        t = subprocess.run([APACHE, "-t", "-f", conf], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=cli_env())
        assert t.returncode == 0, t.stdout
        s = subprocess.run([APACHE, "-f", conf, "-k", "start"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=cli_env())
        assert s.returncode == 0, s.stdout

        def up():
            try:
                return http_request(port, "/hello/there", timeout=2)
            except OSError:
                return None
        resp = wait_for(up, 20, "the hand-configured Apache to answer")
        assert resp.status == 200
        assert resp.text.startswith("Hello from mod_wsgi_rs!")
        assert "'/hello'" in resp.text  # SCRIPT_NAME
        pid = int(open(os.path.join(workdir, "httpd.pid")).read())
        os.kill(pid, signal.SIGTERM)
        wait_for(lambda: not pid_alive(pid), 20, "Apache to stop")
        wait_for(lambda: processes_of(conf) == [], 10, "Apache's children to exit")
    finally:
        kill_everything(workdir)
        reap_zombie_children()


def test_module_config_prints_python_home_of_active_virtualenv(cli_bin, workdir):
    venv = os.path.join(workdir, "venv")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", venv], check=True)
    r = run_cli("module-config", "--module-path", SO, env=cli_env(VIRTUAL_ENV=venv))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ('LoadModule wsgi_module "%s"\nWSGIPythonHome "%s"\n' % (SO, venv))
    # Also found when the virtualenv's python3 is first on PATH.
    env = cli_env(VIRTUAL_ENV=None)
    env["PATH"] = os.path.join(venv, "bin") + os.pathsep + env["PATH"]
    r = run_cli("module-config", "--module-path", SO, env=env)
    assert r.stdout.endswith('WSGIPythonHome "%s"\n' % venv), r.stdout + r.stderr


def test_install_module_into_modules_directory(cli_bin, workdir):
    dest = os.path.join(workdir, "modules")
    os.mkdir(dest)
    r = run_cli("install-module", "--module-path", SO, "--modules-directory", dest)
    assert r.returncode == 0, r.stderr
    installed = os.path.join(dest, "mod_wsgi_rs.so")
    assert r.stdout == 'LoadModule wsgi_module "%s"\n' % installed
    assert filecmp.cmp(SO, installed, shallow=False)
    assert os.stat(installed).st_mode & 0o777 == 0o644
    # Installing again replaces the file (rename, not overwrite in place).
    ino = os.stat(installed).st_ino
    r = run_cli("install-module", "--module-path", SO, "--modules-directory", dest)
    assert r.returncode == 0
    assert os.stat(installed).st_ino != ino


def test_install_module_asks_apxs(cli_bin, workdir):
    dest = os.path.join(workdir, "libexec")
    os.mkdir(dest)
    apxs = write(os.path.join(workdir, "apxs"),
                 '#!/bin/sh\n[ "$1 $2" = "-q LIBEXECDIR" ] && echo %s\n' % dest, mode=0o755)
    r = run_cli("install-module", "--module-path", SO, env=cli_env(APXS=apxs))
    assert r.returncode == 0, r.stderr
    assert r.stdout == 'LoadModule wsgi_module "%s/mod_wsgi_rs.so"\n' % dest
    assert os.path.isfile(os.path.join(dest, "mod_wsgi_rs.so"))


def test_install_module_without_apxs(cli_bin, workdir):
    env = cli_env(APXS=os.path.join(workdir, "no-apxs"))
    r = run_cli("install-module", "--module-path", SO, env=env)
    assert r.returncode == 1
    assert "apache2-dev" in r.stderr and "--modules-directory" in r.stderr


def debian_layout(workdir, wsgi_enabled=False):
    """A temporary /etc/apache2 (mods-available, mods-enabled) and modules
    directory; with ``wsgi_enabled``, Debian's mod_wsgi enabled in it."""
    conf = os.path.join(workdir, "apache2")
    avail = os.path.join(conf, "mods-available")
    enabled = os.path.join(conf, "mods-enabled")
    modules = os.path.join(workdir, "modules")
    for d in (avail, enabled, modules):
        os.makedirs(d)
    if wsgi_enabled:
        write(os.path.join(avail, "wsgi.load"),
              "LoadModule wsgi_module /usr/lib/apache2/modules/mod_wsgi.so\n")
        os.symlink("../mods-available/wsgi.load", os.path.join(enabled, "wsgi.load"))
    return conf, avail, enabled, modules


def a2enmod(conf, workdir, module):
    state = os.path.join(workdir, "a2state")
    os.makedirs(state, exist_ok=True)
    return subprocess.run(["/usr/sbin/a2enmod", "-q", module], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True,
                          env=cli_env(APACHE_CONFDIR=conf, APACHE_STATE_DIRECTORY=state))


def test_install_module_writes_mods_available_for_a2enmod(cli_bin, workdir):
    conf, avail, enabled, modules = debian_layout(workdir)
    r = run_cli("install-module", "--module-path", SO, "--modules-directory", modules,
                "--mods-available", avail)
    assert r.returncode == 0, r.stderr
    installed = os.path.join(modules, "mod_wsgi_rs.so")
    assert r.stdout == 'LoadModule wsgi_module "%s"\n' % installed
    assert "a2enmod wsgi_rs" in r.stderr and "warning" not in r.stderr
    load = open(os.path.join(avail, "wsgi_rs.load")).read()
    assert load.splitlines()[0] == "# Conflicts: wsgi"
    assert load.endswith("LoadModule wsgi_module %s\n" % installed)
    repo_conf = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))), "apache-conf", "wsgi_rs.conf")
    assert filecmp.cmp(os.path.join(avail, "wsgi_rs.conf"), repo_conf, shallow=False)
    assert os.stat(os.path.join(avail, "wsgi_rs.load")).st_mode & 0o777 == 0o644

    # A local edit of wsgi_rs.conf survives a second install.
    write(os.path.join(avail, "wsgi_rs.conf"), "# mine\n")
    r = run_cli("install-module", "--module-path", SO, "--modules-directory", modules,
                env=cli_env(MOD_WSGI_RS_MODS_AVAILABLE=avail))
    assert r.returncode == 0, r.stderr
    assert open(os.path.join(avail, "wsgi_rs.conf")).read() == "# mine\n"
    assert "kept the existing wsgi_rs.conf" in r.stderr

    if os.path.exists("/usr/sbin/a2enmod"):
        a = a2enmod(conf, workdir, "wsgi_rs")
        assert a.returncode == 0, a.stdout
        assert os.path.realpath(os.path.join(enabled, "wsgi_rs.load")) == \
            os.path.join(avail, "wsgi_rs.load")


def test_install_module_warns_when_debian_mod_wsgi_is_enabled(cli_bin, workdir):
    conf, avail, enabled, modules = debian_layout(workdir, wsgi_enabled=True)
    r = run_cli("install-module", "--module-path", SO, "--modules-directory", modules,
                "--mods-available", avail)
    assert r.returncode == 0, r.stderr
    warnings = [l for l in r.stderr.splitlines() if "warning" in l]
    assert len(warnings) == 1, r.stderr
    assert os.path.join(enabled, "wsgi.load") in warnings[0]
    assert "a2dismod wsgi" in warnings[0]
    if os.path.exists("/usr/sbin/a2enmod"):
        # The Conflicts line makes a2enmod refuse while wsgi is enabled.
        a = a2enmod(conf, workdir, "wsgi_rs")
        assert a.returncode != 0 and "conflict" in a.stdout, a.stdout
        assert not os.path.exists(os.path.join(enabled, "wsgi_rs.load"))


def test_install_module_with_a_missing_mods_available(cli_bin, workdir):
    modules = os.path.join(workdir, "modules")
    os.mkdir(modules)
    missing = os.path.join(workdir, "nope")
    r = run_cli("install-module", "--module-path", SO, "--modules-directory", modules,
                "--mods-available", missing)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "mod-wsgi-rs: error: --mods-available %s is not a directory (Apache's "
        "mods-available, e.g. /etc/apache2/mods-available)" % missing]
    assert not os.path.exists(os.path.join(modules, "mod_wsgi_rs.so"))
