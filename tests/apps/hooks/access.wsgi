# WSGIAccessScript for tests/test_auth_scripts.py: the query string says
# what to answer.
def allow_access(environ, host):
    q = environ.get("QUERY_STRING", "")
    if q == "deny":
        return False
    if q == "none":
        return None
    if q == "boom":
        raise RuntimeError("allow_access exploded")
    if q == "wrongtype":
        return "yes"
    # default: allow the loopback client only, by the host it was given
    return host == "127.0.0.1"
