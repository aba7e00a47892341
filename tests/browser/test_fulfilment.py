"""The order desk in Chromium: confirming with one split line, changing a promise
with a reason, the buyer seeing the new date, the reason and the notification,
and a partial shipment."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Category, Product, Stock
from portal.extensions import db
from portal.ordering import service as ordering

from .conftest import sign_in

TODAY = date.today()


@pytest.fixture
def placed_order(app, demo) -> str:
    """An Acme order of two lines, waiting for confirmation."""
    with app.app_context():
        category = Category(name="Browser desk")
        products = [
            Product(
                sku=sku,
                name=name,
                category=category,
                list_price=Decimal("12.50"),
                lead_time_days=10,
                stock=Stock(on_hand=on_hand),
            )
            for sku, name, on_hand in (("BRD-1", "Bracket", 100), ("BRD-2", "Gear", 4))
        ]
        db.session.add_all(products)
        db.session.commit()
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        ordering.add_to_cart(buyer, [(products[0].id, 10), (products[1].id, 10)])
        address = next(a for a in buyer.account.addresses if a.kind == "shipping")
        order, _ = ordering.place_order(
            buyer,
            po_number="PO-BROWSER",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key="browser-desk",
            today=TODAY,
        )
        return order.number


def test_desk_confirms_with_a_split_changes_a_promise_and_ships_part(
    page, placed_order, console_errors
):
    sign_in(page, "fulfilment@vendor.test")
    page.goto("/desk")
    page.get_by_role("link", name=placed_order).click()
    # Line 2 has 4 in stock: 4 now, 6 later.
    later = (TODAY + timedelta(days=20)).isoformat()
    page.get_by_label("Quantity to ship later, line 2").fill("6")
    page.get_by_label("Promised date of the later part, line 2").fill(later)
    page.get_by_role("button", name="Confirm order").click()
    expect(page.locator(".flash-success")).to_contain_text("confirmed")
    expect(page.locator("h1 .badge")).to_have_text("Confirmed")
    lines = page.locator("#lines-heading ~ table tbody tr")
    expect(lines).to_have_count(3)
    expect(lines.nth(2)).to_contain_text("(later part)")

    # The later part slips: a new date with a reason.
    new_date = TODAY + timedelta(days=27)
    page.get_by_text("Change promise of line 3").click()
    form = f"#line{_line_id(page, 3)}"
    page.locator(f"{form}-new_date").fill(new_date.isoformat())
    page.locator(f"{form}-reason").select_option("material")
    page.get_by_role("button", name="Save new date").click()
    expect(page.locator(".flash-success")).to_contain_text(new_date.strftime("%d %b %Y"))

    # Part of line 1 leaves today.
    page.get_by_label("Quantity shipped, line 1").fill("6")
    page.get_by_label("Quantity shipped, line 2").fill("0")
    page.get_by_label("Quantity shipped, line 3").fill("0")
    page.get_by_label("Carrier").fill("DHL Freight")
    page.get_by_label("Tracking reference").fill("JJD000123")
    page.get_by_role("button", name="Record shipment").click()
    expect(page.locator("h1 .badge")).to_have_text("Partly shipped")
    expect(page.locator(".shipment").first).to_contain_text("JJD000123")
    expect(lines.nth(0)).to_contain_text("6 shipped")
    expect(lines.nth(0)).to_contain_text("4 to come")
    assert console_errors == []

    # The buyer sees the new date, the reason and the notification.
    page.context.clear_cookies()
    sign_in(page, "buyer@acme.test")
    # Confirmed, promise changed, shipped: three unread.
    expect(page.locator("#notification-bell .bell-count")).to_have_text("3")
    page.goto(f"/orders/{placed_order}")
    row = page.locator("#lines-heading ~ table tbody tr").nth(2)
    expect(row).to_contain_text(new_date.strftime("%d %b %Y"))
    row.get_by_text("1 change").click()
    expect(row).to_contain_text("Material shortage")
    expect(page.locator(".shipment")).to_contain_text("JJD000123")
    page.goto("/notifications")
    expect(page.locator("main")).to_contain_text(f"now promised for {new_date:%d %b %Y}")
    assert console_errors == []


def _line_id(page, line_no: int) -> str:
    """The id of the line numbered `line_no`, from its shipping field's name."""
    name = page.get_by_label(f"Quantity shipped, line {line_no}").get_attribute("name")
    return name.split("-", 1)[1]
