"""The terminal in Chromium: keyboard-only quick order, a paste with bad lines,
checkout to a placed order, and an approver approving an order above the limit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import CustomerAccount
from portal.catalog.models import Product
from portal.extensions import db

from .conftest import sign_in


@pytest.fixture
def simple_skus(app, catalog) -> list[str]:
    """Active demo products sold by the piece, one at a time."""
    with app.app_context():
        return list(
            db.session.scalars(
                select(Product.sku)
                .where(
                    Product.status == "active",
                    Product.min_order_qty == 1,
                    Product.order_multiple == 1,
                    Product.sku.like("BRG-%"),
                )
                .order_by(Product.sku)
                .limit(10)
            )
        )


def test_quick_order_by_keyboard_only(page, simple_skus, console_errors):
    sign_in(page, "buyer@acme.test")
    page.goto("/order")
    expect(page.get_by_label("SKU, row 1", exact=True)).to_be_focused()
    page.keyboard.type(simple_skus[0].lower())
    page.keyboard.press("Enter")
    expect(page.get_by_label("Quantity, row 1", exact=True)).to_be_focused()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.get_by_label("SKU, row 2", exact=True)).to_be_focused()
    expect(page.locator("#pad-info-0")).to_contain_text("EUR")  # line total at once
    page.keyboard.type(simple_skus[1])
    page.keyboard.press("Enter")
    page.keyboard.type("2")
    expect(page.get_by_label("Quantity, row 2", exact=True)).to_have_value(
        "2"
    )  # nothing lost to a swap
    page.get_by_role("button", name="Check lines").focus()
    page.keyboard.press("Enter")
    rows = page.locator("#review tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.locator(".line-status")).to_have_text(["OK", "OK"])
    page.get_by_role("button", name="Add ticked lines to cart").click()
    expect(page.get_by_text("2 lines added to the cart.")).to_be_visible()
    expect(page.locator("#cart tbody tr")).to_have_count(2)
    assert console_errors == []


def test_paste_of_ten_lines_with_two_bad_ones(page, simple_skus):
    sign_in(page, "buyer@acme.test")
    page.goto("/order")
    lines = [f"{sku}\t{n + 1}" for n, sku in enumerate(simple_skus[:8])]
    lines.insert(3, "NO-SUCH-PART\t2")
    lines.append(f"{simple_skus[0]}\t-1")
    page.get_by_label("Paste lines").fill("SKU\tQty\n" + "\n".join(lines))
    page.get_by_role("button", name="Check pasted lines").click()
    statuses = page.locator("#review tbody .line-status")
    expect(statuses).to_have_count(10)
    expect(page.locator("#review tbody tr", has_text="NO-SUCH-PART")).to_contain_text("Unknown SKU")
    expect(page.locator("#review tbody tr", has_text="must be at least 1")).to_have_count(1)
    page.get_by_role("button", name="Add ticked lines to cart").click()
    expect(page.locator("#cart tbody tr")).to_have_count(8)


def test_checkout_to_a_placed_order_even_with_a_double_click(page, simple_skus):
    sign_in(page, "buyer@acme.test")
    page.goto("/order")
    page.get_by_label("Paste lines").fill(f"{simple_skus[0]} 2")
    page.get_by_role("button", name="Check pasted lines").click()
    page.get_by_role("button", name="Add ticked lines to cart").click()
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Your PO number").fill("PO-BROWSER-1")
    page.get_by_role("button", name="Place order").dblclick()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Order ")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Placed")
    expect(page.locator(".timeline")).to_contain_text("Order placed — Bea Buyer")
    page.go_back()  # the checkout again: the cart is empty now, nothing to resubmit
    expect(page.get_by_text("Your cart is empty.")).to_be_visible()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    expect(page.locator("#results tbody tr")).to_have_count(1)


def test_approver_approves_an_order_above_the_limit(page, app, simple_skus):
    with app.app_context():
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        acme.approval_limit = Decimal("1.00")
        db.session.commit()
    sign_in(page, "buyer@acme.test")
    page.goto("/order")
    page.get_by_label("Paste lines").fill(f"{simple_skus[0]} 1")
    page.get_by_role("button", name="Check pasted lines").click()
    page.get_by_role("button", name="Add ticked lines to cart").click()
    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_text("above your account's approval limit")).to_be_visible()
    page.get_by_label("Your PO number").fill("PO-BIG")
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Awaiting approval")
    order_url = page.url
    page.context.clear_cookies()
    sign_in(page, "approver@acme.test")
    page.goto(order_url)
    page.get_by_label("Comment").fill("Within the project budget")
    page.get_by_role("button", name="Approve order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Placed")
    expect(page.locator(".timeline li").last).to_contain_text(
        "Approved: “Within the project budget” — Arno Approver"
    )


def test_reorder_from_the_order_history(page, simple_skus):
    sign_in(page, "buyer@acme.test")
    page.goto("/order")
    page.get_by_label("Paste lines").fill(f"{simple_skus[2]} 3\n{simple_skus[3]} 1")
    page.get_by_role("button", name="Check pasted lines").click()
    page.get_by_role("button", name="Add ticked lines to cart").click()
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Your PO number").fill("PO-FIRST")
    page.get_by_role("button", name="Place order").click()
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Orders").click()
    page.locator("#results tbody tr").first.get_by_role("link").click()
    page.get_by_role("button", name="Order again").click()
    expect(page.get_by_text("2 lines of order")).to_be_visible()
    expect(page.locator("#cart tbody td.sku")).to_have_text([simple_skus[2], simple_skus[3]])


def fill_cart(page, lines: str) -> None:
    page.goto("/order")
    page.get_by_label("Paste lines").fill(lines)
    page.get_by_role("button", name="Check pasted lines").click()
    page.get_by_role("button", name="Add ticked lines to cart").click()


def test_cart_quantities_change_and_lines_go_in_place(page, simple_skus, console_errors):
    sign_in(page, "buyer@acme.test")
    fill_cart(page, f"{simple_skus[0]} 1\n{simple_skus[1]} 1")
    total = page.locator("#cart tfoot .total")
    before = total.inner_text()
    page.evaluate("window.__samePage = true")
    quantity = page.get_by_label(f"Quantity of {simple_skus[0]}")
    quantity.fill("5")
    quantity.press("Tab")
    expect(total).not_to_have_text(before)
    expect(page.get_by_label(f"Quantity of {simple_skus[0]}")).to_have_value("5")
    quantity = page.get_by_label(f"Quantity of {simple_skus[0]}")
    quantity.fill("0")
    quantity.press("Tab")
    expect(page.locator("#cart [role=alert]")).to_contain_text("minimum order is 1")
    page.get_by_role("button", name=f"Remove {simple_skus[1]}").click()
    expect(page.locator("#cart tbody tr")).to_have_count(1)
    assert page.evaluate("window.__samePage") is True  # all of it without a page load
    assert console_errors == []


def test_sku_suggestions_appear_while_typing(page, simple_skus):
    sign_in(page, "buyer@acme.test")
    page.goto("/order")
    page.get_by_label("SKU, row 1", exact=True).press_sequentially(simple_skus[0][:6], delay=30)
    sku = page.get_by_role("combobox", name="SKU, row 1", exact=True)
    listbox = page.get_by_role("listbox", name="Suggestions for row 1", exact=True)
    options = listbox.get_by_role("option")
    expect(options).not_to_have_count(0)
    expect(sku).to_have_attribute("aria-expanded", "true")
    values = options.evaluate_all("os => os.map(o => o.dataset.value)")
    assert simple_skus[0] in values
    assert all(v.upper().startswith(simple_skus[0][:6].upper()) for v in values)
    expect(options.first).to_contain_text("EUR")
    # Arrows move through the suggestions, Enter takes one and moves on to the quantity.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    second = options.nth(1) if len(values) > 1 else options.first
    expect(second).to_have_attribute("aria-selected", "true")
    expect(sku).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    picked = second.get_attribute("data-value")
    page.keyboard.press("Enter")
    expect(sku).to_have_value(picked)
    expect(listbox).to_be_hidden()
    expect(page.get_by_label("Quantity, row 1", exact=True)).to_be_focused()
    expect(page.locator("#pad-info-0")).to_contain_text("In stock")
    # Escape closes the list without taking anything.
    page.get_by_label("SKU, row 2", exact=True).press_sequentially(simple_skus[0][:6], delay=30)
    expect(page.get_by_role("listbox", name="Suggestions for row 2")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox", name="Suggestions for row 2")).to_be_hidden()
    expect(page.get_by_label("SKU, row 2", exact=True)).to_have_value(simple_skus[0][:6])


def test_order_list_filters_in_place(page, simple_skus):
    sign_in(page, "buyer@acme.test")
    for po in ("PO-ALPHA", "PO-BETA"):
        fill_cart(page, f"{simple_skus[0]} 1")
        page.get_by_role("link", name="Checkout").click()
        page.get_by_label("Your PO number").fill(po)
        page.get_by_role("button", name="Place order").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("Order ")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Orders").click()
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    page.evaluate("window.__samePage = true")
    page.get_by_label("Find").press_sequentially("beta", delay=20)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("PO-BETA")
    page.get_by_label("Status").select_option(label="Cancelled")
    expect(page.get_by_text("No orders match.")).to_be_visible()
    assert page.evaluate("window.__samePage") is True
