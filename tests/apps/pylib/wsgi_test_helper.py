# Importable only when WSGIPythonPath points at this directory.
VALUE = "from-pythonpath"
