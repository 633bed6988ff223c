# Runs once when Python starts in an Apache child or a daemon process.
import site
import sys


class _RestrictedStdin:
    """sys.stdin under WSGIRestrictStdin On: any read is an error."""

    encoding = "utf-8"

    def _refuse(self, *args, **kwargs):
        raise OSError(
            "sys.stdin access restricted by mod_wsgi: a WSGI application reads "
            "the request body from environ['wsgi.input']"
        )

    read = readline = readlines = __iter__ = fileno = _refuse

    def isatty(self):
        return False

    def close(self):
        pass


def setup(python_path, restrict_stdin, restrict_signal):
    for entry in python_path:
        site.addsitedir(entry)
    if restrict_stdin:
        sys.stdin = _RestrictedStdin()
    if restrict_signal:
        import signal

        original = signal.signal

        def _signal(signum, handler):
            sys.stderr.write(
                "mod_wsgi: callback registration for signal %d ignored "
                "(WSGIRestrictSignal On).\n" % signum
            )
            return signal.getsignal(signum)

        _signal.__wrapped__ = original
        signal.signal = _signal
