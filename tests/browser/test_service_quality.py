"""A quality complaint in Chromium: the service person records the five steps (the
resolution is refused while some are missing), sends a replacement order free of
charge, and the buyer finds it on the complaint and the complaint on the order."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Category, Product, Stock
from portal.extensions import db, utcnow
from portal.service import workflow

from .conftest import sign_in


@pytest.fixture
def quality_complaint(app, demo) -> int:
    """Acme's complaint about burrs on a valve body, not yet answered."""
    with app.app_context():
        item = Product(
            sku="QB-1",
            name="Valve body",
            category=Category(name="Browser quality"),
            list_price=40,
            stock=Stock(on_hand=100),
        )
        db.session.add(item)
        db.session.commit()
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        request = workflow.open_request(
            buyer,
            kind="complaint_quality",
            priority="high",
            title="Burrs inside the valve bodies",
            description="Found on 6 of 50.",
            now=utcnow(),
            product_id=item.id,
        )
        return request.id


def test_steps_then_a_replacement_order_linked_both_ways(page, console_errors, quality_complaint):
    sign_in(page, "service@vendor.test")
    page.goto(f"/service/{quality_complaint}")
    page.get_by_label("Affected quantity").fill("6")
    page.get_by_label("Which parts (batch, lot, delivery)").fill("Batch 24-117")
    page.get_by_label("Containment").fill("Batch blocked and sorted")
    page.get_by_role("button", name="Save the steps").click()
    expect(page.locator(".flash-success")).to_contain_text("affected quantity, containment")
    expect(page.locator("table.quality-steps")).to_contain_text("Sasha Service")

    page.get_by_label("New status").select_option(label="Resolved")
    page.get_by_label("Resolution").fill("Parts replaced.")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("#status").locator("xpath=..")).to_contain_text(
        "Still missing: root cause, corrective action, verification of its effect."
    )

    page.get_by_role("button", name="Send a replacement free of charge (6 × QB-1)").click()
    expect(page.locator(".flash-success")).to_contain_text("replaces the affected parts")
    order_link = page.locator("#quality").get_by_role("link").first
    number = order_link.inner_text()

    page.get_by_label("Root cause").fill("Worn deburring tool")
    page.get_by_label("Corrective action").fill("Tool life counter")
    page.get_by_label("Verification of its effect").fill("Three batches clean")
    page.get_by_role("button", name="Save the steps").click()
    expect(page.locator("#quality")).to_contain_text("All five steps are recorded.")
    page.get_by_label("New status").select_option(label="Resolved")
    page.get_by_label("Resolution").fill("Parts replaced; cause corrected.")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("h1 .badge")).to_have_text("Resolved")
    # The refused resolution answered 422 (the form with its message); nothing else failed.
    assert [e for e in console_errors if "422" not in e] == []

    sign_in(page, "buyer@acme.test")
    page.goto(f"/service/{quality_complaint}")
    expect(page.locator("table.quality-steps")).to_contain_text("Worn deburring tool")
    page.get_by_role("link", name=number).click()
    expect(page.locator("h1")).to_contain_text(number)
    expect(page.locator(".notice")).to_contain_text("Replacement for service request")
    page.locator(".notice").get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("Burrs inside the valve bodies")
