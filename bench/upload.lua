-- wrk script: POST a 1 MiB body (to upload.wsgi, which hashes it).
wrk.method = "POST"
wrk.body = string.rep("a", 1048576)
wrk.headers["Content-Type"] = "application/octet-stream"
