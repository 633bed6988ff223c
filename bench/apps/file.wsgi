# A 3 MiB file (data/3m.bin next to this script) through wsgi.file_wrapper.
# A server without one (Granian: PEP 3333 makes it optional) gets the file
# in 64 KiB blocks instead, as PEP 3333 says an application should do.
import os

PATH = os.path.join(os.path.dirname(__file__), "data", "3m.bin")


class Blocks:
    def __init__(self, f, size):
        self.f = f
        self.size = size

    def __iter__(self):
        return iter(lambda: self.f.read(self.size), b"")

    def close(self):
        self.f.close()


def application(environ, start_response):
    f = open(PATH, "rb")
    size = os.fstat(f.fileno()).st_size
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    wrapper = environ.get("wsgi.file_wrapper", Blocks)
    return wrapper(f, 65536)
