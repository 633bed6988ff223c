# A 3 MiB file (data/3m.bin next to this script) through wsgi.file_wrapper.
import os

PATH = os.path.join(os.path.dirname(__file__), "data", "3m.bin")


def application(environ, start_response):
    f = open(PATH, "rb")
    size = os.fstat(f.fileno()).st_size
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    return environ["wsgi.file_wrapper"](f, 65536)
