"""mod_wsgi_rs: Python support files for mod-wsgi-rs (Apache httpd + mod_wsgi_rs).

Add ``mod_wsgi_rs.server`` to a Django project's INSTALLED_APPS for the
``runmodwsgi`` management command.
"""
