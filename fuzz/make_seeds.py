#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/seeds/<target>/ (small valid inputs
that get each fuzzer past the first checks). Rerun after changing it."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
# In the order of DIRECTIVES in src/config/directives.rs: a directives seed
# starts with the row index.
DIRECTIVES = [
    "WSGIScriptAlias", "WSGIScriptAliasMatch", "WSGIImportScript", "WSGIDaemonProcess",
    "WSGIPythonHome", "WSGIPythonPath", "WSGIPythonOptimize", "WSGIPythonHashSeed",
    "WSGIPythonWarnings", "WSGIDontWriteBytecode", "WSGIRestrictEmbedded",
    "WSGIRestrictStdin", "WSGIRestrictStdout", "WSGIRestrictSignal", "WSGISocketPrefix",
    "WSGILazyInitialization", "WSGIVerboseDebugging", "WSGIAcceptMutex",
    "WSGISocketRotation", "WSGIDestroyInterpreter", "WSGIProcessGroup",
    "WSGIApplicationGroup", "WSGIRestrictProcess", "WSGIHandlerScript",
    "WSGICallableObject", "WSGIPassAuthorization", "WSGIScriptReloading",
    "WSGIChunkedRequest", "WSGIMapHEADToGET", "WSGIErrorOverride", "WSGIEnableSendfile",
    "WSGIBufferRequestBody", "WSGITrustedProxyHeaders", "WSGITrustedProxies",
    "WSGIAccessScript", "WSGIAuthUserScript", "WSGIAuthGroupScript",
]
ARGS = {
    "WSGIScriptAlias": "/app /srv/app.wsgi process-group=g application-group=%{GLOBAL}",
    "WSGIScriptAliasMatch": "^/(\\w+)/ /srv/$1.wsgi",
    "WSGIImportScript": "/srv/app.wsgi process-group=g application-group=%{GLOBAL}",
    "WSGIDaemonProcess": "g processes=2 threads=15 display-name=%{GROUP} maximum-requests=1000 memory-limit=512M",
    "WSGIPythonHome": "/srv/venv",
    "WSGIPythonPath": "/srv/a:/srv/b",
    "WSGIPythonOptimize": "1",
    "WSGIPythonHashSeed": "random",
    "WSGIPythonWarnings": "ignore::DeprecationWarning",
    "WSGISocketPrefix": "/run/wsgi",
    "WSGIProcessGroup": "%{ENV:GROUP}",
    "WSGIApplicationGroup": "%{RESOURCE}",
    "WSGIRestrictProcess": "a b c",
    "WSGIHandlerScript": "my-handler /srv/handler.wsgi process-group=g",
    "WSGICallableObject": "app",
    "WSGIMapHEADToGET": "Auto",
    "WSGITrustedProxyHeaders": "X-Forwarded-For X-Forwarded-Proto HTTP_X_REAL_IP",
    "WSGITrustedProxies": "127.0.0.1 10.0.0.0/8 192.168 ::1 2001:db8::/32 10.0.0.0/255.0.0.0",
}


def write(target, name, data):
    d = os.path.join(HERE, "seeds", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def frame(kind, payload):
    return bytes([kind]) + struct.pack(">I", len(payload)) + payload


def bstr(b):
    return struct.pack(">I", len(b)) + b


lines = []
for i, name in enumerate(DIRECTIVES):
    args = ARGS.get(name, "On")
    line = bytes([i]) + args.encode()
    write("directives", "d%02d" % i, line)
    lines.append(line)
write("directives", "all", b"\n".join(lines))

write("daemon_options", "full", b"\x00g processes=2 threads=15 display-name=%{GROUP} "
      b"user=www-data group=www-data umask=0022 maximum-requests=1000 "
      b"request-timeout=60 deadlock-timeout=60 memory-limit=512M "
      b"header-buffer-size=32768 python-path=/a:/b home=/srv")
write("daemon_options", "quoted", b"\x01g display-name='my app' python-home=\"/srv/my venv\"")

secret = bytes([7]) * 32
hello = frame(1, b"MWRS" + struct.pack(">H", 2) + secret + struct.pack(">q", 1234567))
env_pairs = [(b"REQUEST_METHOD", b"GET"), (b"PATH_INFO", b"/x"), (b"HTTP_HOST", b"h")]
environ = frame(2, struct.pack(">I", len(env_pairs)) + b"".join(bstr(k) + bstr(v) for k, v in env_pairs))
hdrs = [(b"Content-Type", b"text/plain"), (b"X-A", b"b")]
headers = frame(0x12, bstr(b"200 OK") + struct.pack(">I", len(hdrs)) + b"".join(bstr(k) + bstr(v) for k, v in hdrs))
limit = struct.pack(">H", 8192)
write("wire", "request", limit + hello + environ + frame(3, b"body") + frame(4, b""))
write("wire", "response", limit + frame(0x10, struct.pack(">I", 42)) + frame(0x11, struct.pack(">I", 65536))
      + headers + frame(0x13, b"data") + frame(0x14, struct.pack(">QQ", 0, 10))
      + frame(0x18, b"\x03log text") + frame(0x15, b""))
write("wire", "reused", limit + headers + frame(0x13, b"data") + frame(0x15, b"") + frame(0x19, b"")
      + frame(0x1a, b""))
write("wire", "status", limit + frame(0x17, struct.pack(">H", 503) + b"busy") + frame(0x16, b"\x00cut"))

write("headers", "status", b"\x00200 OK\xffContent-Type")
write("headers", "header", b"\x00X-Test\xffvalue\twith tab")
write("headers", "crlf", b"\x00X-Test\xffa\r\nX-Injected: 1")
write("headers", "utf8", b"\x03X-\xe2\x82\xac\xffsnow \xe2\x98\x83")
write("headers", "cl", b"\x00 123 \xff")

kinds = bytes(range(13))
write("proxy", "xff", b"127.0.0.1 10.0.0.0/8\n" + kinds + b"\n127.0.0.1\n"
      b"\x001.1.1.1, 203.0.113.9, 10.1.2.3\n\x03example.com\n\x05443\n\x06https\n\x0c/prefix\n")
write("proxy", "untrusted", b"10.9.9.9\n" + kinds + b"\n127.0.0.1\n\x001.2.3.4\n\x02 5.6.7.8\n")
write("proxy", "v6", b"::1 2001:db8::/32\n\x00\x02\n::ffff:127.0.0.1\n\x00::1, 2001:db8::5\n")
