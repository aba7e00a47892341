"""Each side's home in a real browser: what the vendor's people owe, the customer's
timeline and its "Show older" (htmx adds the next page's rows to the same list)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import CustomerAccount
from portal.demo import DEMO_PASSWORD
from portal.extensions import db, utcnow
from portal.ideas.models import Idea

from .conftest import try_sign_in

SCREENSHOTS = "/tmp/homes-{name}.png"


@pytest.mark.parametrize(
    ("email", "name", "first_heading"),
    [
        ("planner@vendor.test", "planner", "Forecast versions not answered"),
        ("fulfilment@vendor.test", "fulfilment", "Orders waiting for confirmation"),
        ("manager@vendor.test", "manager", "Your accounts"),
    ],
)
def test_a_vendor_person_sees_what_they_owe(page, console_errors, email, name, first_heading):
    try_sign_in(page, email, DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/")
    assert page.locator("h1").inner_text() == "What you owe"
    assert first_heading in page.locator("section h2").first.inner_text()
    page.screenshot(path=SCREENSHOTS.format(name=name), full_page=True)
    assert console_errors == []


def test_the_buyer_reads_the_timeline_and_shows_older_events(app, page, console_errors):
    with app.app_context():
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        start = utcnow() - timedelta(days=30)
        for n in range(10):
            db.session.add(
                Idea(
                    account_id=acme.id,
                    title=f"Suggestion {n:02d}",
                    category="design",
                    status="under_review",
                    submitted_at=start + timedelta(days=2 * n),
                    first_answered_at=start + timedelta(days=2 * n + 1),
                )
            )
        db.session.commit()
    try_sign_in(page, "buyer@acme.test", DEMO_PASSWORD)
    page.wait_for_url("**/")
    page.goto("/")
    rows = page.locator("#relationship-timeline li.happening")
    first_page = rows.count()
    assert first_page == 15
    assert "Signed in" not in page.locator("#relationship-timeline").inner_text()
    page.screenshot(path=SCREENSHOTS.format(name="buyer"), full_page=True)
    page.get_by_role("link", name="Show older").click()
    expect(rows).to_have_count(20)
    texts = [" ".join(text.split()) for text in rows.all_inner_texts()]
    # 20 happenings: the newest answer first, the oldest sending last, none twice.
    assert len(texts) == 20 and len(set(texts)) == 20
    assert texts[0].endswith("Suggestion answered: Suggestion 09")
    assert texts[-1].endswith("Suggestion sent: Suggestion 00")
    assert page.get_by_role("link", name="Show older").count() == 0
    assert console_errors == []
