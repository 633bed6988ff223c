# Invalid status lines / response headers, chosen by QUERY_STRING.
import sys

CASES = {
    "ok": ("200 OK", [("Content-Type", "text/plain")]),
    "crlf_value": ("200 OK", [("X-Test", "a\r\nX-Injected: yes")]),
    "lf_value": ("200 OK", [("X-Test", "a\nX-Injected: yes")]),
    "cr_value": ("200 OK", [("X-Test", "a\rX-Injected: yes")]),
    "crlf_name": ("200 OK", [("X-Test\r\nX-Injected", "yes")]),
    "non_latin1_value": ("200 OK", [("X-Test", "snowman \u2603")]),
    "name_with_space": ("200 OK", [("X Test", "1")]),
    "name_with_colon": ("200 OK", [("X-Test:", "1")]),
    "value_not_str": ("200 OK", [("X-Test", 1)]),
    "value_bytes": ("200 OK", [("X-Test", b"1")]),
    "name_not_str": ("200 OK", [(b"X-Test", "1")]),
    "headers_not_list": ("200 OK", {"X-Test": "1"}),
    "headers_not_tuples": ("200 OK", [["X-Test", "1"]]),
    "headers_tuple_of_three": ("200 OK", [("X-Test", "1", "2")]),
    "status_no_reason": ("200", [("Content-Type", "text/plain")]),
    "status_not_str": (200, [("Content-Type", "text/plain")]),
    "status_bytes": (b"200 OK", [("Content-Type", "text/plain")]),
    "status_bad_code": ("2x0 OK", [("Content-Type", "text/plain")]),
    "status_short_code": ("20 OK", [("Content-Type", "text/plain")]),
    "status_crlf": ("200 OK\r\nX-Injected: yes", [("Content-Type", "text/plain")]),
}


def application(environ, start_response):
    case = environ.get("QUERY_STRING", "")
    status, headers = CASES[case]
    start_response(status, headers)
    return [b"body-of-" + case.encode()]
