# A 64 KiB response in one block, with a Content-Length.
BODY = b"0123456789abcdef" * 4096
HEADERS = [("Content-Type", "application/octet-stream"),
           ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]
