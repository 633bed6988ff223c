# The Flask e2e app. sys.path gets @APPS@/e2e from WSGIPythonPath
# (embedded) or python-path= (daemon).
from e2e_probe import probe
from flaskapp import app

application = probe(app)
