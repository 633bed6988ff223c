"""Django management commands of mod_wsgi_rs.server."""
