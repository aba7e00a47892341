"""The bell in Chromium: the count rises without a reload, the list marks all read in place."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications import service

from .conftest import sign_in


def notify(app, email: str, number: str, link: str) -> None:
    """What another area does when something happens: notify inside its transaction
    (here: order `number` was confirmed, every line declined)."""
    with app.app_context():
        person = db.session.scalar(select(User).where(User.email == email))
        service.notify([person], "order_confirmed", {"number": number}, link)
        db.session.commit()


def test_the_bell_counts_up_without_a_reload_and_the_list_marks_all_read(app, page, console_errors):
    sign_in(page, "buyer@acme.test")
    bell = page.locator("#notification-bell")
    expect(bell).to_have_accessible_name("Notifications")
    page.evaluate("window.__samePage = true")

    notify(app, "buyer@acme.test", "2026-000012", "/catalog")
    notify(app, "buyer@acme.test", "2026-000013", "/orders")
    notify(app, "admin@acme.test", "2026-000014", "/orders")
    # The bell polls every 30 s; the event it also listens for brings that forward.
    page.evaluate("htmx.trigger(document.body, 'notifications-changed')")
    expect(bell).to_have_accessible_name("Notifications, 2 unread")
    expect(bell.locator(".bell-count")).to_have_text("2")
    assert page.evaluate("window.__samePage") is True  # swapped in place, not reloaded

    page.get_by_role("link", name="Notifications, 2 unread").click()
    expect(page).to_have_url(page.url.split("/notifications")[0] + "/notifications")
    rows = page.locator("#notifications tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator(".badge-unread")).to_have_count(2)

    # One read in place: the row loses its mark and the bell follows without a reload.
    page.evaluate("window.__samePage = true")
    declined = "was confirmed: every line declined."
    page.get_by_role("button", name=f"Mark read Order 2026-000013 {declined}").click()
    expect(rows.locator(".badge-unread")).to_have_count(1)
    expect(bell).to_have_accessible_name("Notifications, 1 unread")

    page.get_by_role("button", name="Mark all as read").click()
    expect(rows.locator(".badge-unread")).to_have_count(0)
    expect(page.get_by_text("Nothing unread.")).to_be_visible()
    expect(bell).to_have_accessible_name("Notifications")
    expect(bell.locator(".bell-count")).to_have_count(0)
    assert page.evaluate("window.__samePage") is True

    # Open goes to what the notification is about.
    page.get_by_role("button", name=f"Open Order 2026-000012 {declined}").click()
    expect(page).to_have_url(page.url.split("/catalog")[0] + "/catalog")
    assert console_errors == []
