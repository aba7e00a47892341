"""Contacts in Chromium: an account manager opens an account, logs a call shared with the
customer and sets the follow-up it led to; the customer reads the shared note."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from portal.extensions import utcnow

from .conftest import go_to, sign_in


def test_a_manager_logs_a_call_and_sets_a_follow_up_from_the_account_page(page, console_errors):
    due = utcnow().date() + timedelta(days=7)
    sign_in(page, "manager@vendor.test")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="C-10001").click()
    page.get_by_role("link", name="Contacts and follow-ups").click()
    expect(page.locator("h1")).to_contain_text("Contacts and follow-ups: Acme Industrial")

    form = page.locator("#contact-form")
    form.get_by_label("Kind").select_option(label="Call")
    form.get_by_label("What it was about").fill("Call about the pump deliveries")
    form.get_by_label("Who took part from the customer").fill("Bea Buyer")
    form.get_by_label("Notes").fill("Volumes **steady** for the next quarter.")
    form.get_by_label("Next step").fill("Send the new lead times")
    form.get_by_label("Shared with the customer").check()
    form.get_by_role("button", name="Log it").click()
    expect(page.locator(".flash-success")).to_contain_text("Call logged and shared")
    entry = page.locator("article.message").first
    expect(entry.locator("h3")).to_contain_text("Call about the pump deliveries")
    expect(entry.locator(".markdown strong")).to_have_text("steady")

    # The call's next step becomes an owned follow-up, prefilled from the entry.
    entry.get_by_role("link", name="Set as follow-up").click()
    expect(page.locator("h1")).to_have_text("Set a follow-up with Acme Industrial")
    expect(page.get_by_label("What is to be done")).to_have_value("Send the new lead times")
    page.get_by_label("Due on").fill(due.isoformat())
    page.get_by_role("button", name="Set the follow-up").click()
    expect(page.locator(".flash-success")).to_contain_text("owned by Morgan Manager")
    row = page.locator("[aria-labelledby=follow-ups] tbody tr").first
    expect(row).to_contain_text("Send the new lead times")
    expect(row).to_contain_text("after the call of")
    assert console_errors == []

    sign_in(page, "buyer@acme.test")
    go_to(page, "Notes shared with us", group="Relationship")
    expect(page.locator("article h2")).to_contain_text("Call about the pump deliveries")
    assert console_errors == []
