# httpbin (PyPI), unchanged, behind the e2e probe.
from e2e_probe import probe
from httpbin import app

application = probe(app)
