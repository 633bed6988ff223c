"""WSGI middleware shared by the end-to-end apps (tests/e2e).

It tells the tests, in response headers, what only the application side can
see:

    X-E2E-Process-Group   environ['mod_wsgi.process_group'] ('' = embedded)
    X-E2E-Prefix          sys.prefix (the virtualenv the app runs in)
    X-E2E-Iterable        the type of the iterable the framework returned
    X-E2E-File-Wrapper    1 when that iterable is the server's
                          wsgi.file_wrapper (send_file / FileResponse used it)

start_response is held back until the framework has returned its iterable
(Flask and Django call it before returning and never use write()).
"""

import sys


def probe(app):
    def application(environ, start_response):
        held = {}

        def hold(status, headers, exc_info=None):
            if exc_info is not None and held.get("sent"):
                raise exc_info[1].with_traceback(exc_info[2])
            held["args"] = (status, list(headers), exc_info)
            return lambda data: (_ for _ in ()).throw(
                RuntimeError("write() is not supported by e2e_probe"))

        result = app(environ, hold)
        status, headers, exc_info = held["args"]
        wrapper = environ.get("wsgi.file_wrapper")
        is_wrapper = wrapper is not None and isinstance(wrapper, type) and isinstance(result, wrapper)
        headers += [
            ("X-E2E-Process-Group", str(environ.get("mod_wsgi.process_group", "?"))),
            ("X-E2E-Prefix", sys.prefix),
            ("X-E2E-Iterable", type(result).__name__),
            ("X-E2E-File-Wrapper", "1" if is_wrapper else "0"),
        ]
        held["sent"] = True
        if exc_info is not None:
            start_response(status, headers, exc_info)
        else:
            start_response(status, headers)
        return result

    return application
