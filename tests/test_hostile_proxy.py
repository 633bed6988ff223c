"""WSGITrustedProxyHeaders / WSGITrustedProxies (the CVE-2022-2255 class),
as mod_wsgi 6 documents them: proxy headers are believed only from a
trusted peer and only for the kinds named; the other spellings of a named
kind's purpose (X-Real-IP when X-Forwarded-For is named) are removed from
environ; from an untrusted peer every spelling of a named purpose is
removed. Headers of purposes not named, and every proxy header without
WSGITrustedProxyHeaders, pass through as plain HTTP_* (frameworks doing
their own proxy handling see them; tests/test_semantics_61.py checks that
against mod_wsgi 6.1 too). Embedded and daemon mode.

The tests connect from 127.0.0.1; "untrusted" is WSGITrustedProxies 10.9.9.9.
"""

import os

import pytest


pytestmark = [
    pytest.mark.skipif(os.environ.get("MOD_WSGI_TEST_MODE") == "daemon",
                       reason="covers embedded and daemon mode itself"),
    # rs_only: mod_wsgi 4.9.4 does not know X-Forwarded-Port / -Server (they
    # reach the app from untrusted peers) and applies host/port differently
    # (RUN_MARKED_AGAINST_MOD_WSGI=1: 12 of these fail there)
    pytest.mark.rs_only,
]

ALL_KINDS = {
    "X-Forwarded-For": "HTTP_X_FORWARDED_FOR",
    "X-Client-IP": "HTTP_X_CLIENT_IP",
    "X-Real-IP": "HTTP_X_REAL_IP",
    "X-Forwarded-Host": "HTTP_X_FORWARDED_HOST",
    "X-Forwarded-Server": "HTTP_X_FORWARDED_SERVER",
    "X-Forwarded-Port": "HTTP_X_FORWARDED_PORT",
    "X-Forwarded-Proto": "HTTP_X_FORWARDED_PROTO",
    "X-Forwarded-Scheme": "HTTP_X_FORWARDED_SCHEME",
    "X-Scheme": "HTTP_X_SCHEME",
    "X-Forwarded-HTTPS": "HTTP_X_FORWARDED_HTTPS",
    "X-Forwarded-SSL": "HTTP_X_FORWARDED_SSL",
    "X-Script-Name": "HTTP_X_SCRIPT_NAME",
    "X-Forwarded-Script-Name": "HTTP_X_FORWARDED_SCRIPT_NAME",
    "X-Host": "HTTP_X_HOST",
    "X-HTTPS": "HTTP_X_HTTPS",
}

SPOOF = {
    "X-Forwarded-For": "6.6.6.6",
    "X-Client-IP": "6.6.6.7",
    "X-Real-IP": "6.6.6.8",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Server": "evil-server.example",
    "X-Forwarded-Port": "4443",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Scheme": "https",
    "X-Scheme": "https",
    "X-Forwarded-HTTPS": "on",
    "X-Forwarded-SSL": "on",
    "X-Script-Name": "/evil",
    "X-Forwarded-Script-Name": "/evil2",
    "X-Host": "evil-x-host.example",
    "X-HTTPS": "on",
}

FULL = ("X-Forwarded-For X-Forwarded-Host X-Forwarded-Port X-Forwarded-Proto "
        "X-Forwarded-Server X-Script-Name")

# location → (WSGITrustedProxyHeaders, WSGITrustedProxies)
POLICIES = {
    "trusted": (FULL, "127.0.0.1"),
    "untrusted": (FULL, "10.9.9.9"),
    "subnet": ("X-Forwarded-For", "127.0.0.0/8 10.0.0.0/8"),
    "realip_first": ("X-Real-IP X-Forwarded-For", "127.0.0.1"),
    "clientip_anypeer": ("X-Client-IP", None),  # no WSGITrustedProxies: any peer
    "ssl_first": ("X-Forwarded-SSL X-Forwarded-Proto", "127.0.0.1"),
    "scheme_kinds": ("X-Forwarded-Scheme X-Scheme X-Forwarded-HTTPS", "127.0.0.1"),
    "lowercase": ("x-real-ip x-forwarded-host", "127.0.0.1"),
    "plain": (None, None),
}


def config():
    lines = ["WSGISocketPrefix @ROOT@/run/wsgi",
             "WSGIDaemonProcess px processes=1 threads=4"]
    for mode in ("e", "d"):
        for loc, (headers, proxies) in POLICIES.items():
            mount = "/%s/%s" % (mode, loc)
            pg = " process-group=px" if mode == "d" else ""
            lines.append("WSGIScriptAlias %s @APPS@/environ.wsgi%s" % (mount, pg))
            lines.append("<Location %s>" % mount)
            if headers:
                lines.append("    WSGITrustedProxyHeaders %s" % headers)
            if proxies:
                lines.append("    WSGITrustedProxies %s" % proxies)
            lines.append("</Location>")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def srv(server_factory):
    return server_factory(config(), name="proxies")


MODES = pytest.mark.parametrize("mode", ["e", "d"])


def env(srv, mode, loc, headers, path=""):
    r = srv.get("/%s/%s%s" % (mode, loc, path), headers=headers)
    assert r.status == 200, r
    return r.json()["environ"]


def proxy_keys(e):
    return sorted(k for k in e if k in ALL_KINDS.values())


@MODES
def test_untrusted_peer_loses_every_proxy_header(srv, mode):
    e = env(srv, mode, "untrusted", dict(SPOOF, **{"X-Other": "kept"}))
    assert proxy_keys(e) == []
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert e["HTTP_HOST"] == "127.0.0.1:%d" % srv.port
    assert e["SERVER_PORT"] == str(srv.port)
    assert e["SERVER_NAME"] != "evil-server.example"
    assert e["wsgi.url_scheme"] == "http"
    assert e["SCRIPT_NAME"] == "/%s/untrusted" % mode
    assert e["HTTP_X_OTHER"] == "kept"


@MODES
@pytest.mark.parametrize("name", sorted(ALL_KINDS))
def test_each_kind_alone_from_untrusted_peer_is_removed(srv, mode, name):
    """Each kind, sent alone (and in lower case), never reaches environ from
    an untrusted peer, whether configured or not."""
    for spelled in (name, name.lower()):
        e = env(srv, mode, "untrusted", {spelled: SPOOF[name]})
        assert ALL_KINDS[name] not in e, (spelled, e.get(ALL_KINDS[name]))
    assert e["REMOTE_ADDR"] == "127.0.0.1"


@MODES
def test_trusted_peer_applies_each_configured_kind(srv, mode):
    e = env(srv, mode, "trusted", {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Host": "public.example, internal",
        "X-Forwarded-Port": "8443",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Server": "front.example",
        "X-Script-Name": "/prefix",
    })
    assert e["REMOTE_ADDR"] == "203.0.113.7"
    assert e["HTTP_HOST"] == "public.example"
    assert e["SERVER_PORT"] == "8443"
    assert e["wsgi.url_scheme"] == "https"
    assert e["SERVER_NAME"] == "front.example"
    assert e["SCRIPT_NAME"] == "/prefix"
    # believed headers stay visible
    assert e["HTTP_X_FORWARDED_FOR"] == "203.0.113.7"
    assert e["HTTP_X_FORWARDED_PROTO"] == "https"


@MODES
def test_trusted_peer_unconfigured_kinds_are_removed(srv, mode):
    """From a trusted proxy, the spellings not named in
    WSGITrustedProxyHeaders of every purpose it names (here all) are removed
    (X-Client-IP / X-Real-IP posing as the client: CVE-2022-2255)."""
    e = env(srv, mode, "trusted", SPOOF)
    configured = {ALL_KINDS[k] for k in FULL.split()}
    assert set(proxy_keys(e)) <= configured, proxy_keys(e)
    for k in ("HTTP_X_CLIENT_IP", "HTTP_X_REAL_IP", "HTTP_X_SCHEME",
              "HTTP_X_FORWARDED_SSL", "HTTP_X_FORWARDED_HTTPS",
              "HTTP_X_FORWARDED_SCHEME", "HTTP_X_HOST", "HTTP_X_HTTPS",
              "HTTP_X_FORWARDED_SCRIPT_NAME"):
        assert k not in e
    assert e["REMOTE_ADDR"] == "6.6.6.6"  # from the one believed kind


@MODES
@pytest.mark.parametrize("xff,expected", [
    # the client's own entry is never believed: the proxy appended the real one
    ("1.1.1.1, 198.51.100.4", "198.51.100.4"),
    # walking from the right past trusted proxies (127/8, 10/8)
    ("6.6.6.6, 203.0.113.7, 10.1.1.1, 127.0.0.2", "203.0.113.7"),
    ("203.0.113.7,10.1.1.1", "203.0.113.7"),
    # every hop trusted: the leftmost
    ("10.1.1.1, 127.0.0.5", "10.1.1.1"),
    ("  203.0.113.9  ", "203.0.113.9"),
    # IPv6 client behind the proxies
    ("2001:db8::1, 10.0.0.1", "2001:db8::1"),
])
def test_x_forwarded_for_spoofing(srv, mode, xff, expected):
    e = env(srv, mode, "subnet", {"X-Forwarded-For": xff})
    assert e["REMOTE_ADDR"] == expected


@MODES
def test_x_forwarded_for_split_over_two_header_lines(srv, mode):
    """Two X-Forwarded-For lines (a client's and the proxy's) are joined by
    Apache; the proxy's (last) entry is the client."""
    s = srv.open_socket()
    s.sendall(("GET /%s/subnet HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "X-Forwarded-For: 9.9.9.9\r\nX-Forwarded-For: 198.51.100.8\r\n\r\n"
               % mode).encode())
    from harness.apache import recv_until_close, parse_raw_response
    import json
    status, headers, body = parse_raw_response(recv_until_close(s))
    s.close()
    from harness.apache import dechunk
    if "chunked" in ",".join(headers.get("transfer-encoding", [])):
        body = dechunk(body)
    e = json.loads(body)["environ"]
    assert e["REMOTE_ADDR"] == "198.51.100.8"


@MODES
def test_first_present_kind_per_purpose_wins(srv, mode):
    e = env(srv, mode, "realip_first", {"X-Real-IP": "203.0.113.1",
                                         "X-Forwarded-For": "203.0.113.2"})
    assert e["REMOTE_ADDR"] == "203.0.113.1"
    assert "HTTP_X_FORWARDED_FOR" not in e  # same purpose, not believed
    e = env(srv, mode, "realip_first", {"X-Forwarded-For": "203.0.113.2"})
    assert e["REMOTE_ADDR"] == "203.0.113.2"
    e = env(srv, mode, "ssl_first", {"X-Forwarded-SSL": "off",
                                      "X-Forwarded-Proto": "https"})
    assert e["wsgi.url_scheme"] == "http"
    assert "HTTP_X_FORWARDED_PROTO" not in e


@MODES
@pytest.mark.parametrize("headers,scheme", [
    ({"X-Forwarded-Scheme": "https"}, "https"),
    ({"X-Scheme": "HTTPS"}, "https"),
    ({"X-Forwarded-HTTPS": "on"}, "https"),
    ({"X-Forwarded-HTTPS": "off"}, "http"),
    ({"X-Forwarded-Scheme": "javascript"}, "http"),  # not a scheme: ignored
])
def test_scheme_kinds(srv, mode, headers, scheme):
    e = env(srv, mode, "scheme_kinds", headers)
    assert e["wsgi.url_scheme"] == scheme


@MODES
def test_any_peer_trusted_without_trusted_proxies(srv, mode):
    """WSGITrustedProxyHeaders alone trusts every peer for the named kinds
    (as mod_wsgi), and still removes the other kinds."""
    e = env(srv, mode, "clientip_anypeer", {"X-Client-IP": "203.0.113.50",
                                             "X-Forwarded-For": "6.6.6.6",
                                             "X-Real-IP": "6.6.6.6"})
    assert e["REMOTE_ADDR"] == "203.0.113.50"
    assert proxy_keys(e) == ["HTTP_X_CLIENT_IP"]


@MODES
def test_bad_port_and_lowercase_configuration(srv, mode):
    e = env(srv, mode, "trusted", {"X-Forwarded-Port": "80; rm -rf /"})
    assert e["SERVER_PORT"] == str(srv.port)
    e = env(srv, mode, "lowercase", {"X-Real-IP": "203.0.113.60",
                                      "X-Forwarded-Host": "h.example"})
    assert e["REMOTE_ADDR"] == "203.0.113.60"
    assert e["HTTP_HOST"] == "h.example"


@MODES
def test_underscore_spellings_never_pose_as_proxy_headers(srv, mode):
    """X-Forwarded_For / X_Real_IP are dropped by every policy (Apache keeps
    them as distinct headers; they must not become HTTP_X_FORWARDED_FOR)."""
    for loc in ("trusted", "untrusted", "plain"):
        e = env(srv, mode, loc, {"X-Forwarded_For": "6.6.6.6",
                                 "X_Real_IP": "6.6.6.6"})
        assert "HTTP_X_FORWARDED_FOR" not in e
        assert "HTTP_X_REAL_IP" not in e
        assert e["REMOTE_ADDR"] == "127.0.0.1"


@MODES
def test_without_policy_headers_pass_through(srv, mode):
    e = env(srv, mode, "plain", SPOOF)
    assert proxy_keys(e) == sorted(ALL_KINDS.values())
    assert e["HTTP_X_FORWARDED_FOR"] == "6.6.6.6"
    assert e["REMOTE_ADDR"] == "127.0.0.1"
    assert e["wsgi.url_scheme"] == "http"
    assert e["SCRIPT_NAME"] == "/%s/plain" % mode


@MODES
def test_policies_do_not_leak_between_requests(srv, mode):
    """Keep-alive: a trusted-location request with proxy headers, then
    untrusted and plain requests without any: nothing carried over."""
    conn = srv.connection()
    try:
        import json
        conn.request("GET", "/%s/trusted" % mode, headers={
            "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
            "X-Script-Name": "/p"})
        r = conn.getresponse()
        first = json.loads(r.read())["environ"]
        assert first["REMOTE_ADDR"] == "203.0.113.7"
        for loc in ("untrusted", "plain", "trusted"):
            conn.request("GET", "/%s/%s" % (mode, loc))
            r = conn.getresponse()
            e = json.loads(r.read())["environ"]
            assert e["REMOTE_ADDR"] == "127.0.0.1", loc
            assert e["wsgi.url_scheme"] == "http", loc
            assert e["SCRIPT_NAME"] == "/%s/%s" % (mode, loc)
            assert proxy_keys(e) == [], loc
    finally:
        conn.close()


# Hardening: values a trusted proxy relays from its client unchecked (a
# CDN that passes X-Real-IP through, a proxy that forwards the client's
# X-Forwarded-For without appending) should still not turn into arbitrary
# strings in REMOTE_ADDR / HTTP_HOST / SCRIPT_NAME (apps print them in HTML
# and logs). mod_remoteip, for one, stops at the first invalid address.

@MODES
@pytest.mark.parametrize("xff", ["1.2.3.4, <script>alert(1)</script>", "not an ip at all",
                                 "1.2.3.4, 5.6.7.8:80"])
def test_client_address_is_always_an_ip(srv, mode, xff):
    import ipaddress
    e = env(srv, mode, "subnet", {"X-Forwarded-For": xff})
    ipaddress.ip_address(e["REMOTE_ADDR"])


@MODES
def test_forwarded_host_and_script_name_are_well_formed(srv, mode):
    e = env(srv, mode, "trusted", {"X-Forwarded-Host": "evil.example/../x y",
                                   "X-Script-Name": "relative/no-slash"})
    assert "/" not in e["HTTP_HOST"] and " " not in e["HTTP_HOST"], e["HTTP_HOST"]
    assert e["SCRIPT_NAME"] == "" or e["SCRIPT_NAME"].startswith("/"), e["SCRIPT_NAME"]
