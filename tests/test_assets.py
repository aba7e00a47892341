"""Static files: versioned URLs and long cache lifetimes (portal.assets)."""

from .support import soup


def test_static_urls_carry_a_content_version_and_are_cached_for_a_year(client):
    """Static files are named by their content (?v=), so proxies and browsers may keep them."""
    page = soup(client.get("/login"))
    stylesheet = page.select_one('link[rel="stylesheet"]')["href"]
    assert stylesheet.startswith("/static/css/portal.css?v=")
    response = client.get(stylesheet)
    assert response.status_code == 200
    assert response.cache_control.max_age == 365 * 24 * 3600
    assert response.cache_control.public and response.cache_control.immutable
    stale = client.get("/static/css/portal.css?v=0000000000")
    assert stale.status_code == 200 and not stale.cache_control.max_age
