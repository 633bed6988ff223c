# What a process was set up with: its pid, Python's switch interval,
# PYTHON_EGG_CACHE, and the SO_SNDBUF / SO_RCVBUF of its UNIX sockets
# (tests/test_directives_61.py).
import json
import os
import socket
import sys


def socket_buffers():
    sizes = []
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if not os.readlink("/proc/self/fd/%d" % fd).startswith("socket:"):
                continue
            s = socket.socket(fileno=os.dup(fd))
        except OSError:
            continue
        try:
            if s.family == socket.AF_UNIX:
                sizes.append([s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
                              s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)])
        finally:
            s.close()
    return sizes


def application(environ, start_response):
    body = json.dumps({
        "pid": os.getpid(),
        "switch_interval": sys.getswitchinterval(),
        "egg_cache": os.environ.get("PYTHON_EGG_CACHE"),
        "buffers": socket_buffers(),
    }).encode()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
