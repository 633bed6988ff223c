"""Which tests are skipped against a reference mod_wsgi, and why.

Markers (tests/pytest.ini):

- ``strict_pep3333``: mod_wsgi_rs is intentionally stricter than mod_wsgi
  (PEP 3333); skipped against every mod_wsgi.
- ``rs_only``: mod_wsgi_rs's own behaviour (its log lines, options, design),
  or something mod_wsgi (4.9.4 at least) lacks or gets wrong; skipped against
  every mod_wsgi.

``RUN_MARKED_AGAINST_MOD_WSGI=1`` runs the marked tests anyway (they are
expected to fail, which shows how mod_wsgi differs). Used by tests/conftest.py
(tests/*.py) and tests/e2e/conftest.py.

``KNOWN_DIFFERENCES``: tests without a marker that a reference mod_wsgi
fails for a known reason (mostly its daemon mode, which the suite's daemon
pass exercises, and what mod_wsgi 6 changed); they are ``xfail(strict=False)``
against that version and mode, so a run against the reference is clean and
shows them as xfailed (XPASS if the reference changes).
"""

import os

from harness.apache import MOD_WSGI_VERSION, TEST_MODE, is_mod_wsgi

REASONS = {
    "strict_pep3333": "mod_wsgi_rs is intentionally stricter than mod_wsgi here (PEP 3333)",
    "rs_only": "behaviour mod_wsgi lacks or gets wrong, or mod_wsgi_rs's own "
               "(see the test's docstring)",
}

V4, V6 = (4, 9), (6, 1)
EMBEDDED, DAEMON, BOTH = ("embedded",), ("daemon",), ("embedded", "daemon")

# (node id prefix relative to tests/, versions, MOD_WSGI_TEST_MODE values, reason)
KNOWN_DIFFERENCES = [
    # mod_wsgi's daemon mode (both versions)
    ("test_response.py::test_invalid_status_or_headers_give_500", (V4, V6), DAEMON,
     "mod_wsgi's daemon processes log the client as [remote IP:port], not [client IP:port]"),
    ("test_response.py::test_no_start_response_is_500", (V4, V6), DAEMON,
     "mod_wsgi's daemon processes log the client as [remote IP:port], not [client IP:port]"),
    ("test_response.py::test_exception_in_app_is_500_with_traceback", (V4,), DAEMON,
     "mod_wsgi's daemon processes log the client as [remote IP:port], not [client IP:port]"),
    ("test_directives.py::test_python_path", (V4, V6), DAEMON,
     "mod_wsgi applies WSGIPythonPath to embedded mode only (daemons take python-path=)"),
    ("test_input.py::test_no_100_continue_when_app_does_not_read", (V4, V6), DAEMON,
     "mod_wsgi's daemon mode answers 100 Continue before the application runs"),
    ("test_lifecycle.py::test_graceful_restart", (V4, V6), DAEMON,
     "mod_wsgi's graceful restart kills the daemon processes, cutting requests in flight"),
    ("test_lifecycle.py::test_children_exit_cleanly_after_using_subinterpreters[prefork]",
     (V4,), DAEMON,
     "mod_wsgi 4.9.4 with Python 3.11: sub-interpreter shutdown hangs (see the test)"),
    # what mod_wsgi 6 changed
    ("test_configtest.py::test_good_config_passes[older-knobs]", (V6,), BOTH,
     "mod_wsgi 6 removed WSGILazyInitialization ('Invalid command')"),
    ("test_environ.py::test_required_cgi_variables", (V6,), BOTH,
     "mod_wsgi 6 no longer sets GATEWAY_INTERFACE"),
    ("test_environ.py::test_mod_wsgi_keys", (V6,), BOTH,
     "mod_wsgi 6 no longer passes mod_wsgi.script_reloading to the application"),
    ("test_directives.py::test_script_reloading_reported_in_environ", (V6,), BOTH,
     "mod_wsgi 6 no longer passes mod_wsgi.script_reloading to the application"),
    ("test_response.py::test_invalid_status_or_headers_give_500[status_no_reason]",
     (V6,), EMBEDDED,
     "mod_wsgi 6 accepts a status without a reason phrase ('200')"),
    ("test_response.py::test_exception_in_app_is_500_with_traceback", (V6,), BOTH,
     "mod_wsgi 6.1.1 on Python 3.11 logs the exception's last line without the "
     "traceback (traceback.print_exception(value) with __traceback__ unset)"),
    ("test_response.py::test_import_error_is_500_with_traceback", (V6,), BOTH,
     "mod_wsgi 6.1.1 on Python 3.11 logs the exception's last line without the "
     "traceback (traceback.print_exception(value) with __traceback__ unset)"),
]


def _node_key(item):
    """The node id relative to tests/ (e.g. 'e2e/test_mistakes.py::test_x[p]')."""
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.relpath(os.path.abspath(str(item.fspath)), tests_dir)
    return path + "::" + item.nodeid.split("::", 1)[1] if "::" in item.nodeid else path


def _listed(item, prefixes):
    key = _node_key(item)
    return any(key == p or key.startswith(p + "[") or key.startswith(p + "::")
               for p in prefixes)


def known_difference(item):
    """The reason ``item`` is expected to fail against the module under
    test (KNOWN_DIFFERENCES), or None."""
    if not is_mod_wsgi():
        return None
    for prefix, versions, modes, reason in KNOWN_DIFFERENCES:
        if MOD_WSGI_VERSION in versions and TEST_MODE in modes and _listed(item, (prefix,)):
            return "mod_wsgi %d.%d, %s mode: %s" % (MOD_WSGI_VERSION + (TEST_MODE, reason))
    return None


def skip_reason(item):
    """Why ``item`` is skipped against the module under test, or None."""
    if not is_mod_wsgi() or os.environ.get("RUN_MARKED_AGAINST_MOD_WSGI"):
        return None
    for name, reason in REASONS.items():
        if not item.get_closest_marker(name):
            continue
        return "%s (against mod_wsgi %d.%d)" % ((reason,) + MOD_WSGI_VERSION)
    return None
