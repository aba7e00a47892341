"""Signing in through the real form, in Chromium."""

from playwright.sync_api import expect

from .conftest import sign_in, try_sign_in


def test_buyer_signs_in_and_lands_on_the_customer_home(page, console_errors):
    sign_in(page, "buyer@acme.test")
    expect(page).to_have_url("/".join([page.url.rsplit("/", 1)[0], ""]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Acme Industrial")
    expect(page.get_by_text("Morgan Manager")).to_be_visible()
    assert console_errors == []


def test_vendor_admin_signs_in_and_sees_all_accounts(page, console_errors):
    sign_in(page, "admin@vendor.test")
    expect(page.get_by_role("heading", level=1)).to_have_text("What you owe")
    expect(page.get_by_role("heading", level=2, name="Every account")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Home", "Catalog", "Orders", "Accounts"):
        expect(nav.get_by_role("link", name=label)).to_be_visible()
    page.get_by_text("Alex Admin").click()  # the user menu holds the administration
    for label in ("Users", "Audit log", "Background work"):
        expect(page.get_by_role("link", name=label)).to_be_visible()
    assert console_errors == []


def test_wrong_password_shows_the_message_and_keeps_the_email(page):
    try_sign_in(page, "buyer@acme.test", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("The e-mail address or password is incorrect.")
    expect(page.get_by_label("E-mail")).to_have_value("buyer@acme.test")
    expect(page.get_by_label("Password")).to_have_value("")


def test_buyer_sees_no_vendor_navigation_and_is_refused_vendor_pages(page):
    sign_in(page, "buyer@acme.test")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(
        ["Home", "Quick order", "Cart", "Orders", "Catalog"]
    )
    expect(nav.get_by_role("button")).to_have_text(["Planning", "After the sale", "Relationship"])
    for label in ("Accounts", "Users", "Audit log", "Desk"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
    page.goto("/accounts")
    expect(page.get_by_role("heading", level=1)).to_have_text("Not permitted")


def test_keyboard_alone_signs_in(page):
    page.goto("/login")
    expect(page.get_by_label("E-mail")).to_be_focused()  # autofocus
    page.keyboard.type("manager@vendor.test")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Password")).to_be_focused()
    page.keyboard.type("portal-demo")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("What you owe")


def test_sign_out_from_the_user_menu_ends_the_session(page):
    sign_in(page, "buyer@acme.test")
    page.locator("summary").filter(has_text="Bea Buyer").click()  # the user menu
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
