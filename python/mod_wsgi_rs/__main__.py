"""``python -m mod_wsgi_rs``: prints the Apache module's path."""

from . import module_path

print(module_path())
