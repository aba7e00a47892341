"""The main navigation in Chromium: its menus by keyboard and by pointer, and a bar of
one row at 1280 px for every role in English and Indonesian."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db

from .conftest import sign_in, try_sign_in
from .test_accessibility import axe_violations


def test_the_keyboard_opens_a_menu_reaches_the_equipment_and_escape_closes_it(page, console_errors):
    sign_in(page, "buyer@acme.test")
    nav = page.get_by_role("navigation", name="Main")
    after_the_sale = nav.get_by_role("button", name="After the sale")
    expect(after_the_sale).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Equipment")).to_be_hidden()

    after_the_sale.focus()
    page.keyboard.press("Enter")
    expect(after_the_sale).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Equipment")).to_be_focused()
    page.keyboard.press("Escape")
    expect(after_the_sale).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Equipment")).to_be_hidden()
    expect(after_the_sale).to_be_focused()

    page.keyboard.press(" ")
    expect(after_the_sale).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/equipment$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Your equipment")
    # The page's group shows as current; inside it, the page's own link.
    after_the_sale = nav.get_by_role("button", name="After the sale")
    expect(after_the_sale).to_have_attribute("aria-current", "true")
    after_the_sale.click()
    expect(nav.get_by_role("link", name="Equipment")).to_have_attribute("aria-current", "page")
    # Tab past the last link leaves the menu, and closes it.
    nav.get_by_role("link", name="Service and complaints").focus()
    page.keyboard.press("Tab")
    expect(after_the_sale).to_have_attribute("aria-expanded", "false")
    assert console_errors == []


def test_a_click_outside_or_on_another_menu_closes_the_open_one(page, console_errors):
    sign_in(page, "buyer@acme.test")
    nav = page.get_by_role("navigation", name="Main")
    planning = nav.get_by_role("button", name="Planning")
    relationship = nav.get_by_role("button", name="Relationship")
    planning.click()
    expect(nav.get_by_role("link", name="Forecasts")).to_be_visible()
    relationship.click()
    expect(planning).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Scorecard")).to_be_visible()
    page.get_by_role("heading", level=1).click()
    expect(relationship).to_have_attribute("aria-expanded", "false")
    # The user menu closes by Escape too, back on its summary.
    summary = page.locator(".usermenu summary")
    summary.click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(summary).to_be_focused()
    assert console_errors == []


PEOPLE = [
    "buyer@acme.test",
    "approver@acme.test",
    "admin@acme.test",
    "admin@vendor.test",
    "manager2@vendor.test",  # the longest name beside the bar
    "planner@vendor.test",
    "engineer@vendor.test",
    "fulfilment@vendor.test",
    "service@vendor.test",
]


def rows_of(page) -> int:
    tops = page.locator(".mainnav > ul > li").evaluate_all(
        "items => items.map(item => Math.round(item.getBoundingClientRect().top))"
    )
    return len(set(tops))


def test_the_bar_keeps_one_row_at_1280_px_for_every_role_in_both_languages(app, page):
    for language in ("en", "id"):
        with app.app_context():
            for person in db.session.scalars(select(User).where(User.email.in_(PEOPLE))):
                person.language = language
            db.session.commit()
        for email in PEOPLE:
            sign_in(page, email)
            assert rows_of(page) == 1, (email, language)
            # The bar ends before the bell: nothing of it hides under the user menu.
            last = page.locator(".mainnav > ul > li").last.bounding_box()
            bell = page.locator(".bell").bounding_box()
            assert last["x"] + last["width"] <= bell["x"], (email, language)


def test_on_a_phone_the_navigation_folds_behind_one_button_and_its_menus_fit(page, console_errors):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, "buyer@acme.test")
    nav = page.get_by_role("navigation", name="Main")
    menu = nav.get_by_role("button", name="Menu")
    # Folded: brand, bell and user menu make one row, the "Menu" button a short second.
    expect(nav.get_by_role("link", name="Quick order")).to_be_hidden()
    header = page.locator(".topbar").bounding_box()
    assert header["height"] <= 110, header

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    nav.get_by_role("button", name="Relationship").click()
    box = page.locator("#menu-relationship").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    expect(nav.get_by_role("link", name="Notes shared with us")).to_be_visible()

    # Escape closes the group first, then the navigation, each back on its button.
    nav.get_by_role("link", name="Notes shared with us").focus()
    page.keyboard.press("Escape")
    expect(nav.get_by_role("button", name="Relationship")).to_be_focused()
    expect(nav.get_by_role("link", name="Notes shared with us")).to_be_hidden()
    page.keyboard.press("Escape")
    expect(menu).to_be_focused()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav.get_by_role("link", name="Quick order")).to_be_hidden()

    # By keyboard alone: open it, go to a page.
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(nav.get_by_role("link", name="Quick order")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/order$"))
    assert console_errors == []


def test_on_a_wide_screen_the_menu_button_is_not_there(page):
    sign_in(page, "buyer@acme.test")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    expect(nav.get_by_role("link", name="Quick order")).to_be_visible()


def test_the_open_menus_meet_wcag_a_and_aa(page):
    """axe-core over the top bar with each menu open: the panel's dark links on white,
    the current one marked, and the buttons' states (the pages' own check in
    test_accessibility sees the menus closed)."""
    sign_in(page, "manager@vendor.test")
    page.goto("/forecasts/inbox")  # a page inside a group, so that group is current
    found = []
    for button in page.locator(".navgroup > button[aria-expanded]").all():
        button.click()
        found += axe_violations(page, button.inner_text(), context=".topbar")
    assert found == []


def test_on_a_phone_without_javascript_the_navigation_stays_open(
    browser, browser_context_args, live_server
):
    phone = {**browser_context_args, "viewport": {"width": 390, "height": 844}}
    context = browser.new_context(**phone, java_script_enabled=False)
    page = context.new_page()
    try_sign_in(page, "buyer@acme.test", "portal-demo")
    page.wait_for_url(lambda url: "/login" not in url)
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Quick order")).to_be_visible()
    expect(nav.get_by_role("button", name="Menu")).to_be_hidden()
    context.close()
