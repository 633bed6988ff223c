"""`apache2 -t` on configurations using the module's directives."""

import re

import pytest

from harness.apache import Apache

rs_only = pytest.mark.rs_only


@pytest.fixture(scope="module")
def apache():
    # never started: only used to write configs and run `apache2 -t`
    return Apache(name="configtest")


def line_of(path, needle):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if needle in line:
                return n
    raise AssertionError("%r not in %s" % (needle, path))


# (id, config body, the directive named in the config, where the error is)
BAD = [
    ("pass-authorization-value", "WSGIPassAuthorization maybe",
     "WSGIPassAuthorization", "WSGIPassAuthorization"),
    ("chunked-request-value", "WSGIChunkedRequest maybe",
     "WSGIChunkedRequest", "WSGIChunkedRequest"),
    ("script-reloading-value", "WSGIScriptReloading 2",
     "WSGIScriptReloading", "WSGIScriptReloading"),
    ("map-head-value", "WSGIMapHEADToGET sometimes",
     "WSGIMapHEADToGET", "WSGIMapHEADToGET"),
    ("hash-seed-value", "WSGIPythonHashSeed abc",
     "WSGIPythonHashSeed", "WSGIPythonHashSeed"),
    ("daemon-processes-not-a-number", "WSGIDaemonProcess g processes=abc",
     "WSGIDaemonProcess", "processes=abc"),
    ("daemon-negative-threads", "WSGIDaemonProcess g threads=-1",
     "WSGIDaemonProcess", "threads=-1"),
    ("daemon-unknown-option", "WSGIDaemonProcess g bogus=1",
     "WSGIDaemonProcess", "bogus=1"),
    ("script-alias-missing-file", "WSGIScriptAlias /x",
     "WSGIScriptAlias", "WSGIScriptAlias /x"),
    ("callable-object-missing-arg", "WSGICallableObject",
     "WSGICallableObject", "WSGICallableObject"),
    ("python-home-in-vhost",
     "<VirtualHost 127.0.0.1:@PORT@>\n    ServerName v.example\n"
     "    WSGIPythonHome /usr\n</VirtualHost>",
     "WSGIPythonHome", "WSGIPythonHome"),
    ("daemon-process-in-location",
     "<Location /x>\n    WSGIDaemonProcess g\n</Location>",
     "WSGIDaemonProcess", "WSGIDaemonProcess"),
    ("script-alias-match-bad-regex", "WSGIScriptAliasMatch ^/(x /y",
     "WSGIScriptAliasMatch", "WSGIScriptAliasMatch"),
    ("import-script-without-application-group",
     "WSGIImportScript @APPS@/preload.py process-group=%{GLOBAL}",
     "WSGIImportScript", "WSGIImportScript"),
]

# mod_wsgi 4.9.4 accepts these; mod_wsgi_rs validates them.
BAD_RS_ONLY = [
    ("application-group-unknown-variable", "WSGIApplicationGroup %{BOGUS}",
     "WSGIApplicationGroup", "%{BOGUS}"),
    ("python-optimize-not-a-number", "WSGIPythonOptimize x",
     "WSGIPythonOptimize", "WSGIPythonOptimize"),
]

# mod_wsgi 4.9.4's message for these does not name the directive.
UNNAMED_BY_MOD_WSGI = {
    "daemon-processes-not-a-number", "daemon-negative-threads",
    "daemon-unknown-option", "script-alias-match-bad-regex",
    "import-script-without-application-group",
}


def _params(cases, marks=()):
    return [pytest.param(*c, id=c[0], marks=marks) for c in cases]


ALL_BAD = _params(BAD) + _params(BAD_RS_ONLY, marks=rs_only)


@pytest.mark.parametrize("case,body,directive,needle", ALL_BAD)
def test_bad_config_fails_with_location(apache, case, body, directive, needle):
    rc, out = apache.configtest(body)
    assert rc != 0, out
    path = apache.last_configtest_path
    assert path in out, out
    line = line_of(path, needle)
    assert re.search(r"\bline %d\b" % line, out), (line, out)
    assert "Syntax OK" not in out


NAMED = [pytest.param(*c, id=c[0], marks=(rs_only,)
                      if c[0] in UNNAMED_BY_MOD_WSGI else ())
         for c in BAD] + _params(BAD_RS_ONLY, marks=rs_only)


@pytest.mark.parametrize("case,body,directive,needle", NAMED)
def test_bad_config_error_names_directive(apache, case, body, directive, needle):
    rc, out = apache.configtest(body)
    assert rc != 0
    assert directive in out, out


GOOD = [
    ("daemon-recommended-set",
     "WSGISocketPrefix @ROOT@/run/wsgi\n"
     "WSGIDaemonProcess g threads=5 queue-timeout=45 socket-timeout=60 "
     "connect-timeout=15 request-timeout=60 startup-timeout=15 "
     "deadlock-timeout=60 graceful-timeout=15 shutdown-timeout=5\n"
     "WSGIProcessGroup g\n"
     "WSGIRestrictEmbedded On"),
    ("daemon-all-pool-and-recycling-options",
     "WSGIDaemonProcess g processes=2 threads=5 display-name=%{GROUP} "
     "home=/tmp python-home=/usr python-path=/tmp:/var lang=C.UTF-8 "
     "locale=C.UTF-8 stack-size=524288 cpu-priority=0 "
     "maximum-requests=100 restart-interval=3600 inactivity-timeout=30 "
     "eviction-timeout=10 cpu-time-limit=100 memory-limit=1000000000 "
     "virtual-memory-limit=2000000000 listen-backlog=100 "
     "send-buffer-size=65536 receive-buffer-size=65536 "
     "header-buffer-size=32768 response-buffer-size=65536"),
    ("daemon-identity-options",
     "WSGIDaemonProcess g user=www-data group=www-data umask=0022 "
     "supplementary-groups=www-data socket-user=www-data"),
    ("script-alias-options",
     "WSGIDaemonProcess g\n"
     "WSGIScriptAlias /a @APPS@/hello.wsgi process-group=g "
     "application-group=%{GLOBAL} callable-object=application "
     "pass-authorization=On\n"
     "WSGIScriptAliasMatch ^/m/([^/]+) @APPS@/match/$1.wsgi "
     "process-group=%{GLOBAL} application-group=%{GLOBAL}"),
    ("group-variables",
     "WSGIApplicationGroup %{SERVER}\nWSGIApplicationGroup %{HOST}\n"
     "WSGIApplicationGroup %{RESOURCE}\nWSGIApplicationGroup %{GLOBAL}\n"
     "WSGIApplicationGroup %{ENV:FOO}\nWSGIProcessGroup %{GLOBAL}\n"
     "WSGIProcessGroup %{ENV:BAR}"),
    ("interpreter-options",
     "WSGIPythonHome /usr\nWSGIPythonPath /tmp:/var\nWSGIPythonOptimize 2\n"
     "WSGIPythonWarnings ignore::DeprecationWarning\n"
     "WSGIPythonHashSeed random\nWSGIDontWriteBytecode On\n"
     "WSGIRestrictStdin On\nWSGIRestrictStdout On\nWSGIRestrictSignal Off"),
    ("per-directory-options",
     "<Directory @APPS@>\n"
     "    WSGIPassAuthorization On\n    WSGIScriptReloading Off\n"
     "    WSGIChunkedRequest On\n    WSGIMapHEADToGET Auto\n"
     "    WSGIErrorOverride On\n    WSGICallableObject app\n"
     "    WSGIEnableSendfile On\n"
     "    WSGITrustedProxyHeaders X-Forwarded-For X-Forwarded-Proto\n"
     "    WSGITrustedProxies 127.0.0.1\n"
     "</Directory>"),
    ("scripts-and-restrictions",
     "WSGIHandlerScript myhandler @APPS@/hello.wsgi\n"
     "WSGIRestrictProcess g1 g2\n"
     "WSGIImportScript @APPS@/preload.py process-group=%{GLOBAL} "
     "application-group=%{GLOBAL}"),
    ("older-knobs",
     "WSGILazyInitialization On\nWSGIAcceptMutex default\n"
     "WSGISocketRotation Off\nWSGIVerboseDebugging Off\n"
     "WSGIDestroyInterpreter On"),
    ("ifmodule", "<IfModule mod_wsgi.c>\n    WSGIScriptAlias /x @APPS@/hello.wsgi\n"
     "</IfModule>"),
    ("in-virtual-host",
     "<VirtualHost 127.0.0.1:@PORT@>\n    ServerName v.example\n"
     "    WSGIDaemonProcess vg threads=2\n"
     "    WSGIScriptAlias / @APPS@/hello.wsgi process-group=vg\n"
     "</VirtualHost>"),
]


@pytest.mark.parametrize("case,body", [pytest.param(*c, id=c[0]) for c in GOOD])
def test_good_config_passes(apache, case, body):
    rc, out = apache.configtest(body)
    assert rc == 0, out
    assert "Syntax OK" in out


AUTH_SCRIPTS = ("<Directory @APPS@>\n"
                "    WSGIAccessScript @APPS@/hello.wsgi\n"
                "    WSGIAuthUserScript @APPS@/hello.wsgi application-group=auth\n"
                "    WSGIAuthGroupScript @APPS@/hello.wsgi\n"
                "    WSGIGroupAuthoritative Off\n"
                "    WSGIDispatchScript @APPS@/hello.wsgi\n"
                "</Directory>")


def test_auth_scripts_pass(apache):
    rc, out = apache.configtest(AUTH_SCRIPTS)
    assert rc == 0, out
    assert "Syntax OK" in out


@pytest.mark.rs_only
def test_auth_script_bad_option_names_the_line(apache):
    """Auth scripts run in the Apache child: process-group= is refused with
    the line and the options there are (mod_wsgi's message is terser)."""
    rc, out = apache.configtest(AUTH_SCRIPTS.replace(
        "application-group=auth", "process-group=auth"))
    assert rc != 0, out
    assert "WSGIAuthUserScript" in out and "application-group=NAME" in out, out
    assert "line" in out, out
