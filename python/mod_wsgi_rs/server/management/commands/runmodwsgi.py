"""``python manage.py runmodwsgi [options]``: serve this Django project with
Apache and mod_wsgi_rs.

It finds the project's WSGI application (settings.WSGI_APPLICATION), its
directory (settings.BASE_DIR, else the directory above the settings
package) and its static files (STATIC_URL served from STATIC_ROOT, unless
WhiteNoise serves them), then replaces itself with::

    mod-wsgi-rs start-server PACKAGE.wsgi:application --application-type module \\
        --working-directory BASE_DIR --url-alias STATIC_URL STATIC_ROOT [options]

Every option is passed to ``mod-wsgi-rs start-server`` as given (see
``python manage.py runmodwsgi --help``); one given explicitly replaces the
value found in the settings. The program is $MOD_WSGI_RS_BIN, else
``mod-wsgi-rs`` next to this Python, else on PATH.
"""

import os
import shutil
import sys

from django.core.management.base import BaseCommand, CommandError

# Django's own options, read by manage.py itself: not passed on.
_DJANGO_VALUE_OPTIONS = ("--settings", "--pythonpath", "--verbosity", "-v")
_DJANGO_FLAGS = ("--traceback", "--no-color", "--force-color", "--skip-checks")


def _program():
    given = os.environ.get("MOD_WSGI_RS_BIN")
    if given:
        return given
    beside = os.path.join(os.path.dirname(sys.executable), "mod-wsgi-rs")
    if os.access(beside, os.X_OK):
        return beside
    found = shutil.which("mod-wsgi-rs")
    if found:
        return found
    raise CommandError(
        "cannot find the mod-wsgi-rs program: install mod_wsgi_rs into this Python "
        "(pip install mod-wsgi-rs), put mod-wsgi-rs on PATH, or set MOD_WSGI_RS_BIN")


def _pass_through(argv):
    """The options of ``argv`` (after ``manage.py runmodwsgi``) without
    Django's own."""
    out = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in _DJANGO_VALUE_OPTIONS:
            skip = "=" not in arg and name == arg
            continue
        if arg in _DJANGO_FLAGS:
            continue
        out.append(arg)
    return out


def _given(options, name):
    return any(o == name or o.startswith(name + "=") for o in options)


def _static_alias(settings):
    """``[STATIC_URL, STATIC_ROOT]`` when Apache should serve them."""
    middleware = getattr(settings, "MIDDLEWARE", None) or []
    if "whitenoise.middleware.WhiteNoiseMiddleware" in middleware:
        return []
    url = str(getattr(settings, "STATIC_URL", "") or "")
    root = str(getattr(settings, "STATIC_ROOT", "") or "")
    if not url or not root or "://" in url:
        return []
    if not url.startswith("/"):
        url = "/" + url
    return [url.rstrip("/") or "/", root]


def command_line(argv, settings, executable=None):
    """The ``mod-wsgi-rs start-server`` command line for ``argv``."""
    options = _pass_through(argv)
    wsgi_application = getattr(settings, "WSGI_APPLICATION", None)
    if not wsgi_application or "." not in wsgi_application:
        raise CommandError(
            "settings.WSGI_APPLICATION is not set: set it to the WSGI application, "
            "e.g. 'mysite.wsgi.application'")
    module, callable_object = wsgi_application.rsplit(".", 1)
    args = [executable or _program(), "start-server", "%s:%s" % (module, callable_object),
            "--application-type", "module"]
    if not _given(options, "--working-directory"):
        base = getattr(settings, "BASE_DIR", None)
        if base is None:
            package = os.environ["DJANGO_SETTINGS_MODULE"].split(".")[0]
            base = os.path.dirname(os.path.dirname(sys.modules[package].__file__))
        args += ["--working-directory", str(base)]
    static = _static_alias(settings)
    if static:
        args += ["--url-alias"] + static
    if sys.prefix != sys.base_prefix and not _given(options, "--python-home"):
        # The virtualenv of manage.py, which has Django.
        args += ["--python-home", sys.prefix]
    return args + options


class Command(BaseCommand):
    help = ("Serves this project with Apache and mod_wsgi_rs: mod-wsgi-rs start-server "
            "with the project's WSGI application and static files; every option is one of "
            "mod-wsgi-rs start-server's (see below).")

    def run_from_argv(self, argv):
        # The options are mod-wsgi-rs start-server's: they are not parsed
        # here but passed on, so every one of them works as documented.
        rest = argv[2:]
        if "-h" in rest or "--help" in rest:
            self.print_help(argv[0], argv[1])
            sys.stdout.flush()
            program = _program()
            os.execv(program, [program, "start-server", "--help"])
        from django.conf import settings
        args = command_line(rest, settings)
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            os.execv(args[0], args)
        except OSError as e:
            raise CommandError("cannot run %s: %s" % (args[0], e))

    def handle(self, *args, **options):
        raise CommandError("run it as `python manage.py runmodwsgi [options]`")
