"""Commitments in Chromium: a planner commits less than the forecast, is asked for a
reason, gives one; the buyer is told, and sees the commitment and the mismatch."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Product
from portal.extensions import db
from portal.forecasts import drafts, versions
from portal.forecasts.months import add_months

from .conftest import sign_in


def _month(n: int) -> str:
    return f"{add_months(date.today().replace(day=1), n):%Y-%m}"


def test_a_planner_commits_below_forecast_with_a_reason_and_the_buyer_sees_it(
    app, catalog, page, console_errors
):
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        product = db.session.scalar(
            select(Product).where(Product.status == "active").order_by(Product.sku_key).limit(1)
        )
        sku, pid = product.sku, product.id
        drafts.add_product(buyer, sku, date.today())
        drafts.save_cell(buyer, pid, _month(0), "100", date.today())
        drafts.save_cell(buyer, pid, _month(1), "40", date.today())
        versions.publish(buyer, "", date.today())
        account_id = buyer.account_id

    sign_in(page, "planner@vendor.test")
    page.goto("/forecasts/inbox")
    page.get_by_role("link", name="Commitments for Acme Industrial").click()
    expect(page.get_by_role("heading", name="Acme Industrial · commitments")).to_be_visible()
    cell = page.get_by_label(f"{sku}, {date.today():%b %Y}, committed (forecast 100)")
    expect(cell).to_have_value("100")  # pre-filled from the forecast

    # Type less than the forecast: the cell is marked at once; committing without a
    # reason is refused and names the cell.
    cell.fill("70")
    expect(cell.locator("..")).to_have_class("cm-cell cm-not_committed is-below")
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#q-{pid}-{_month(1)}")).to_be_focused()
    page.get_by_role("button", name="Commit quantities").click()
    expect(page.locator(f"#e-{pid}-{_month(0)}")).to_contain_text("choose a reason")
    expect(page.locator(f"#q-{pid}-{_month(0)}")).to_have_value("70")

    page.get_by_label(f"Reason if below forecast, {sku}").select_option(label="Other")
    page.get_by_label(f"Reason in words, {sku}").fill("Furnace relining in that month")
    page.get_by_role("button", name="Commit quantities").click()
    expect(page.locator(".flash-success")).to_contain_text("1 below forecast")
    expect(page.locator("#commit-summary")).to_contain_text("1 below forecast")

    # The buyer: the bell, the notification, the commitments and the mismatch.
    sign_in(page, "buyer@acme.test")
    page.goto("/notifications")
    told = "committed less than your forecast version 1 for 1 product-month"
    expect(page.get_by_role("row").filter(has_text=told)).to_have_count(1)
    page.get_by_role("button", name=re.compile(f"^Open .*{told}")).click()
    commits_url = re.compile(f"/forecasts/accounts/{account_id}/commits$")
    expect(page).to_have_url(commits_url)
    page.goto("/forecasts")
    page.get_by_role("link", name="Commitments and mismatches").click()
    expect(page).to_have_url(commits_url)
    mismatch = page.locator("#mismatches tbody tr")
    expect(mismatch).to_have_count(1)
    expect(mismatch).to_contain_text("30 below")
    expect(mismatch).to_contain_text("Other: Furnace relining in that month")
    expect(page.locator("table.commit-grid tbody td.cm-below")).to_contain_text("70")
    expect(page.locator("table.commit-grid input")).to_have_count(0)
    # The refused commit came with 422 (Unprocessable), which Chromium logs.
    assert [e for e in console_errors if "status of 422" not in e] == []


def test_a_planner_moves_by_keyboard_into_rows_loaded_later_and_commits_them(
    app, catalog, page, console_errors
):
    """The commit grid sends its first rows; arrow-down loads the next batch into the
    same form, and "Commit quantities" commits the rows loaded, typed ones included."""
    from portal.forecasts import commits, uploads

    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        products = db.session.scalars(
            select(Product).where(Product.status == "active").order_by(Product.sku_key).limit(100)
        ).all()
        ids = [p.id for p in products]
        rows = "".join(f"{p.sku},,10\n" for p in products)
        uploads.upload(buyer, f"SKU,Product,{_month(0)}\n{rows}".encode(), date.today())
        versions.publish(buyer, "", date.today())
        account_id = buyer.account_id
    far = commits.BATCH + 5

    sign_in(page, "planner@vendor.test")
    page.goto(f"/forecasts/accounts/{account_id}/commits")
    expect(page.locator("table.commit-grid tbody th[scope=row]")).to_have_count(commits.BATCH)
    page.locator(f"#q-{ids[0]}-{_month(0)}").click()
    for n in range(1, far + 1):
        page.keyboard.press("ArrowDown")
        expect(page.locator(f"#q-{ids[n]}-{_month(0)}")).to_be_focused()
    page.keyboard.type("12")
    page.get_by_role("button", name="Commit quantities").click()
    expect(page.locator(".flash-success")).to_contain_text("saved against version 1")
    with app.app_context():
        board = commits.board(
            db.session.scalar(select(User).where(User.email == "planner@vendor.test")),
            account_id,
            limit=1000,
        )
        committed = {row.product.id: row.cells[0].commit for row in board.rows}
    assert committed[ids[far]].quantity == 12
    assert committed[ids[0]].quantity == 10  # loaded, untouched: committed at forecast
    assert committed[ids[-1]] is None  # never loaded: not committed
    assert console_errors == []
