# wsgi.file_wrapper cases. ?kind=file|bytesio&offset=N&cl=M&token=T
# kind=file wraps STATE_DIR/data.bin (opened as a FileIO subclass, seeked to
# offset); kind=bytesio wraps an in-memory copy (no fileno). cl, when given,
# is sent as Content-Length. The filelike's close() appends
# "fileclose <token>" to STATE_DIR/events.log.
import io
import os
from urllib.parse import parse_qs


def make_recording(base):
    class Recording(base):
        token = None
        state_dir = None

        def close(self):
            if not self.closed:
                with open(os.path.join(self.state_dir, "events.log"), "a") as f:
                    f.write("fileclose %s\n" % self.token)
            super().close()
    return Recording


RecordingFile = make_recording(io.FileIO)
RecordingBytesIO = make_recording(io.BytesIO)


def application(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    path = os.path.join(environ["STATE_DIR"], "data.bin")
    kind = q.get("kind", "file")
    offset = int(q.get("offset", "0"))
    if kind == "file":
        f = RecordingFile(path, "rb")
    else:
        with open(path, "rb") as src:
            f = RecordingBytesIO(src.read())
    f.token = q.get("token", "none")
    f.state_dir = environ["STATE_DIR"]
    f.seek(offset)
    headers = [("Content-Type", "application/octet-stream")]
    if "cl" in q:
        headers.append(("Content-Length", q["cl"]))
    start_response("200 OK", headers)
    return environ["wsgi.file_wrapper"](f, 8192)
