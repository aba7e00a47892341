"""Service requests in Chromium: a buyer opens an urgent request, the service person takes
it, writes an internal note and answers, then resolves it; the buyer sees the answer (never
the note) and the promise, confirms and rates."""

from __future__ import annotations

import os

from playwright.sync_api import expect

from .conftest import go_to, sign_in

# Set PORTAL_SCREENSHOTS=/some/folder to keep pictures of the pages on the way.
SHOTS = os.environ.get("PORTAL_SCREENSHOTS")


def shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"service-{name}.png"), full_page=True)


def test_a_request_from_the_customer_to_the_service_person_and_back(page, console_errors):
    sign_in(page, "buyer@acme.test")
    go_to(page, "Service and complaints", group="After the sale")
    page.get_by_role("link", name="Ask for help or complain").click()
    page.get_by_label("What do you need?").select_option(label="Repair")
    page.get_by_label("Priority").select_option(label="Urgent — equipment down")
    page.get_by_label("Title").fill("Dosing pump P-7 stopped")
    page.get_by_label("Description").fill("Line 2 is **down** since 07:00.")
    shot(page, "new")
    page.get_by_role("button", name="Open the request").click()
    expect(page.locator(".flash-success")).to_contain_text("is open")
    expect(page.locator("h1 .badge")).to_have_text("New")
    expect(page.locator(".promise")).to_contain_text("First answer by")
    expect(page.locator(".markdown strong")).to_have_text("down")
    request_url = page.url
    shot(page, "opened")

    sign_in(page, "service@vendor.test")
    page.goto("/service")
    shot(page, "queue")
    page.locator("#results tbody tr", has_text="Dosing pump P-7").get_by_role("link").click()
    page.get_by_role("button", name="Take it").click()
    expect(page.locator(".flash-success")).to_contain_text("is yours")
    page.get_by_label("Post as").select_option("internal")
    page.get_by_label("Your message").fill("Spare pump in Hall 3. NOTE-XYZ")
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".message.internal")).to_contain_text("NOTE-XYZ")
    page.get_by_label("Post as").select_option("public")
    page.get_by_label("Your message").fill("A technician is on the way with a spare pump.")
    page.get_by_role("button", name="Post").click()
    expect(page.locator(".promise")).to_contain_text("Kept")
    page.get_by_label("New status").select_option(label="Resolved")
    page.get_by_label("Resolution").fill("Pump exchanged; the old one goes to repair.")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator("h1 .badge")).to_have_text("Resolved")
    shot(page, "vendor-request")
    assert console_errors == []

    sign_in(page, "buyer@acme.test")
    page.goto(request_url)
    expect(page.locator(".thread")).to_contain_text("technician is on the way")
    expect(page.locator("main")).not_to_contain_text("NOTE-XYZ")
    expect(page.locator(".message.internal")).to_have_count(0)
    expect(page.locator("main")).to_contain_text("Pump exchanged")
    shot(page, "customer-resolved")
    page.get_by_label("Satisfied", exact=True).check()
    page.get_by_label("Comment (optional)").fill("Fast and friendly.")
    page.get_by_role("button", name="Confirm and close").click()
    expect(page.locator("h1 .badge")).to_have_text("Closed")
    expect(page.locator("main")).to_contain_text("Satisfied: “Fast and friendly.”")
    page.goto("/service?status=all")
    expect(page.locator("#results")).to_contain_text("Dosing pump P-7")
    assert console_errors == []


def test_the_queue_and_the_measures_filter_through_htmx(app, page, console_errors):
    """Choosing an account narrows the service queue in place and the address follows; the
    customer's measures page changes its period the same way."""
    import re

    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db, utcnow
    from portal.service import workflow

    with app.app_context():
        for email, title in (
            ("buyer@acme.test", "Acme's pump leaks"),
            ("buyer@globex.test", "Globex's valve sticks"),
        ):
            buyer = db.session.scalar(select(User).where(User.email == email))
            workflow.open_request(
                buyer, kind="repair", priority="high", title=title, description="", now=utcnow()
            )

    sign_in(page, "service@vendor.test")
    page.goto("/service")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Account").select_option(label="Globex Manufacturing")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Globex's valve sticks")
    expect(page).to_have_url(re.compile(r"/service\?.*account=\d+"))
    assert console_errors == []

    page.context.clear_cookies()
    sign_in(page, "buyer@acme.test")
    page.goto("/service/measures")
    expect(page.locator(".lead")).to_contain_text("in the last 90 days")
    page.get_by_label("Period").select_option(label="Last 30 days")
    expect(page.locator(".lead")).to_contain_text("in the last 30 days")
    expect(page).to_have_url(re.compile(r"/service/measures\?.*days=30"))
