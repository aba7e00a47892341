"""The catalog in Chromium: search as you type, availability for a quantity."""

import re

from playwright.sync_api import expect

from .conftest import sign_in


def test_search_as_you_type_and_check_availability(page, catalog, console_errors):
    sign_in(page, "buyer@acme.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Catalog").click()
    search = page.get_by_label("Find")
    expect(search).to_be_focused()
    page.evaluate("window.__samePage = true")
    search.press_sequentially("eq-pmp-300", delay=20)
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)  # EQ-PMP-300 and EQ-PMP-300 X
    assert page.evaluate("window.__samePage") is True
    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Centrifugal pump 300 l/min")
    quantity = page.get_by_label("Quantity")
    quantity.fill("1000")
    expect(page.locator("#availability")).to_contain_text("in all")
    expect(page.locator("#availability")).to_contain_text(re.compile("ships about", re.I))
    assert console_errors == []
