"""mod_wsgi_rs: Python support files for mod-wsgi-rs (Apache httpd + mod_wsgi_rs).

Add ``mod_wsgi_rs.server`` to a Django project's INSTALLED_APPS for the
``runmodwsgi`` management command.

Installed from its wheel, the package also holds the Apache module, and
the wheel installs the ``mod-wsgi-rs`` command into the environment's bin/
(it finds the module here). For an existing Apache configuration,
``mod-wsgi-rs module-config`` prints the lines to add; ``module_path()`` is
the module's file.
"""

import importlib.machinery
from pathlib import Path

__all__ = ["module_path"]

_HERE = Path(__file__).resolve().parent


def module_path():
    """The Apache module's path (for LoadModule wsgi_module PATH)."""
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        path = _HERE / ("libmod_wsgi_rs" + suffix)
        if path.is_file():
            return str(path)
    found = sorted(_HERE.glob("libmod_wsgi_rs*.so"))
    if not found:
        raise FileNotFoundError(
            "the mod_wsgi_rs Apache module is missing from %s: install the wheel "
            "(scripts/build-wheels), or use target/release/libmod_wsgi_rs.so of a source build"
            % _HERE
        )
    return str(found[0])
