"""A small browser on top of the harness's client (``Apache.request``):
keeps cookies, follows redirects like a browser does, encodes forms and
multipart bodies, and pulls hidden form fields out of HTML."""

import hashlib
import html
import os
import random
import re
import uuid
from urllib.parse import urlencode, urljoin, urlsplit

REDIRECTS = (301, 302, 303, 307, 308)


class Browser:
    def __init__(self, srv):
        self.srv = srv
        self.cookies = {}
        self.base = "http://127.0.0.1:%d" % srv.port

    # ------------------------------------------------------------ cookies
    def _store_cookies(self, response):
        for value in response.headers.get_all("Set-Cookie") or []:
            first, *attrs = [p.strip() for p in value.split(";")]
            name, _, val = first.partition("=")
            attrs = {a.partition("=")[0].lower(): a.partition("=")[2] for a in attrs}
            expired = ("max-age" in attrs and attrs["max-age"].strip().lstrip("-").isdigit()
                       and int(attrs["max-age"]) <= 0) or "1970" in attrs.get("expires", "")
            if expired:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = val.strip('"') if val.startswith('"') else val

    def cookie_header(self):
        return "; ".join("%s=%s" % kv for kv in self.cookies.items())

    # ------------------------------------------------------------ requests
    def request(self, method, path, body=None, headers=None, follow=True,
                max_hops=10, timeout=20):
        """Returns the final response; ``response.history`` lists the
        (status, Location) of the redirects followed, ``response.url`` is the
        path of the final request."""
        history = []
        headers = dict(headers or {})
        while True:
            h = dict(headers)
            if self.cookies:
                h["Cookie"] = self.cookie_header()
            r = self.srv.request(method, path, body=body, headers=h, timeout=timeout)
            self._store_cookies(r)
            r.url = path
            if not follow or r.status not in REDIRECTS:
                r.history = history
                return r
            location = r.header("Location")
            assert location, "redirect %d without Location from %s" % (r.status, path)
            history.append((r.status, location))
            if len(history) > max_hops:
                raise AssertionError("too many redirects: %r" % history)
            target = urlsplit(urljoin(self.base + path, location))
            assert "%s://%s" % (target.scheme, target.netloc) == self.base, (
                "redirect off the server: %r" % location)
            path = target.path + ("?" + target.query if target.query else "")
            if r.status in (301, 302, 303) and method != "HEAD":
                method, body = "GET", None
                headers = {k: v for k, v in headers.items()
                           if k.lower() not in ("content-type", "content-length")}

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def head(self, path, **kw):
        return self.request("HEAD", path, **kw)

    def post_form(self, path, fields, headers=None, **kw):
        body = urlencode(fields, doseq=True).encode("ascii")
        h = {"Content-Type": "application/x-www-form-urlencoded"}
        h.update(headers or {})
        return self.request("POST", path, body=body, headers=h, **kw)

    def post_multipart(self, path, fields=(), files=(), headers=None, **kw):
        body, ctype = multipart(fields, files)
        h = {"Content-Type": ctype}
        h.update(headers or {})
        return self.request("POST", path, body=body, headers=h, **kw)


def multipart(fields=(), files=()):
    """fields: [(name, value)], files: [(name, filename, content_type, bytes)].
    Returns (body, content type)."""
    boundary = "e2e-" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                    % (boundary, name)).encode("utf-8"))
        out.append(value.encode("utf-8") if isinstance(value, str) else value)
        out.append(b"\r\n")
    for name, filename, ctype, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                    "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n"
                    % (boundary, name, filename, ctype)).encode("utf-8"))
        out.append(data)
        out.append(b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode("ascii"))
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


def hidden_field(page, name):
    """The value of <input ... name="NAME" value="..."> in an HTML page."""
    text = page if isinstance(page, str) else page.decode("utf-8")
    for tag in re.findall(r"<input\b[^>]*>", text):
        if re.search(r'\bname="%s"' % re.escape(name), tag):
            m = re.search(r'\bvalue="([^"]*)"', tag)
            if m:
                return html.unescape(m.group(1))
    raise AssertionError("no <input name=%r> in page:\n%s" % (name, text[:3000]))


def random_bytes(n, seed):
    """Deterministic, incompressible bytes."""
    return random.Random(seed).randbytes(n)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def write_blob(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o644)
