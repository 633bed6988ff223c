"""Which tests are skipped against a reference mod_wsgi, and why.

Markers (tests/pytest.ini):

- ``strict_pep3333``: mod_wsgi_rs is intentionally stricter than mod_wsgi
  (PEP 3333); skipped against every mod_wsgi.
- ``rs_only``: mod_wsgi_rs's own behaviour (its log lines, options, design),
  or something mod_wsgi lacks or gets wrong; skipped against every mod_wsgi,
  except the tests listed in ``PASSES_ON`` for a version that has it.

``RUN_MARKED_AGAINST_MOD_WSGI=1`` runs the marked tests anyway (they are
expected to fail, which shows how mod_wsgi differs). Used by tests/conftest.py
(tests/*.py) and tests/e2e/conftest.py.
"""

import os

from harness.apache import MOD_WSGI_VERSION, is_mod_wsgi

REASONS = {
    "strict_pep3333": "mod_wsgi_rs is intentionally stricter than mod_wsgi here (PEP 3333)",
    "rs_only": "behaviour mod_wsgi lacks or gets wrong, or mod_wsgi_rs's own "
               "(see the test's docstring)",
}

# rs_only tests that a mod_wsgi version passes (it has what 4.9.4 lacked):
# they run against it. Keys: MOD_WSGI_VERSION; values: node id prefixes
# relative to tests/ ("test_x.py::test_y", with or without a [param] part).
PASSES_ON = {
    (6, 1): (),
}


def _node_key(item):
    """The node id relative to tests/ (e.g. 'e2e/test_mistakes.py::test_x[p]')."""
    tests_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.relpath(os.path.abspath(str(item.fspath)), tests_dir)
    return path + "::" + item.nodeid.split("::", 1)[1] if "::" in item.nodeid else path


def _listed(item, prefixes):
    key = _node_key(item)
    return any(key == p or key.startswith(p + "[") or key.startswith(p + "::")
               for p in prefixes)


def skip_reason(item):
    """Why ``item`` is skipped against the module under test, or None."""
    if not is_mod_wsgi() or os.environ.get("RUN_MARKED_AGAINST_MOD_WSGI"):
        return None
    for name, reason in REASONS.items():
        if not item.get_closest_marker(name):
            continue
        if name == "rs_only" and _listed(item, PASSES_ON.get(MOD_WSGI_VERSION, ())):
            continue
        return "%s (against mod_wsgi %d.%d)" % ((reason,) + MOD_WSGI_VERSION)
    return None
