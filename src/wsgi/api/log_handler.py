# mod_wsgi.LogHandler: a logging.Handler writing into Apache's error log
# (the request's, when the calling thread runs one). Built on first use of
# mod_wsgi.LogHandler, so processes that never log this way do not import
# logging.
import logging


def make(emit_to_apache):
    class LogHandler(logging.Handler):
        """Sends log records to Apache's error log: CRITICAL -> crit,
        ERROR -> error, WARNING -> warn, INFO -> info, lower -> debug."""

        def emit(self, record):
            try:
                msg = self.format(record)
            except Exception:
                self.handleError(record)
                return
            emit_to_apache(record.levelno, msg)

    LogHandler.__module__ = "mod_wsgi"
    LogHandler.__qualname__ = "LogHandler"
    return LogHandler
