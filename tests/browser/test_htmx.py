"""htmx interactions: the filter updates the table in place, without a page load."""

from playwright.sync_api import expect

from .conftest import sign_in, try_sign_in


def test_account_filter_updates_the_table_in_place(page, console_errors):
    sign_in(page, "admin@vendor.test")
    page.get_by_role("link", name="Accounts").click()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(5)  # the demo's five customer accounts
    page.evaluate("window.__samePage = true")
    page.get_by_label("Find").press_sequentially("initech", delay=20)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Initech Systems")
    assert page.evaluate("window.__samePage") is True  # swapped, not reloaded
    expect(page).to_have_url("/accounts?q=initech".join([page.url.split("/accounts")[0], ""]))
    page.get_by_label("Only mine").check()
    expect(page.get_by_text("No account matches “initech”.")).to_be_visible()
    assert console_errors == []


def test_user_filter_by_account(page):
    sign_in(page, "admin@vendor.test")
    page.goto("/users")
    page.get_by_label("Belongs to").select_option(label="C-10003 Initech Systems")
    expect(page.locator("#results tbody tr").first).to_contain_text("@initech.test")
    for text in page.locator("#results tbody td:nth-child(2)").all_inner_texts():
        assert text.endswith("@initech.test")


def test_audit_log_filters_in_place(page):
    try_sign_in(page, "admin@vendor.test", "not-the-password")  # a failure, then a sign-in
    sign_in(page, "admin@vendor.test")
    page.goto("/audit")
    rows = page.locator("#results tbody tr")
    expect(rows.locator("td:nth-child(2)")).to_have_text(["Signed in", "Sign-in failed"])
    page.evaluate("window.__samePage = true")
    page.get_by_label("Event").select_option(label="Signed in")
    expect(rows.locator("td:nth-child(2)")).to_have_text(["Signed in"])
    page.get_by_label("Account").select_option(label="C-10003 Initech Systems")
    expect(page.get_by_text("No events match.")).to_be_visible()
    assert page.evaluate("window.__samePage") is True
