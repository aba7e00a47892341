"""Installed equipment in Chromium: a buyer finds a unit among the account's
equipment, asks for service from its page, and the request appears in the
unit's service history."""

from __future__ import annotations

import os

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import Address, CustomerAccount
from portal.catalog.models import Category, Product, Stock
from portal.equipment.models import EquipmentSpec, EquipmentUnit
from portal.extensions import db

from .conftest import sign_in

SHOTS = os.environ.get("PORTAL_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"equipment-{name}.png"), full_page=True)


def test_a_buyer_asks_for_service_from_a_unit_and_sees_it_in_its_history(
    app, live_server, page, console_errors
):
    from decimal import Decimal

    with app.app_context():
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        site = db.session.scalar(select(Address).where(Address.account_id == acme.id))
        pump = Product(
            sku="PMP-BRW",
            name="Booster pump BP-40",
            category=Category(name="Pumps"),
            list_price=Decimal("1200.00"),
            stock=Stock(on_hand=1),
        )
        db.session.add(pump)
        db.session.flush()
        db.session.add(
            EquipmentSpec(product_id=pump.id, warranty_months=24, maintenance_interval_months=6)
        )
        db.session.add(
            EquipmentUnit(
                account_id=acme.id,
                product_id=pump.id,
                serial="BP40-0007",
                site_id=site.id,
                source="imported",
            )
        )
        db.session.commit()
        site_label = site.label

    sign_in(page, "buyer@acme.test")
    page.goto("/service")
    page.get_by_role("link", name="Your equipment").click()
    expect(page.locator("h1")).to_have_text("Your equipment")
    expect(page.locator("#results h2")).to_contain_text(site_label)
    shot(page, "list")
    page.get_by_role("link", name="BP40-0007").click()
    expect(page.locator("#unit-history")).to_contain_text("No service requests")
    page.get_by_role("link", name="Ask for service on this unit").click()
    expect(page.locator("#request-form")).to_contain_text("serial BP40-0007")
    expect(page.get_by_label("Title")).to_have_value("PMP-BRW serial BP40-0007")
    page.get_by_label("What do you need?").select_option(label="Repair")
    page.get_by_label("Priority").select_option(label="Urgent — equipment down")
    page.get_by_label("Description").fill("Pressure drops after ten minutes.")
    page.get_by_role("button", name="Open the request").click()
    expect(page.locator(".flash-success")).to_contain_text("is open")
    reference = page.locator(".flash-success").inner_text().split()[0]
    page.locator("dl.facts").get_by_role("link", name="serial BP40-0007").click()
    expect(page.locator("h1")).to_contain_text("Booster pump BP-40")
    history = page.locator("#unit-history")
    expect(history).to_contain_text(reference)
    expect(history).to_contain_text("PMP-BRW serial BP40-0007")
    shot(page, "unit")
    assert console_errors == []
