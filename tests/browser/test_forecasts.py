"""The forecast grid in Chromium: a buyer adds products, types quantities moving by
keyboard and sees the totals follow; then uploads a file with mistakes and sees
each row's reason, and a clean file that fills the grid."""

from __future__ import annotations

from datetime import date

from playwright.sync_api import expect
from sqlalchemy import select

from portal.accounts.models import User
from portal.catalog.models import Product
from portal.extensions import db
from portal.forecasts.months import add_months

from .conftest import go_to, sign_in


def _month(n: int) -> str:
    return f"{add_months(date.today().replace(day=1), n):%Y-%m}"


def test_a_buyer_types_a_forecast_by_keyboard_and_uploads_one(app, catalog, page, console_errors):
    with app.app_context():
        first, second = db.session.scalars(
            select(Product).where(Product.status == "active").order_by(Product.sku_key).limit(2)
        ).all()
        first_sku, second_sku, first_id, second_id = first.sku, second.sku, first.id, second.id
    sign_in(page, "buyer@acme.test")
    go_to(page, "Forecasts", group="Planning")
    expect(page.get_by_role("heading", name="Our forecast")).to_be_visible()

    # Add a product from the suggestions, by keyboard; then one by its whole SKU.
    sku_field = page.get_by_label("Add a product by SKU")
    sku_field.press_sequentially(first_sku[:5])
    expect(page.locator("#sku-options [role=option]").first).to_be_visible()
    option = page.locator("#sku-options [role=option]", has_text=first_sku)
    while option.get_attribute("aria-selected") != "true":
        sku_field.press("ArrowDown")
    sku_field.press("Enter")
    expect(page.locator("#forecast-grid tbody tr")).to_have_count(1)
    page.get_by_label("Add a product by SKU").fill(second_sku)
    page.get_by_label("Add a product by SKU").press("Enter")
    expect(page.locator("#forecast-grid tbody tr")).to_have_count(2)

    # Type, move right, type, move down: each cell saves as it is left.
    page.locator(f"#q-{first_id}-{_month(0)}").click()
    page.keyboard.type("10")
    page.keyboard.press("ArrowRight")
    expect(page.locator(f"#q-{first_id}-{_month(1)}")).to_be_focused()
    page.keyboard.type("5")
    page.keyboard.press("ArrowDown")
    expect(page.locator(f"#q-{second_id}-{_month(1)}")).to_be_focused()
    page.keyboard.type("7")
    page.keyboard.press("ArrowLeft")
    expect(page.locator(f"#q-{second_id}-{_month(0)}")).to_be_focused()
    page.keyboard.type("lots")
    page.keyboard.press("ArrowUp")  # the caret is inside "lots": Up still moves
    expect(page.locator(f"#q-{first_id}-{_month(0)}")).to_be_focused()
    expect(page.locator(f"#row-total-{first_id}")).to_have_text("15")
    expect(page.locator(f"#row-total-{second_id}")).to_have_text("7")
    expect(page.locator(f"#month-total-{_month(1)}")).to_have_text("12")
    expect(page.locator("#grand-total")).to_have_text("22")
    bad = page.locator(f"#q-{second_id}-{_month(0)}")
    expect(bad).to_have_value("lots")
    expect(bad).to_have_attribute("aria-invalid", "true")
    expect(page.locator("td.has-error .cell-error")).to_contain_text("whole number")
    expect(page.locator(f"#q-{first_id}-{_month(1)}").locator("..")).to_have_class(
        "fc-cell is-saved"
    )
    # Enter moves down a column, like a spreadsheet.
    page.keyboard.press("Enter")
    expect(bad).to_be_focused()

    # A file with mistakes: every row's reason, nothing applied.
    broken = (
        f"SKU,Month,Quantity\n{first_sku},{_month(0)},-4\nNOPE-1,{_month(0)},3\n"
        f"{second_sku},{_month(30)},1\n"
    ).encode()
    page.get_by_label("Forecast file").set_input_files(
        {"name": "forecast.csv", "mimeType": "text/csv", "buffer": broken}
    )
    page.get_by_role("button", name="Upload into the draft").click()
    reasons = page.locator(".upload-errors li")
    expect(reasons).to_have_count(3)
    expect(reasons.nth(0)).to_contain_text("Row 2:")
    expect(reasons.nth(0)).to_contain_text("not a whole number")
    expect(reasons.nth(1)).to_contain_text("Row 3: There is no product with SKU")
    expect(reasons.nth(2)).to_contain_text("Row 4:")
    expect(reasons.nth(2)).to_contain_text("outside the horizon")
    expect(page.locator("#grand-total")).to_have_text("22")

    clean = f"SKU;Product;{_month(0)};{_month(1)}\n{first_sku};;100;200\n".encode()
    page.get_by_label("Forecast file").set_input_files(
        {"name": "forecast.csv", "mimeType": "text/csv", "buffer": clean}
    )
    page.get_by_role("button", name="Upload into the draft").click()
    expect(page.locator(".flash-success")).to_contain_text("2 cells of 1 products")
    expect(page.locator(f"#row-total-{first_id}")).to_have_text("300")
    expect(page.locator("#grand-total")).to_have_text("307")

    # Copy the first month of a row across the horizon (12 months by default), through htmx.
    page.get_by_role("button", name=f"of {first_sku} to every month").click()
    expect(page.locator(f"#row-total-{first_id}")).to_have_text("1,200")
    expect(page.locator(f"#q-{first_id}-{_month(11)}")).to_have_value("100")
    expect(page.locator("#grand-total")).to_have_text("1,207")

    page.get_by_label("Comment for the vendor").fill("Ramp-up in spring")
    page.get_by_role("button", name="Publish version").click()
    expect(page.locator("h1")).to_contain_text("forecast version 1")
    # The refused upload's page came with 422 (Unprocessable), which Chromium logs.
    assert [e for e in console_errors if "status of 422" not in e] == []


def test_keys_move_past_the_first_screen_into_rows_loaded_on_the_way(
    app, catalog, page, console_errors
):
    """120 products: the page sends the first rows; arrow-down from the first row
    reaches rows that were not on the first screen (each batch loaded as the keys get
    there), and a cell typed there is saved and counted in the totals of the grid."""
    from portal.forecasts import drafts, uploads

    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        products = db.session.scalars(
            select(Product).where(Product.status == "active").order_by(Product.sku_key).limit(120)
        ).all()
        ids, all_skus = [p.id for p in products], [p.sku for p in products]
        rows = "".join(f"{p.sku},,1\n" for p in products)
        uploads.upload(buyer, f"SKU,Product,{_month(0)}\n{rows}".encode(), date.today())
    far = drafts.BATCH + 10  # the 41st row: beyond the first screen and its batch's end
    assert far < 120

    sign_in(page, "buyer@acme.test")
    page.goto("/forecasts")
    expect(page.locator("#forecast-grid tbody input[data-cell]")).to_have_count(drafts.BATCH * 12)
    expect(page.locator(f"#q-{ids[far]}-{_month(0)}")).to_have_count(0)
    expect(page.locator("#grand-total")).to_have_text("120")
    page.locator(f"#q-{ids[0]}-{_month(0)}").click()
    for n in range(1, far + 1):
        page.keyboard.press("ArrowDown")
        expect(page.locator(f"#q-{ids[n]}-{_month(0)}")).to_be_focused()
    page.keyboard.type("25")
    page.keyboard.press("ArrowRight")  # leaving the cell saves it
    expect(page.locator(f"#q-{ids[far]}-{_month(1)}")).to_be_focused()
    expect(page.locator(f"#q-{ids[far]}-{_month(0)}").locator("..")).to_have_class(
        "fc-cell is-saved"
    )
    expect(page.locator(f"#row-total-{ids[far]}")).to_have_text("25")
    expect(page.locator(f"#month-total-{_month(0)}")).to_have_text("144")
    expect(page.locator("#grand-total")).to_have_text("144")
    # Every row came once, in SKU order.
    skus = page.locator("#forecast-grid tbody th[scope=row] .sku").all_inner_texts()
    assert skus[: far + 1] == all_skus[: far + 1]
    assert len(skus) == len(set(skus))
    page.reload()
    expect(page.locator("#grand-total")).to_have_text("144")
    assert console_errors == []
