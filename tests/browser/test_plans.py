"""The shared plans board in Chromium: a planner publishes a plan for one account; its
buyer finds it on the board, acknowledges it with the htmx button, and the planner
sees who has seen it and who has not. Another account's buyer never sees it."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from portal.extensions import utcnow

from .conftest import go_to, sign_in


def test_a_plan_for_one_account_is_published_seen_and_reported(page, console_errors):
    starts = utcnow().date() + timedelta(days=30)
    sign_in(page, "planner@vendor.test")
    go_to(page, "Plans", group="Planning")
    page.get_by_role("link", name="Publish a plan").click()
    page.get_by_label("Kind").select_option(label="Planned shutdown")
    page.get_by_label("Title").fill("Shutdown of the pump line for Acme")
    page.get_by_label("Takes effect on").fill(starts.isoformat())
    page.get_by_label("Until").fill((starts + timedelta(days=7)).isoformat())
    page.get_by_label("What it means").fill("Order **before** the shutdown.")
    page.get_by_role("button", name="Preview the text").click()
    expect(page.locator("#preview strong")).to_have_text("before")
    page.get_by_label("Only the accounts chosen below").check()
    page.get_by_label("Acme Industrial").check()
    page.get_by_role("button", name="Publish").click()
    expect(page.locator(".flash-success")).to_contain_text("Published")
    expect(page.locator("h1")).to_contain_text("Shutdown of the pump line for Acme")
    plan_url = page.url
    assert console_errors == []

    # The board's filter swaps the results through htmx.
    page.goto("/plans")
    board = page.locator("#results")
    expect(board).to_contain_text("Shutdown of the pump line for Acme")
    page.get_by_label("Kind").select_option(label="Price change")
    expect(board).not_to_contain_text("Shutdown of the pump line for Acme")
    page.get_by_label("Kind").select_option(label="Planned shutdown")
    expect(board).to_contain_text("Shutdown of the pump line for Acme")

    sign_in(page, "buyer@globex.test")
    page.goto("/plans")
    expect(page.locator("#results")).not_to_contain_text("Shutdown of the pump line")

    sign_in(page, "buyer@acme.test")
    expect(page.locator("#notification-bell .bell-count")).to_have_text("1")
    page.goto("/plans")
    item = page.locator(".plan-item", has_text="Shutdown of the pump line for Acme")
    expect(item.locator(".badge-unread")).to_have_text("New")
    item.get_by_role("link", name="Shutdown of the pump line for Acme").click()
    expect(page.locator(".markdown strong")).to_have_text("before")
    page.get_by_role("button", name="Mark as seen").click()
    # The button swaps in place for "Seen" (htmx), without a page load.
    expect(page.locator("#acknowledgement .badge")).to_have_text("Seen")
    expect(page.get_by_role("button", name="Mark as seen")).to_have_count(0)
    assert console_errors == []

    sign_in(page, "planner@vendor.test")
    page.goto(plan_url)
    readers = page.locator("details.readers", has_text="Acme Industrial")
    expect(readers.locator("summary")).to_contain_text("1 of 4 seen")
    expect(readers.locator("tr", has_text="Bea Buyer")).to_contain_text("Seen")
    expect(readers.locator("tr", has_text="Arno Approver")).to_contain_text("Not yet")
    expect(page.locator("details.readers")).to_have_count(1)  # Acme alone
    assert console_errors == []
