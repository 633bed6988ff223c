"""mod_wsgi-express's options for the module's script hooks and the
daemon/embedded settings that came with them, against a real Apache:
--add-handler (WSGIHandlerScript by extension), --host-access-script,
--auth-user-script, --auth-type, --auth-group-script, --auth-group (the
module's access check and its ``wsgi``/``wsgi-group`` providers),
--ignore-activity, --response-flush-delay, and --switch-interval and
--python-eggs in embedded mode."""

import base64
import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from cli_helpers import EXAMPLE, SO, run_cli, wait_for, write

PID_APP = r'''
import json, os, sys

def application(environ, start_response):
    body = json.dumps({
        "pid": os.getpid(),
        "path": environ["PATH_INFO"],
        "remote_user": environ.get("REMOTE_USER"),
        "switch_interval": sys.getswitchinterval(),
        "egg_cache": os.environ.get("PYTHON_EGG_CACHE"),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
'''

USERS = r'''
import hashlib

PASSWORDS = {"alice": "secret", "bob": "hunter2"}

def check_password(environ, user, password):
    if user not in PASSWORDS:
        return None
    return PASSWORDS[user] == password

def get_realm_hash(environ, user, realm):
    if user not in PASSWORDS:
        return None
    return hashlib.md5(("%s:%s:%s" % (user, realm, PASSWORDS[user])).encode()).hexdigest()
'''

GROUPS = r'''
def groups_for_user(environ, user):
    return {"alice": ["admins", "staff"], "bob": ["staff"]}.get(user, [])
'''


@pytest.fixture
def app(workdir):
    d = os.path.join(workdir, "app")
    path = write(os.path.join(d, "app.wsgi"), PID_APP)
    os.chmod(d, 0o755)
    return path


def script(workdir, name, text):
    return write(os.path.join(workdir, "app", name), text)


def json_of(srv, path, **kw):
    r = srv.get(path, **kw)
    assert r.status == 200, (r, srv.diagnostics())
    return json.loads(r.body)


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(
        ("%s:%s" % (user, password)).encode()).decode()}


def read(path):
    with open(path) as f:
        return f.read()


def configtest(root):
    c = subprocess.run([os.path.join(root, "apachectl"), "configtest"], capture_output=True,
                       text=True)
    assert c.returncode == 0 and "Syntax OK" in c.stderr, c.stderr


# ------------------------------------------------------------ --add-handler

def test_add_handler_serves_files_of_its_extension(server, workdir, app):
    docs = os.path.join(workdir, "docs")
    write(os.path.join(docs, "page.md"), "# markdown\n")
    write(os.path.join(docs, "notes.TXT2"), "upper-case extension\n")
    write(os.path.join(docs, "plain.txt"), "static text\n")
    os.chmod(docs, 0o755)
    md = script(workdir, "md.py", r'''
import os
def handle_request(environ, start_response):
    with open(environ["SCRIPT_FILENAME"]) as f:
        text = f.read()
    body = ("md %d %s %s" % (os.getpid(), environ["SCRIPT_NAME"], text.strip())).encode()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
''')
    other = script(workdir, "other.py", r'''
def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"application of other.py"]
''')
    srv = server(app, "--document-root", docs, "--add-handler", ".md", md,
                 "--add-handler", "txt2", other)
    app_pid = json_of(srv, "/")["pid"]
    r = srv.get("/page.md")
    assert r.status == 200, srv.diagnostics()
    # Run by the handler script, in the application's daemon process.
    assert r.text == "md %d /page.md # markdown" % app_pid, r.text
    r = srv.get("/notes.TXT2")
    assert (r.status, r.body) == (200, b"application of other.py")
    assert srv.get("/plain.txt").body == b"static text\n"
    # A missing file is the application's, as any other URL.
    assert json_of(srv, "/missing.md")["path"] == "/missing.md"
    conf = read(os.path.join(srv.root, "httpd.conf"))
    assert "AddHandler wsgi-resource .md\nAddHandler wsgi-resource .txt2\n" in conf


@pytest.mark.parametrize("args,message", [
    (["--add-handler", "m d", "SCRIPT"], "--add-handler m d must be a file name extension"),
    (["--add-handler", ".md", "/nonexistent/md.py"],
     "--add-handler: script /nonexistent/md.py does not exist"),
    (["--add-handler", ".md", "SCRIPT", "--add-handler", "MD", "SCRIPT"],
     "--add-handler .md is given twice"),
    (["--auth-group-script", "SCRIPT"], "--auth-group-script needs --auth-user-script"),
    (["--auth-type", "NTLM"], "--auth-type must be Basic or Digest, not 'NTLM'"),
    (["--host-access-script", "/nonexistent/a.py"],
     "--host-access-script: script /nonexistent/a.py does not exist"),
])
def test_bad_script_options(cli_bin, workdir, args, message):
    some = script(workdir, "some.py", "\n")
    args = [some if a == "SCRIPT" else a for a in args]
    r = run_cli("setup-server", EXAMPLE, *args, "--server-root", os.path.join(workdir, "r"))
    assert r.returncode in (1, 2), r
    assert message in r.stderr.splitlines()[0], r.stderr


# ---------------------------------------------------------- access and auth

def test_host_access_script(server, workdir, app):
    access = script(workdir, "access.py", r'''
def allow_access(environ, host):
    return environ.get("HTTP_X_LET_ME_IN") == "please"
''')
    srv = server(app, "--host-access-script", access)
    assert srv.get("/").status == 403, srv.diagnostics()
    assert srv.get("/x", headers={"X-Let-Me-In": "no"}).status == 403
    assert json_of(srv, "/x", headers={"X-Let-Me-In": "please"})["path"] == "/x"


def test_auth_user_script_with_basic(server, workdir, app):
    users = script(workdir, "users.py", USERS)
    srv = server(app, "--auth-user-script", users, "--auth-type", "basic", "--access-log")
    r = srv.get("/")
    assert r.status == 401, srv.diagnostics()
    assert r.headers["WWW-Authenticate"] == 'Basic realm="localhost:%d"' % srv.port
    assert srv.get("/", headers=basic("alice", "wrong")).status == 401
    assert srv.get("/", headers=basic("nobody", "secret")).status == 401
    e = json_of(srv, "/page", headers=basic("alice", "secret"))
    assert e["remote_user"] == "alice" and e["path"] == "/page"
    # The scripts need Python in Apache's children: no WSGIRestrictEmbedded.
    assert "WSGIRestrictEmbedded" not in read(os.path.join(srv.root, "httpd.conf"))


def test_auth_group_script_and_auth_group(server, workdir, app):
    users = script(workdir, "users.py", USERS)
    groups = script(workdir, "groups.py", GROUPS)
    srv = server(app, "--auth-user-script", users, "--auth-group-script", groups,
                 "--auth-group", "admins")
    assert srv.get("/").status == 401
    assert json_of(srv, "/", headers=basic("alice", "secret"))["remote_user"] == "alice"
    # bob is authenticated but not in admins.
    assert srv.get("/", headers=basic("bob", "hunter2")).status == 401
    assert "User is not a member of designated groups" in srv.error_log()


def test_auth_type_digest(server, workdir, app):
    users = script(workdir, "users.py", USERS)
    srv = server(app, "--auth-user-script", users, "--auth-type", "Digest")
    r = srv.get("/")
    assert r.status == 401
    assert r.headers["WWW-Authenticate"].startswith('Digest realm="localhost:%d"' % srv.port)
    url = "http://127.0.0.1:%d/digest" % srv.port

    def open_as(user, password):
        passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        passwords.add_password(None, url, user, password)
        opener = urllib.request.build_opener(urllib.request.HTTPDigestAuthHandler(passwords))
        return opener.open(url, timeout=10)

    with open_as("bob", "hunter2") as resp:
        e = json.loads(resp.read())
    assert e["remote_user"] == "bob" and e["path"] == "/digest"
    with pytest.raises(urllib.error.HTTPError) as failed:
        open_as("bob", "wrong")
    assert failed.value.code == 401


# -------------------------------------------------------- daemon settings

def test_ignore_activity(server, app):
    srv = server(app, "--inactivity-timeout", "2", "--ignore-activity", "/health/")
    pid = json_of(srv, "/")["pid"]
    # Requests elsewhere keep the idle process alive past its timeout...
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert json_of(srv, "/busy")["pid"] == pid, srv.diagnostics()
        time.sleep(0.3)
    # ...health checks do not: it is restarted while they go on.
    wait_for(lambda: json_of(srv, "/health/check")["pid"] != pid, 20,
             "the daemon process to be restarted for inactivity")
    conf = read(os.path.join(srv.root, "httpd.conf"))
    assert '<Location "/health">\n    WSGIIgnoreActivity On\n</Location>' in conf


def test_response_flush_delay(cli_bin, workdir):
    root = os.path.join(workdir, "root")
    r = run_cli("setup-server", EXAMPLE, "--server-root", root, "--module-path", SO,
                "--response-flush-delay", "25")
    assert r.returncode == 0, r.stderr
    conf = read(os.path.join(root, "httpd.conf"))
    daemon = conf[conf.index("WSGIDaemonProcess"):conf.index("WSGIProcessGroup")]
    assert 'response-flush-delay="25"' in daemon, daemon
    configtest(root)
    r = run_cli("setup-server", EXAMPLE, "--server-root", root, "--response-flush-delay", "soon")
    assert r.returncode == 2 and "--response-flush-delay expects a whole number" in r.stderr


def test_switch_interval_and_python_eggs_in_embedded_mode(server, workdir, app):
    eggs = os.path.join(workdir, "eggs")
    srv = server(app, "--embedded-mode", "--switch-interval", "0.025", "--python-eggs", eggs)
    e = json_of(srv, "/")
    assert e["switch_interval"] == pytest.approx(0.025)
    assert e["egg_cache"] == eggs
    _, err = srv.output()
    assert "--switch-interval" not in err, err


@pytest.mark.parametrize("args,warning", [
    (["--auth-type", "Digest"], "--auth-type has no effect without --auth-user-script"),
    (["--auth-group", "admins"], "--auth-group has no effect without --auth-group-script"),
    (["--ignore-activity", "/health"],
     "--ignore-activity has no effect without --inactivity-timeout"),
    (["--ignore-activity", "/health", "--embedded-mode"],
     "--ignore-activity only applies to daemon mode"),
])
def test_options_without_effect_are_named(cli_bin, workdir, args, warning):
    root = os.path.join(workdir, "r")
    r = run_cli("setup-server", EXAMPLE, *args, "--server-root", root, "--module-path", SO)
    assert r.returncode == 0, r.stderr
    assert "mod-wsgi-rs: warning: " + warning in r.stderr, r.stderr
    conf = read(os.path.join(root, "httpd.conf"))
    assert "AuthType" not in conf
    if "--embedded-mode" in args:
        assert "WSGIIgnoreActivity" not in conf
