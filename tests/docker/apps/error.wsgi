# Fails: raises before start_response (?when=before, the default) or after
# the headers and a first block were produced (?when=after). The exception
# message carries ?token= so the test can find it in the error log.
from urllib.parse import parse_qs


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    token = q.get("token", "none")
    if q.get("when", "before") == "before":
        raise RuntimeError("docker-test-failure-" + token)
    start_response("200 OK", [("Content-Type", "text/plain")])

    def body():
        yield b"first block\n"
        raise RuntimeError("docker-test-failure-" + token)
    return body()
