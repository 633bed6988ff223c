# The Django e2e project. sys.path gets @APPS@/e2e from WSGIPythonPath
# (embedded) or python-path= (daemon).
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "e2eproj.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402
from e2e_probe import probe  # noqa: E402

application = probe(get_wsgi_application())
