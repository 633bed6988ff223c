"""The WSGI environ as the app sees it, in embedded and in daemon mode,
requested from another container over the compose network."""


def test_environ_basics(server):
    r = server.get("/env/sub/path?x=1&y=%C3%A9", headers={"X-Test-Header": "abc"})
    assert r.status == 200, r
    body = r.json()
    e, types = body["environ"], body["types"]

    assert e["REQUEST_METHOD"] == "GET"
    assert e["SCRIPT_NAME"] == "/env"
    assert e["PATH_INFO"] == "/sub/path"
    assert e["QUERY_STRING"] == "x=1&y=%C3%A9"
    assert e["REQUEST_URI"] == "/env/sub/path?x=1&y=%C3%A9"
    assert e["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert e["SERVER_PORT"] == str(server.port)
    assert e["HTTP_HOST"] in (server.host, "%s:%d" % (server.host, server.port))
    assert e["HTTP_X_TEST_HEADER"] == "abc"
    assert "GATEWAY_INTERFACE" not in e  # left out, as in mod_wsgi 6.1
    assert "Apache" in e["SERVER_SOFTWARE"]
    assert e["SCRIPT_FILENAME"] == "/srv/test-apps/environ.wsgi"

    assert e["wsgi.version"] == "(1, 0)"
    assert e["wsgi.url_scheme"] == "http"
    assert e["wsgi.run_once"] == "False"
    assert e["wsgi.multithread"] == "True"
    for key in ("wsgi.input", "wsgi.errors", "wsgi.file_wrapper"):
        assert key in e, key
    # Every value whose key has no '.' is a str (PEP 3333, mod_wsgi).
    assert {k: t for k, t in types.items() if "." not in k and t != "str"} == {}

    expected_group = "testd" if server.mode == "daemon" else ""
    assert e["mod_wsgi.process_group"] == expected_group


def test_remote_addr_is_the_runner_container(server):
    """The request really crosses a network: Apache sees this container's
    address, not loopback."""
    r = server.get("/env")
    assert r.status == 200, r
    e = r.json()["environ"]
    local_ip, local_port = r.local_addr
    assert not local_ip.startswith("127."), local_ip
    assert e["REMOTE_ADDR"] == local_ip
    assert e["REMOTE_PORT"] == str(local_port)
    assert e["SERVER_ADDR"] != local_ip


def test_keep_alive_serves_several_requests(server):
    conn = server.connection()
    try:
        ports = set()
        for i in range(5):
            conn.request("GET", "/env?i=%d" % i)
            r = conn.getresponse()
            body = r.read()
            assert r.status == 200, body[:200]
            ports.add(conn.sock.getsockname()[1])
            assert ('"QUERY_STRING": "i=%d"' % i).encode() in body
        assert len(ports) == 1  # one TCP connection for all five
    finally:
        conn.close()


def test_daemon_runs_in_another_process(embedded, daemon):
    e = embedded.get("/env").json()
    d = daemon.get("/env").json()
    assert d["environ"]["mod_wsgi.process_group"] == "testd"
    assert e["environ"]["mod_wsgi.process_group"] == ""
    assert d["pid"] != e["pid"]
    # The daemon group has one process: it serves every daemon request.
    assert {daemon.get("/env").json()["pid"] for _ in range(5)} == {d["pid"]}
