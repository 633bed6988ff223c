# Runs once when Python starts in an Apache child or a daemon process.
import site
import sys


def _keep_standard_fds(keep):
    """os.close / os.closerange never free the numbers 0-2: `keep(fd, call)`
    re-points the descriptor (0 at /dev/null, 1 and 2 at the error log).

    A freed number is the lowest free one, so the next connection this
    process accepts, in another thread, would take it (a client's socket in
    an Apache child, an Apache child's in a daemon), and what the
    application or C code then writes to "stderr" would reach that peer.
    """
    import os
    from operator import index

    close, closerange = os.close, os.closerange

    def _close(fd):
        fd = index(fd)
        if 0 <= fd <= 2 and keep(fd, "os.close(%d)" % fd):
            return None
        return close(fd)

    def _closerange(fd_low, fd_high):
        low, high = index(fd_low), index(fd_high)
        call = "os.closerange(%d, %d)" % (low, high)
        for fd in range(max(low, 0), min(high, 3)):
            if not keep(fd, call):
                try:
                    close(fd)
                except OSError:
                    pass  # closerange ignores descriptors already closed
        if max(low, 3) < high:
            closerange(max(low, 3), high)

    for wrapper, original in ((_close, close), (_closerange, closerange)):
        wrapper.__name__ = wrapper.__qualname__ = original.__name__
        wrapper.__doc__ = original.__doc__
        wrapper.__wrapped__ = original
    os.close, os.closerange = _close, _closerange


def setup(python_path, restrict_signal, keep_standard_fd):
    _keep_standard_fds(keep_standard_fd)
    for entry in python_path:
        site.addsitedir(entry)
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
