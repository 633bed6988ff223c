"""mod_wsgi-express's start-server options in ``mod-wsgi-rs``: one test per
group of options, each against a real Apache (or, where starting is not
needed, the configuration setup-server writes, checked by configtest)."""

import gzip
import http.client
import http.server
import json
import os
import re
import socket
import ssl
import subprocess
import threading

import pytest

from cli_helpers import (EXAMPLE, SO, cli_env, processes_of, run_cli, wait_for,
                         write)

ENV_APP = r'''
import json, locale, os

def application(environ, start_response):
    out = {k: v for k, v in environ.items() if isinstance(v, (str, int, bool))}
    out["os.environ"] = dict(os.environ)
    body = json.dumps(out).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''

TEXT_APP = r'''
def application(environ, start_response):
    body = b"compress me " * 200
    if environ["PATH_INFO"] == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"app 404"]
    start_response("200 OK", [("Content-Type", "text/html"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''


@pytest.fixture
def env_app(workdir):
    path = write(os.path.join(workdir, "app", "env.wsgi"), ENV_APP)
    os.chmod(os.path.dirname(path), 0o755)
    return path


def environ_of(srv, path="/", **kw):
    r = srv.get(path, **kw)
    assert r.status == 200, (r, srv.diagnostics())
    return json.loads(r.body)


def read(path):
    with open(path) as f:
        return f.read()


def test_https_http2_https_only_and_hsts(server, workdir, env_app, static_dir):
    key, crt = os.path.join(workdir, "server.key"), os.path.join(workdir, "server.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", crt, "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    os.chmod(key, 0o644)
    from cli_helpers import free_port
    https_port = free_port()
    srv = server(env_app, "--https-port", https_port, "--ssl-certificate-file", crt,
                 "--ssl-certificate-key-file", key, "--https-only",
                 "--hsts-policy", "max-age=600", "--http2", "--ssl-environment",
                 "--document-root", static_dir)
    # Plain HTTP is redirected to HTTPS, static files included.
    r = srv.get("/x?y=1")
    assert r.status == 301, srv.diagnostics()
    assert r.headers["Location"] == "https://127.0.0.1:%d/x?y=1" % https_port
    r = srv.get("/hello.txt")
    assert r.status == 301 and r.headers["Location"].endswith(":%d/hello.txt" % https_port)
    assert "HTTPS URL       : https://127.0.0.1:%d/" % https_port in srv.output()[0]
    # HTTPS answers, with HSTS, the SSL variables and HTTP/2 offered by ALPN.
    ctx = ssl.create_default_context(cafile=crt)
    ctx.check_hostname = False
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", https_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "h2"
    ctx.set_alpn_protocols(["http/1.1"])
    conn = http.client.HTTPSConnection("127.0.0.1", https_port, context=ctx, timeout=10)
    try:
        conn.request("GET", "/secure")
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 200
        assert r.getheader("Strict-Transport-Security") == "max-age=600"
        conn.request("GET", "/hello.txt")
        r = conn.getresponse()
        assert (r.status, r.read()) == (200, b"static hello\n")
    finally:
        conn.close()
    assert body["wsgi.url_scheme"] == "https"
    assert "HTTPS" not in body  # it became wsgi.url_scheme, as in mod_wsgi 6.1
    assert body["SSL_PROTOCOL"].startswith("TLS")


def test_https_needs_a_certificate(cli_bin, workdir):
    r = run_cli("start-server", EXAMPLE, "--https-port", "8443",
                "--server-root", os.path.join(workdir, "r"))
    assert r.returncode == 2
    assert "--ssl-certificate-file" in r.stderr and "openssl req" in r.stderr
    r = run_cli("start-server", EXAMPLE, "--https-only")
    assert r.returncode == 2 and "--https-only needs --https-port" in r.stderr


@pytest.mark.parametrize("args,message", [
    (["--setenv", "NO SPACE", "x"], "--setenv NO SPACE must be an environment variable name"),
    (["--setenv", "A", 'quo"te'], "contains a character Apache's configuration cannot quote"),
    (["--proxy-mount-point", "/api", "localhost:9000"], "is not a URL such as http://"),
    (["--proxy-mount-point", "api", "http://x/"], "'api' is not a URL path"),
    (["--error-document", "200", "/x.html"], "'200' is not an HTTP error status"),
    (["--service-user", "svc", "nobody"], "no --service-script svc SCRIPT is given"),
    (["--initial-workers", "2"], "--initial-workers expects a number from 0 to 1"),
    (["--memory-limit", "lots"], "--memory-limit expects a number of bytes"),
    (["--application-type", "static", "/nonexistent-dir"], "is not a directory"),
])
def test_bad_express_option_values(cli_bin, workdir, args, message):
    app = [] if "static" in args else [EXAMPLE]
    r = run_cli("setup-server", *app, *args, "--server-root", os.path.join(workdir, "r"))
    assert r.returncode in (1, 2), r
    assert message in r.stderr.splitlines()[0], r.stderr


def test_environment_and_group_options(server, workdir, env_app):
    envvars = write(os.path.join(workdir, "envvars"), "FROM_ENVVARS='sourced value'\n")
    srv = server(env_app, "--setenv", "GREETING", "hello there", "--setenv", "EMPTY_NOT", "x",
                 "--passenv", "PASSED_THROUGH", "--envvars-script", envvars,
                 "--lang", "C.UTF-8", "--locale", "C.UTF-8",
                 "--process-group", "mygroup", "--application-group", "myapps",
                 env=cli_env(PASSED_THROUGH="from the shell"))
    e = environ_of(srv)
    assert e["GREETING"] == "hello there"
    assert e["PASSED_THROUGH"] == "from the shell"
    assert e["mod_wsgi.process_group"] == "mygroup"
    assert e["mod_wsgi.application_group"] == "myapps"
    osenv = e["os.environ"]
    assert osenv["FROM_ENVVARS"] == "sourced value"
    assert osenv["LANG"] == "C.UTF-8" and osenv["LC_ALL"] == "C.UTF-8"
    conf = read(os.path.join(srv.root, "httpd.conf"))
    assert "WSGIDaemonProcess mygroup" in conf


def test_log_options(server, workdir, env_app):
    logs = os.path.join(workdir, "logs")
    srv = server(env_app, "--log-directory", logs,
                 "--access-log-format", 'custom %>s "%r" %{X-Trace}i',
                 "--error-log-name", "errors.txt", "--access-log-name", "hits.txt",
                 "--error-log-format", "[mine] [%l] %M", "--startup-log",
                 "--log-level", "info")
    assert srv.get("/logged", headers={"X-Trace": "t-42"}).status == 200
    hits = os.path.join(logs, "hits.txt")
    # The start-up probe's request may be logged first: wait for ours.
    line = wait_for(lambda: os.path.exists(hits) and next(
        (l for l in read(hits).splitlines() if "/logged" in l), None), 10, "the access log")
    assert line == 'custom 200 "GET /logged HTTP/1.1" t-42' 
    errors = read(os.path.join(logs, "errors.txt"))
    assert re.search(r"^\[mine\] \[\w+\] ", errors, re.M), errors
    assert os.path.exists(os.path.join(logs, "startup_log"))
    assert not os.path.exists(os.path.join(srv.root, "error_log"))


def test_rotate_logs_uses_rotatelogs(server, workdir, env_app):
    srv = server(env_app, "--access-log", "--rotate-logs", "--max-log-size", "1")
    conf = read(os.path.join(srv.root, "httpd.conf"))
    assert 'CustomLog "|/usr/bin/rotatelogs %s/access_log.%%Y-%%m-%%d-%%H_%%M_%%S 1M"' % srv.root \
        in conf
    assert srv.get("/").status == 200
    rotated = wait_for(lambda: [f for f in os.listdir(srv.root) if f.startswith("access_log.")
                                and os.path.getsize(os.path.join(srv.root, f))],
                       10, "a rotated access log")
    assert re.match(r"access_log\.\d{4}-\d\d-\d\d-\d\d_\d\d_\d\d$", rotated[0])
    assert any("rotatelogs" in cmd for _, cmd in processes_of(srv.root))


class _Backend(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"path": self.path,
                           "prefix": self.headers.get("X-Forwarded-Prefix"),
                           "scheme": self.headers.get("X-Forwarded-Scheme"),
                           "port": self.headers.get("X-Forwarded-Port")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_proxy_options(server, env_app):
    backend = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Backend)
    t = threading.Thread(target=backend.serve_forever, daemon=True)
    t.start()
    try:
        srv = server(env_app, "--proxy-mount-point", "/backend",
                     "http://127.0.0.1:%d/" % backend.server_address[1],
                     "--trust-proxy-header", "X-Forwarded-For", "--trust-proxy", "127.0.0.1")
        r = srv.get("/backend/some/where?q=1")
        assert r.status == 200, srv.diagnostics()
        assert json.loads(r.body) == {"path": "/some/where?q=1", "prefix": "/backend",
                                      "scheme": "http", "port": str(srv.port)}
        r = srv.get("/backend")
        assert r.status == 302 and r.headers["Location"].endswith("/backend/")
        # The application still has the rest, and trusts the proxy's header.
        e = environ_of(srv, "/app", headers={"X-Forwarded-For": "203.0.113.9"})
        assert e["REMOTE_ADDR"] == "203.0.113.9"
    finally:
        backend.shutdown()
        backend.server_close()


def test_status_compression_errors_and_documents(server, workdir):
    app = write(os.path.join(workdir, "app", "text.wsgi"), TEXT_APP)
    os.chmod(os.path.dirname(app), 0o755)
    docs = os.path.join(workdir, "docs")
    write(os.path.join(docs, "sub", "start.html"), "the index\n")
    write(os.path.join(docs, "oops.html"), "custom error page\n")
    for d in (docs, os.path.join(docs, "sub")):
        os.chmod(d, 0o755)
    srv = server(app, "--server-status", "--compress-responses", "--document-root", docs,
                 "--directory-index", "start.html", "--error-document", "404", "/oops.html",
                 "--error-override", "--keep-alive-timeout", "7")
    r = srv.get("/server-status?auto")
    assert r.status == 200 and b"BusyWorkers:" in r.body, r
    r = srv.get("/page", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(r.body) == b"compress me " * 200
    assert "Content-Encoding" not in srv.get("/page").headers
    r = srv.get("/sub/")
    assert (r.status, r.body) == (200, b"the index\n")
    r = srv.get("/missing")
    assert r.status == 404 and r.body == b"custom error page\n"
    conf = read(os.path.join(srv.root, "httpd.conf"))
    assert "KeepAliveTimeout 7\n" in conf


def test_server_metrics_mounts_the_metrics_handler(server, workdir):
    app = write(os.path.join(workdir, "app", "text.wsgi"), TEXT_APP)
    os.chmod(os.path.dirname(app), 0o755)
    srv = server(app, "--server-metrics")
    assert srv.get("/page").status == 200
    r = srv.get("/server-metrics")
    assert r.status == 200, r
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    # the daemon group of the express server counted the request above
    # (and the start-up probe's)
    m = re.search(rb'^mod_wsgi_requests_total\{group="[^"]+",code="200"\} (\d+)$', r.body, re.M)
    assert m and int(m.group(1)) >= 1, r.body
    conf = read(os.path.join(srv.root, "httpd.conf"))
    assert "SetHandler wsgi-metrics\n    Require local\n" in conf
    assert "server-metrics=On" in conf and "WSGIServerMetrics On" in conf


def test_static_application_type(server, static_dir):
    srv = server("--application-type", "static", static_dir, "--directory-listing")
    assert srv.get("/hello.txt").body == b"static hello\n"
    r = srv.get("/sub/")
    assert r.status == 200 and b"deep.css" in r.body
    assert "WSGIScriptAlias" not in read(os.path.join(srv.root, "httpd.conf"))


def test_service_script_runs_in_its_own_process(server, workdir):
    marker = os.path.join(workdir, "svc", "ran")
    script = write(os.path.join(workdir, "svc", "service.py"),
                   "import os\nwith open(%r, 'w') as f:\n    f.write(str(os.getpid()))\n"
                   % marker)
    os.chmod(os.path.dirname(script), 0o777)
    srv = server(EXAMPLE, "--service-script", "tasks", script)
    pid = int(wait_for(lambda: os.path.exists(marker) and read(marker), 15, "the service"))
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        assert f.read().startswith(b"(wsgi:127.0.0.1:%d:%d):service:tasks"
                                   % (srv.port, os.geteuid()))
    assert srv.get("/").status == 200


def test_daemon_limits_reach_wsgidaemonprocess(cli_bin, workdir):
    root = os.path.join(workdir, "root")
    r = run_cli("setup-server", EXAMPLE, "--server-root", root, "--module-path", SO,
                "--restart-interval", "3600", "--cpu-time-limit", "120",
                "--eviction-timeout", "9", "--inactivity-timeout", "300",
                "--interrupt-timeout", "4", "--memory-limit", "512M",
                "--virtual-memory-limit", "2G", "--daemon-backlog", "77",
                "--send-buffer-size", "65536", "--receive-buffer-size", "65536",
                "--header-buffer-size", "65536", "--response-buffer-size", "1048576",
                "--response-socket-timeout", "30", "--switch-interval", "0.01",
                "--python-eggs", os.path.join(workdir, "eggs"), "--socket-user", "root",
                "--initial-workers", "1", "--minimum-spare-workers", "0.1",
                "--maximum-spare-workers", "1", "--server-backlog", "123",
                "--header-timeout", "5", "--header-max-timeout", "10", "--body-timeout", "6",
                "--map-head-to-get", "off", "--chunked-request", "--enable-sendfile",
                "--disable-reloading", "--verbose-debugging", "--python-warnings", "error",
                "--pid-file", os.path.join(workdir, "my.pid"), "--shell-executable", "/bin/bash")
    assert r.returncode == 0, r.stderr
    conf = read(os.path.join(root, "httpd.conf"))
    daemon = conf[conf.index("WSGIDaemonProcess"):].split("\n\n")[0].split("WSGIProcessGroup")[0]
    for option in ('restart-interval="3600"', 'cpu-time-limit="120"', 'eviction-timeout="9"',
                   'inactivity-timeout="300"', 'interrupt-timeout="4"', 'memory-limit="512M"',
                   'virtual-memory-limit="2G"', 'listen-backlog="77"',
                   'send-buffer-size="65536"', 'receive-buffer-size="65536"',
                   'header-buffer-size="65536"', 'response-buffer-size="1048576"',
                   'response-socket-timeout="30"', 'switch-interval="0.01"',
                   'python-eggs="%s/eggs"' % workdir, 'socket-user="root"'):
        assert option in daemon, (option, daemon)
    for line in ("ListenBacklog 123", "RequestReadTimeout header=5-10,MinRate=500 body=6,",
                 "WSGIMapHEADToGET Off", "WSGIChunkedRequest On", "WSGIEnableSendfile On",
                 "WSGIScriptReloading Off", "WSGIVerboseDebugging On",
                 'WSGIPythonWarnings "error"', 'PidFile "%s/my.pid"' % workdir):
        assert line in conf, line
    assert read(os.path.join(root, "apachectl")).startswith("#!/bin/bash\n")
    c = subprocess.run([os.path.join(root, "apachectl"), "configtest"], capture_output=True,
                       text=True)
    assert c.returncode == 0 and "Syntax OK" in c.stderr, c.stderr


def test_virtual_hosts_pid_file_process_name_and_socket_prefix(server, workdir, env_app,
                                                               static_dir):
    pidfile = os.path.join(workdir, "run", "apache.pid")
    os.makedirs(os.path.dirname(pidfile))
    sockets = os.path.join(workdir, "sockets")
    os.makedirs(sockets)
    os.chmod(sockets, 0o755)
    types = write(os.path.join(workdir, "my.types"), "text/x-mine txt\n")
    srv = server(env_app, "--server-alias", "www.example.test", "--server-alias", "*.other.test",
                 "--pid-file", pidfile, "--process-name", "my-apache",
                 "--socket-prefix", sockets, "--mime-types", types,
                 "--url-alias", "/static", static_dir)
    for host in ("localhost", "www.example.test", "a.other.test"):
        assert srv.get("/", headers={"Host": host}).status == 200, host
    assert srv.get("/", headers={"Host": "elsewhere.test"}).status == 403
    r = srv.get("/static/hello.txt", headers={"Host": "localhost"})
    assert r.headers["Content-Type"].startswith("text/x-mine")
    apache = int(read(pidfile))
    assert not os.path.exists(os.path.join(srv.root, "httpd.pid"))
    with open("/proc/%d/cmdline" % apache, "rb") as f:
        assert f.read().split(b"\0")[0] == b"my-apache"
    assert any(f.startswith("wsgi.") for f in os.listdir(sockets))


def test_virtual_hosts_allow_localhost(server, env_app):
    srv = server(env_app, "--server-alias", "www.example.test", "--allow-localhost")
    assert srv.get("/", headers={"Host": "elsewhere.test"}).status == 200


def test_web_server_options_pass_configtest(cli_bin, workdir, static_dir):
    root = os.path.join(workdir, "root")
    rules = write(os.path.join(workdir, "rewrite.conf"), "RewriteRule ^old$ new [R=301]\n")
    key, crt = os.path.join(workdir, "k.key"), os.path.join(workdir, "k.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", crt, "-subj", "/CN=localhost"],
                   check=True, capture_output=True)
    r = run_cli("setup-server", EXAMPLE, "--server-root", root, "--module-path", SO,
                "--document-root", static_dir, "--with-cgi", "--allow-override", "FileInfo",
                "--allow-override", "Indexes", "--rewrite-rules", rules,
                "--proxy-virtual-host", "api.example.test", "http://127.0.0.1:9999/",
                "--proxy-timeout", "300", "--https-port", "8443", "--ssl-certificate-file", crt,
                "--ssl-certificate-key-file", key, "--ssl-ca-certificate-file", crt,
                "--ssl-verify-client", "/private", "--ssl-certificate-chain-file", crt,
                "--server-mpm", "prefork", "--embedded-mode", "--processes", "2")
    assert r.returncode == 0, r.stderr
    conf = read(os.path.join(root, "httpd.conf"))
    for line in ("Options FollowSymLinks ExecCGI", "AddHandler cgi-script .cgi",
                 "AllowOverride FileInfo Indexes", 'Include "%s"' % rules,
                 "ServerName api.example.test", "ProxyTimeout 300",
                 "SSLVerifyClient none", '<Location "/private">\n    SSLVerifyClient require',
                 "mod_cgi.so"):
        assert line in conf, line
    c = subprocess.run([os.path.join(root, "apachectl"), "configtest"], capture_output=True,
                       text=True)
    assert c.returncode == 0 and "Syntax OK" in c.stderr, c.stderr
