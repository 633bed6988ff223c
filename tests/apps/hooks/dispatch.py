# WSGIDispatchScript for tests/test_handler_scripts.py: the query string
# chooses; anything else keeps the configured values (None).
def _q(environ):
    return dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)


def process_group(environ):
    v = _q(environ).get("pg")
    if v == "boom":
        raise RuntimeError("process_group exploded")
    if v == "embedded":
        return "%{GLOBAL}"
    return v


def application_group(environ):
    return _q(environ).get("ag")


def callable_object(environ):
    v = _q(environ).get("co")
    if v == "bytes":
        return b"other"
    return v
