"""Hostile directive arguments through `apache2 -t`: every one is either
accepted or refused with a message, never a Rust panic. A panic inside a
directive handler is caught at the FFI boundary, but it must then fail the
configuration, not leave the directive silently unapplied (for
WSGITrustedProxies that would mean "trust every peer").

Found by fuzz/ (target `directives`); reproduced here against Apache.
"""

import pytest

from harness.apache import Apache

pytestmark = pytest.mark.rs_only


@pytest.fixture(scope="module")
def apache(request):
    a = Apache("", name="hostilecfg")
    return a


def configtest(apache, body):
    rc, out = apache.configtest(body)
    assert "panicked" not in out and "internal error" not in out, out[-3000:]
    return rc, out


NON_ASCII_HEADERS = [
    "WSGITrustedProxyHeaders X-Fo\u20acbar",
    "WSGITrustedProxyHeaders HTTP\u00e9X",
]


@pytest.mark.parametrize("line", NON_ASCII_HEADERS)
def test_non_ascii_trusted_proxy_header_is_refused(apache, line):
    """Found by fuzz/ (directives): header_env_name sliced the name at byte
    5 inside a multi-byte character (a panic), and the panic, caught at the
    FFI boundary, left the directive unapplied with "Syntax OK"."""
    rc, out = configtest(apache, line)
    assert rc != 0, out[-1500:]
    assert "WSGITrustedProxyHeaders" in out


REFUSED = [
    "WSGITrustedProxyHeaders X-\u00e9",
    "WSGITrustedProxyHeaders X-Forwarded-\u00e9\u00e9\u00e9",
    "WSGITrustedProxies 10.0.0.0/33",
    "WSGITrustedProxies ::1/129",
    "WSGITrustedProxies 1.2.3.4/-1",
    "WSGITrustedProxies 300.1.1.1",
    "WSGITrustedProxies not-an-address",
    "WSGITrustedProxyHeaders X_Forwarded_For!",
    "WSGIDaemonProcess g threads=-1",
    "WSGIDaemonProcess g threads=99999999999999999999",
    "WSGIDaemonProcess g processes=abc",
    "WSGIDaemonProcess g memory-limit=1.5G",
    "WSGIDaemonProcess g maximum-requests=-5",
    "WSGIDaemonProcess g request-timeout=1e9",
    "WSGIDaemonProcess g user=",
    "WSGIDaemonProcess g unknown-option=1",
    "WSGIDaemonProcess ''",
    "WSGIPythonOptimize 7",
    "WSGIPythonHashSeed 4294967296",
    "WSGIPassAuthorization maybe",
    "WSGIMapHEADToGET sometimes",
    "WSGIScriptAliasMatch ^/(unclosed /tmp/x.wsgi",
    "WSGIScriptAlias /x",
    "WSGIApplicationGroup %{ENV:}",
    "WSGICallableObject 1not-an-identifier",
]


@pytest.mark.parametrize("line", REFUSED)
def test_bad_values_are_refused_with_a_message(apache, line):
    rc, out = configtest(apache, line)
    assert rc != 0, (line, out[-800:])
    name = line.split()[0]
    assert name in out, out[-800:]


ODD_BUT_VALID = [
    "WSGIDaemonProcess g" + " threads=1" * 200,
    "WSGIDaemonProcess g display-name=" + "x" * 5000,
    "WSGIDaemonProcess g python-path=" + ":".join("/p%d" % i for i in range(500)),
    "WSGITrustedProxies " + " ".join("10.%d.0.0/16" % i for i in range(200)),
    "WSGITrustedProxyHeaders " + " ".join(["X-Forwarded-For"] * 50),
    "WSGIRestrictProcess " + " ".join("g%d" % i for i in range(300)),
    "WSGIScriptAlias /\u00e9\u20ac @APPS@/hello.wsgi",
    "WSGIApplicationGroup \u20ac\u00e9",
]


@pytest.mark.parametrize("line", ODD_BUT_VALID, ids=range(len(ODD_BUT_VALID)))
def test_odd_but_harmless_values_do_not_panic(apache, line):
    configtest(apache, line)
