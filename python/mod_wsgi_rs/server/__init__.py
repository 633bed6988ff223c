"""Django integration: with ``mod_wsgi_rs.server`` in INSTALLED_APPS,
``python manage.py runmodwsgi [options]`` serves the project with
``mod-wsgi-rs start-server`` (the counterpart of mod_wsgi's
``mod_wsgi.server`` and its ``runmodwsgi``)."""
