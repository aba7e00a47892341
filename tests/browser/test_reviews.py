"""The customer reads the vendor's scorecard and rates the relationship in Chromium;
a wrong rating keeps the comment and says what is wrong; the keyboard alone can rate."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.reviews.models import RelationshipRating

from .conftest import go_to, sign_in


def test_the_customer_reads_the_scorecard_and_rates_the_relationship(page, console_errors, app):
    sign_in(page, "buyer@acme.test")
    go_to(page, "Scorecard", group="Relationship")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "How Northwind Components is doing for you"
    )
    figures = page.get_by_role("table")
    expect(figures.get_by_role("rowheader", name="Order lines on time, in full")).to_be_visible()
    expect(figures).to_contain_text("Service targets kept")
    expect(figures).to_contain_text("Defects per million units delivered")
    rating = page.locator("#rating")
    expect(rating).to_contain_text("We ask once a quarter")

    # Sent without a choice: the comment stays, the error sits beside the choices.
    page.get_by_label("Comment").fill("Deliveries are reliable; answers on drawings are slow.")
    page.get_by_role("button", name="Send rating").click()
    expect(page.locator("#score-error")).to_have_text(
        "Choose a rating from 1 (poor) to 5 (excellent)."
    )
    expect(page.get_by_label("Comment")).to_have_value(
        "Deliveries are reliable; answers on drawings are slow."
    )

    # The keyboard alone: focus the first choice, arrow to "4 — good", send.
    page.get_by_label("5 — excellent").focus()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("4 — good")).to_be_checked()
    page.get_by_role("button", name="Send rating").press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("your rating reached us")
    expect(rating).to_contain_text("Thank you for your rating this quarter")
    expect(rating).to_contain_text("4 of 5")
    # The refused form came back as 422, which Chromium logs; nothing else may be there.
    assert [e for e in console_errors if "status of 422" not in e] == []
    with app.app_context():
        stored = db.session.scalars(select(RelationshipRating)).all()
        assert [(r.score, r.comment[:10]) for r in stored] == [(4, "Deliveries")]
