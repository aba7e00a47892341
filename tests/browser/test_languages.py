"""An Indonesian buyer in Chromium: the sign-in page's switch, then the quick order's
pad in Indonesian, and the line total that htmx swaps in written the Indonesian way."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Product
from portal.extensions import db


def test_an_indonesian_buyer_orders_on_the_pad_in_indonesian(app, catalog, page, console_errors):
    with app.app_context():
        db.session.scalar(select(User).where(User.email == "buyer@acme.test")).language = "id"
        db.session.commit()
        sku = db.session.scalar(
            select(Product.sku)
            .where(Product.status == "active", Product.min_order_qty == 1)
            .where(Product.order_multiple == 1, Product.sku.like("BRG-%"))
            .order_by(Product.sku)
            .limit(1)
        )
    page.context.clear_cookies()
    page.goto("/login")
    page.get_by_role("link", name="Bahasa Indonesia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Masuk")
    page.get_by_label("E-mail").fill("buyer@acme.test")
    page.get_by_label("Kata sandi").fill("portal-demo")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.get_by_role("navigation", name="Utama").get_by_role("link", name="Pesan cepat").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pesan cepat")
    page.get_by_label("SKU, baris 1", exact=True).fill(sku)
    page.get_by_label("Jumlah, baris 1", exact=True).fill("1000")
    page.get_by_label("Jumlah, baris 1", exact=True).press("Enter")
    # The swapped cell comes from the person's language, not the browser's (en-US here).
    expect(page.locator("#pad-info-0")).to_contain_text(re.compile(r"€\d{1,3}(\.\d{3})+,\d{2}"))
    expect(page.get_by_role("button", name="Periksa baris", exact=True)).to_be_visible()
