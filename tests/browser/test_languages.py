"""An Indonesian buyer in Chromium (PT Nusantara Teknik's, priced in rupiah): the sign-in
page's switch, then the quick order's pad in Indonesian, and the line total that htmx
swaps in written the Indonesian way; then a whole order (quick order, cart, checkout,
the order page, its print view) with no English word on the way and amounts written as
Indonesians write them: "Rp1.234.500", whole rupiah."""

from __future__ import annotations

import os
import re
from decimal import Decimal

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Product
from portal.extensions import db

from .conftest import sign_in

BUYER = "buyer@nusantara.test"


def test_an_indonesian_buyer_orders_on_the_pad_in_indonesian(app, catalog, page, console_errors):
    """Nusantara's buyer has chosen no language: the account's (Indonesian) applies."""
    with app.app_context():
        assert (
            db.session.scalar(select(User).where(User.email == BUYER)).account.default_language
            == "id"
        )
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
    page.get_by_label("E-mail").fill(BUYER)
    page.get_by_label("Kata sandi").fill("portal-demo")
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_url(lambda url: "/login" not in url)
    page.get_by_role("navigation", name="Utama").get_by_role("link", name="Pesan cepat").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pesan cepat")
    page.get_by_label("SKU, baris 1", exact=True).fill(sku)
    page.get_by_label("Jumlah, baris 1", exact=True).fill("1000")
    page.get_by_label("Jumlah, baris 1", exact=True).press("Enter")
    # The swapped cell comes from the person's language, not the browser's (en-US here).
    expect(page.locator("#pad-info-0")).to_contain_text(re.compile(r"Rp\d{1,3}(\.\d{3})+(?![\d,])"))
    expect(page.get_by_role("button", name="Periksa baris", exact=True)).to_be_visible()


# Words that betray English left on an Indonesian page. Not in the list: "Total", "Status",
# "SKU" and "PO", which Indonesian procurement writes the same way (GLOSSARY.md).
ENGLISH_WORDS = (
    "Order",
    "Orders",
    "Cart",
    "Checkout",
    "Quantity",
    "Delivery",
    "Deliver",
    "Print",
    "Unit price",
    "Line total",
    "Lines",
    "Placed",
    "Expected",
    "Product",
    "Shipped",
    "Confirmation",
    "Remove",
    "Save",
    "Back",
    "Requested",
    "Notes",
    "Account",
    "Approval",
    "Approve",
    "Timeline",
    "Add",
    "Check",
    "Price",
    "Stock",
    "ships",
    "about",
    "Cancel",
    "Review",
    "Progress",
    "Awaiting",
    "Your",
    "the",
    "and",
    "of",
    "with",
    "for",
    "by",
)
ENGLISH = re.compile(r"\b(?:" + "|".join(map(re.escape, ENGLISH_WORDS)) + r")\b", re.I)
# Rupiah the Indonesian way: "Rp1.234.500", whole; never "1,234,500.00 IDR" or decimals.
RUPIAH = re.compile(r"Rp\d{1,3}(?:\.\d{3})*")
ENGLISH_AMOUNT = re.compile(r"\d,\d{3}\.\d{2}|\bIDR\b|\bEUR\b|€|Rp[\d.]+,\d")
SHOTS = os.environ.get("PORTAL_TEST_SCREENSHOTS")  # a folder: keep each page's picture


def english_on(page, data: list[str]) -> list[str]:
    """English words on the page as a person sees it (hidden parts left out), once the
    data people typed or the catalogue holds (names, addresses) is taken away."""
    text = page.locator("body").inner_text()
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    return ENGLISH.findall(text)


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"i18n15-{name}.png"), full_page=True)


def test_an_indonesian_buyer_goes_through_a_whole_order_without_english(
    app, catalog, page, console_errors
):
    """Quick order → cart → checkout → the order page → its print view, in Indonesian."""
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == BUYER))
        # Above the limit (250 bearings alone pass it): the checkout warns and the order
        # waits for the approver.
        buyer.account.approval_limit = Decimal("10000000")
        products = db.session.scalars(
            select(Product)
            .where(Product.status == "active", Product.min_order_qty == 1)
            .where(Product.order_multiple == 1, Product.sku.like("BRG-%"))
            .order_by(Product.sku)
            .limit(2)
        ).all()
        data = [
            app.config["VENDOR_NAME"],
            buyer.name,
            buyer.account.name,
            *(p.name for p in products),
            *(
                value
                for a in buyer.account.addresses
                for value in (a.label, a.recipient, a.line1, a.city, a.one_line)
            ),
            "PO-ID-1",
        ]
        skus = [p.sku for p in products]
        db.session.commit()
    sign_in(page, BUYER)

    page.goto("/order")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pesan cepat")
    page.get_by_label("Tempel baris").fill(f"{skus[0]}\t250\n{skus[1]}\t40")
    page.get_by_role("button", name="Periksa baris yang ditempel").click()
    rows = page.locator("#review tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator(".line-status")).to_have_text(["Sesuai", "Sesuai"])
    assert english_on(page, data) == []
    page.get_by_role("button", name="Tambahkan baris yang dicentang ke keranjang").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Keranjang")
    expect(page.get_by_text("2 baris ditambahkan ke keranjang.")).to_be_visible()
    total = page.locator("#cart tfoot .total").inner_text()
    assert RUPIAH.fullmatch(total), total
    assert english_on(page, data) == []
    assert not ENGLISH_AMOUNT.search(page.locator("main").inner_text())
    shot(page, "cart")
    page.get_by_role("link", name="Penyelesaian pesanan").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Penyelesaian pesanan")
    expect(page.get_by_role("status")).to_contain_text("melebihi batas persetujuan akun Anda")
    expect(page.get_by_role("status")).to_contain_text("Rp10.000.000")
    assert page.locator("tfoot .total").inner_text() == total
    assert english_on(page, data) == []
    shot(page, "checkout")
    page.get_by_label("Nomor PO Anda").fill("")
    page.get_by_role("button", name="Buat pesanan").click()
    # The form's own message, in Indonesian too.
    expect(page.locator("#po_number-error")).to_have_text("Kolom ini wajib diisi.")
    page.get_by_label("Nomor PO Anda").fill("PO-ID-1")
    page.get_by_role("button", name="Buat pesanan").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Pesanan ")
    expect(heading).to_contain_text("Menunggu persetujuan")
    expect(page.get_by_text("menunggu pemberi persetujuan Anda")).to_be_visible()
    expect(page.locator(".facts .total")).to_have_text(total)
    expect(page.locator(".timeline")).to_contain_text("Pesanan dibuat")
    expect(page.locator(".timeline")).to_contain_text(
        "Persetujuan diminta (di atas batas Rp10.000.000)"
    )
    assert english_on(page, data) == []
    assert not ENGLISH_AMOUNT.search(page.locator("main").inner_text())
    shot(page, "order")

    # The print view: the same page as the printer gets it.
    expect(page.get_by_role("button", name="Cetak konfirmasi")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator(".print-only")).to_be_visible()
    expect(page.locator(".print-only")).to_contain_text("Konfirmasi pesanan · dicetak ")
    expect(page.get_by_role("button", name="Cetak konfirmasi")).to_be_hidden()
    assert english_on(page, data) == []
    shot(page, "print")
    # The one error logged is the empty PO number's answer (422), sent on purpose.
    assert [e for e in console_errors if "422" not in e] == []
    assert len(console_errors) == 1
