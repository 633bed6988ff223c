"""Clear, one-line errors, usage errors and --help."""

import os
import socket

import pytest

from cli_helpers import BIN, EXAMPLE, SO, cli_env, free_port, run_cli, write


def error_line(r):
    """The single error line mod-wsgi-rs printed (plus an optional hint)."""
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert lines, "no error output"
    assert lines[0].startswith("mod-wsgi-rs: error: "), r.stderr
    assert len(lines) <= 2, r.stderr
    return lines[0]


def start(*args, **kw):
    return run_cli("start-server", *args, **kw)


def test_missing_script(cli_bin, workdir):
    missing = os.path.join(workdir, "nope.wsgi")
    r = start(missing, "--port", free_port(), "--server-root",
              os.path.join(workdir, "srv"), "--module-path", SO)
    assert r.returncode == 1
    assert error_line(r) == "mod-wsgi-rs: error: WSGI script %s does not exist" % missing
    assert not os.path.exists(os.path.join(workdir, "srv"))


def test_no_script_given_is_a_usage_error(cli_bin):
    r = start("--port", free_port(), "--module-path", SO)
    assert r.returncode == 2
    assert "no application given" in error_line(r)
    assert "start-server --help" in r.stderr


def test_port_in_use(cli_bin, workdir):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    port = s.getsockname()[1]
    try:
        r = start(EXAMPLE, "--port", port, "--server-root", os.path.join(workdir, "srv"),
                  "--module-path", SO)
    finally:
        s.close()
    assert r.returncode == 1
    line = error_line(r)
    assert "port %d" % port in line and "already in use" in line and "--port" in line


def test_missing_apache(cli_bin, workdir):
    r = start(EXAMPLE, "--port", free_port(), "--server-root", os.path.join(workdir, "srv"),
              "--module-path", SO, "--httpd-executable", "/nonexistent")
    assert r.returncode == 1
    line = error_line(r)
    assert "/nonexistent does not exist" in line
    assert "apt-get install apache2" in line


def test_httpd_executable_not_executable(cli_bin, workdir):
    notexe = write(os.path.join(workdir, "apache2"), "not a program\n")
    r = start(EXAMPLE, "--port", free_port(), "--server-root", os.path.join(workdir, "srv"),
              "--module-path", SO, "--httpd-executable", notexe)
    assert r.returncode == 1
    assert "is not an executable file" in error_line(r)


def test_missing_module(cli_bin, workdir):
    r = start(EXAMPLE, "--port", free_port(), "--server-root", os.path.join(workdir, "srv"),
              "--module-path", os.path.join(workdir, "libmod_wsgi_rs.so"))
    assert r.returncode == 1
    line = error_line(r)
    assert "does not exist" in line and "scripts/build" in line


def test_module_not_found_next_to_a_copied_binary(cli_bin, workdir):
    """A mod-wsgi-rs with no module next to it and none installed says how
    to build one."""
    import shutil
    lone = os.path.join(workdir, "mod-wsgi-rs")
    shutil.copy(BIN, lone)
    os.chmod(lone, 0o755)
    r = run_cli_at(lone, "module-location", env=cli_env(APXS="/nonexistent-apxs"))
    if os.path.exists("/usr/lib/apache2/modules/mod_wsgi_rs.so"):
        pytest.skip("mod_wsgi_rs.so is installed system-wide")
    assert r.returncode == 1
    line = error_line(r)
    assert "was not found" in line and "scripts/build" in line


def run_cli_at(binary, *args, env=None):
    import subprocess
    return subprocess.run([binary] + [str(a) for a in args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env or cli_env(), text=True, timeout=30)


def test_python_version_mismatch(cli_bin, workdir):
    fake = os.path.join(workdir, "oldvenv")
    write(os.path.join(fake, "pyvenv.cfg"), "home = /opt/py/bin\nversion = 3.9.18\n")
    r = start(EXAMPLE, "--port", free_port(), "--server-root", os.path.join(workdir, "srv"),
              "--module-path", SO, "--python-home", fake)
    assert r.returncode == 1
    line = error_line(r)
    assert "Python 3.9" in line and "built for Python 3." in line and fake in line
    # The same for an active virtualenv.
    r = run_cli("module-config", "--module-path", SO, env=cli_env(VIRTUAL_ENV=fake))
    assert r.returncode == 1
    assert "active virtualenv" in error_line(r)


def test_python_home_missing(cli_bin, workdir):
    r = start(EXAMPLE, "--port", free_port(), "--module-path", SO,
              "--python-home", os.path.join(workdir, "none"))
    assert r.returncode == 1
    assert "is not a directory" in error_line(r)


@pytest.mark.parametrize("args, message", [
    (["--prot", "8000"], "unknown option --prot for start-server (did you mean --port?)"),
    (["--port", "http"], "--port expects a whole number from 1 to 65535, not 'http'"),
    (["--port"], "--port needs NUMBER"),
    (["--url-alias", "/static"], "--url-alias needs URL PATH"),
    (["--url-alias", "static", "/tmp"], "--url-alias URL must start with '/'"),
    (["--mount-point", "app"], "--mount-point must be a URL path starting with '/'"),
    (["--server-mpm", "threaded"], "--server-mpm must be event, worker or prefork"),
    (["--application-type", "egg"], "--application-type must be 'script', 'module', 'paste' or 'static'"),
    (["--log-level", "loud"], "--log-level must be"),
    (["--embedded-mode=yes"], "--embedded-mode is a flag and takes no value"),
    (["--user", "root"], None),
])
def test_usage_errors(cli_bin, args, message):
    r = start(EXAMPLE, "--module-path", SO, *args)
    if message is None:  # --user root: refused as root, ignored otherwise
        if os.geteuid() == 0:
            assert r.returncode == 2 and "unprivileged --user" in r.stderr
        return
    assert r.returncode == 2, r.stderr
    assert message in error_line(r)


def test_bad_module_spec(cli_bin):
    r = start("not a module", "--application-type", "module", "--module-path", SO)
    assert r.returncode == 2
    assert "is not a module name" in error_line(r)


def test_unknown_command(cli_bin):
    r = run_cli("serve")
    assert r.returncode == 2
    assert "unknown command 'serve'" in error_line(r)


@pytest.mark.parametrize("args, message", [
    (["start-sever"], "unknown command 'start-sever' (did you mean start-server?)"),
    (["module-confg"], "unknown command 'module-confg' (did you mean module-config?)"),
    (["start-server", EXAMPLE, "--procesess", "2"],
     "unknown option --procesess for start-server (did you mean --processes?)"),
    (["install-module", "--modules-dir", "/tmp"],
     "unknown option --modules-dir for install-module (did you mean --modules-directory?)"),
])
def test_mistyped_names_get_a_suggestion(cli_bin, args, message):
    r = run_cli(*args)
    assert r.returncode == 2, r.stderr
    assert message in error_line(r)


def test_version(cli_bin):
    from cli_helpers import REPO
    with open(os.path.join(REPO, "cli", "Cargo.toml")) as f:
        version = next(l.split('"')[1] for l in f if l.startswith("version = "))
    for arg in ("--version", "-V", "version"):
        r = run_cli(arg)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "mod-wsgi-rs %s\n" % version


@pytest.mark.parametrize("command, expect", [
    ("start-server", ["--url-alias <URL> <PATH>", "--reload-on-changes", "--embedded-mode",
                      "--processes", "--log-to-terminal", "--setup-only"]),
    ("setup-server", ["apachectl", "--port"]),
    ("module-config", ["LoadModule", "--python-home"]),
    ("module-location", ["--module-path"]),
    ("install-module", ["apxs", "--modules-directory"]),
])
def test_help(cli_bin, command, expect):
    r = run_cli(command, "--help")
    assert r.returncode == 0
    assert r.stdout.startswith("Usage: mod-wsgi-rs %s" % command)
    for e in expect:
        assert e in r.stdout
    assert run_cli("help", command).stdout == r.stdout


def test_top_level_help_and_version(cli_bin):
    r = run_cli("--help")
    assert r.returncode == 0
    for c in ("start-server", "setup-server", "module-config", "module-location",
              "install-module"):
        assert c in r.stdout
    r = run_cli()
    assert r.returncode == 2 and "start-server" in r.stderr
    r = run_cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("mod-wsgi-rs ")


def test_apache_failing_to_start_is_reported(cli_bin, workdir):
    """A bad --include-file makes Apache exit at start: mod-wsgi-rs says so
    and exits non-zero."""
    inc = write(os.path.join(workdir, "bad.conf"), "ThisIsNotADirective on\n")
    r = start(EXAMPLE, "--embedded-mode", "--port", free_port(), "--server-root",
              os.path.join(workdir, "srv"), "--module-path", SO, "--include-file", inc,
              timeout=60)
    assert r.returncode == 1
    assert "ThisIsNotADirective" in r.stderr
    assert "mod-wsgi-rs: error: Apache exited while starting" in r.stderr
