"""Kept URLs (PortalFlask.url_for): what is built once is what Flask builds, per host,
script root, values and static file version."""

from flask import Flask


def _both(app, endpoint, **values):
    return app.url_for(endpoint, **values), Flask.url_for(app, endpoint, **values)


def test_kept_urls_are_the_ones_flask_builds_under_each_prefix(app):
    for root in ("", "/portal", "/other"):
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            for _ in range(2):  # built, then kept
                for endpoint, values in (
                    ("home.index", {}),
                    ("ordering.order", {"number": "2026-000001"}),
                    ("catalog.index", {"page": 1}),
                    ("catalog.index", {"page": True}),
                    ("catalog.index", {"q": "a b", "page": 2}),
                    ("static", {"filename": "css/portal.css"}),
                ):
                    kept, built = _both(app, endpoint, **values)
                    assert kept == built and kept.startswith(root + "/")
        with app.test_request_context("/", base_url=f"http://localhost{root}/"):
            assert app.url_for("catalog.index", page=True) == f"{root}/catalog?page=True"
            assert app.url_for("catalog.index", page=1) == f"{root}/catalog?page=1"


def test_a_changed_static_file_gets_a_new_kept_url(app, tmp_path):
    (tmp_path / "site.css").write_text("a {}")
    app.static_folder = str(tmp_path)
    with app.test_request_context("/"):
        first = app.url_for("static", filename="site.css")
        assert app.url_for("static", filename="site.css") == first
        (tmp_path / "site.css").write_text("a { color: red }")
        second = app.url_for("static", filename="site.css")
        assert second != first and second == Flask.url_for(app, "static", filename="site.css")
