"""The image's own example site (port 80), seen from another container."""


def test_example_app_is_served(example):
    r = example.get("/")
    assert r.status == 200, r
    assert r.text.startswith("Hello from mod_wsgi_rs!")
    assert "mode: embedded" in r.text
    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_example_app_sees_path(example):
    r = example.get("/some/where")
    assert r.status == 200, r
    assert "path: /some/where" in r.text
