"""A small Flask application for the end-to-end tests (tests/e2e/test_flask.py).

Mounted at / or at a sub-path; every URL it produces comes from url_for, so
the tests can check that SCRIPT_NAME is honoured. STATE_DIR (SetEnv in the
harness config) holds blob.bin for send_file and the release files of the
streamed response.
"""

import hashlib
import os
import time

from flask import (Flask, Response, abort, jsonify, redirect, request,
                   send_file, session, stream_with_context, url_for)

app = Flask(__name__)
app.config.update(SECRET_KEY="e2e-not-secret", SESSION_COOKIE_SAMESITE="Lax")

USERS = {"alice": "wonderland", "jürgen": "passwört"}

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body>{body}</body></html>"""


def page(title, body):
    return PAGE.format(title=title, body=body)


@app.route("/")
def index():
    user = session.get("user")
    if user:
        body = ('<p id="greeting">Hello, {u}!</p><a href="{out}">log out</a>'
                .format(u=user, out=url_for("logout")))
    else:
        body = ('<p id="greeting">Hello, stranger.</p><a href="{login}">log in</a>'
                .format(login=url_for("login")))
    return page("index", body)


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        name = request.form.get("username", "")
        if USERS.get(name) == request.form.get("password"):
            session["user"] = name
            return redirect(request.args.get("next") or url_for("index"))
        return page("login", '<p id="error">bad credentials</p>'), 401
    body = ('<form method="post" action="{action}">'
            '<input name="username"><input name="password" type="password">'
            '<button>log in</button></form>').format(action=url_for("login"))
    return page("login", body)


@app.route("/logout")
def logout():
    session.pop("user", None)
    return redirect(url_for("index"))


@app.route("/private")
def private():
    if "user" not in session:
        return redirect(url_for("login", next=url_for("private")))
    return jsonify(user=session["user"], secret="the cake is a lie")


@app.route("/urls")
def urls():
    return jsonify(
        script_root=request.script_root,
        path=request.path,
        index=url_for("index"),
        login=url_for("login", next="/x y"),
        cafe=url_for("cafe"),
        external=url_for("cafe", _external=True),
        url=request.url,
        environ_script_name=request.environ.get("SCRIPT_NAME"),
        environ_path_info=request.environ.get("PATH_INFO"),
    )


@app.route("/form", methods=["GET", "POST"])
def form():
    if request.method == "GET":
        body = ('<form method="post" action="{a}"><input name="name">'
                '<textarea name="comment"></textarea><select name="tags" multiple>'
                '<option>a</option><option>b</option></select></form>'
                .format(a=url_for("form")))
        return page("form", body)
    return jsonify(
        name=request.form.get("name"),
        comment=request.form.get("comment"),
        tags=request.form.getlist("tags"),
        content_type=request.content_type,
    )


@app.route("/upload", methods=["POST"])
def upload():
    files = []
    for field, storage in request.files.items(multi=True):
        h = hashlib.sha256()
        size = 0
        while True:
            chunk = storage.stream.read(65536)
            if not chunk:
                break
            h.update(chunk)
            size += len(chunk)
        files.append(dict(field=field, filename=storage.filename,
                          content_type=storage.content_type, size=size,
                          sha256=h.hexdigest()))
    return jsonify(files=files, form=request.form.to_dict(flat=False),
                   content_length=request.content_length)


@app.route("/download")
def download():
    path = os.path.join(request.environ["STATE_DIR"], "blob.bin")
    resp = send_file(path, mimetype="application/octet-stream",
                     as_attachment=True, download_name="blob ünïcode.bin",
                     conditional=True, etag=True)
    # What werkzeug hands back to the server (e2e_probe checks it again on
    # the way out): the server's own wsgi.file_wrapper for a plain GET.
    wrapper = request.environ.get("wsgi.file_wrapper")
    resp.headers["X-Flask-Used-File-Wrapper"] = (
        "1" if wrapper is not None and isinstance(resp.response, wrapper) else "0")
    return resp


@app.route("/stream")
def stream():
    token = request.args.get("token", "")
    n = int(request.args.get("n", "5"))
    release = os.path.join(request.environ["STATE_DIR"], "release-" + token) if token else None

    def generate():
        yield "first line (script_root=%s)\n" % request.script_root
        if release:
            # Wait until the client has seen the first line: proves the
            # response is streamed, not buffered until the end.
            deadline = time.monotonic() + 10
            while not os.path.exists(release) and time.monotonic() < deadline:
                time.sleep(0.02)
            yield "released=%s\n" % os.path.exists(release)
        for i in range(n):
            yield "line %d %s\n" % (i, "x" * 1000)
        yield "done\n"

    return Response(stream_with_context(generate()), mimetype="text/plain")


@app.route("/café")
def cafe():
    return jsonify(route="café", path=request.path, args=request.args.to_dict(),
                   url=url_for("cafe"))


@app.route("/teapot")
def teapot():
    abort(418)
