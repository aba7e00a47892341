"""The planner's demand page in Chromium: typing in Find narrows the table through
htmx (the address follows, so the view can be shared); the month choice swaps it too."""

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


def test_the_demand_page_filters_as_the_planner_types(app, catalog, page, console_errors):
    today = date.today()
    next_month = add_months(today.replace(day=1), 1)
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        products = db.session.scalars(
            select(Product).where(Product.status == "active").order_by(Product.sku_key).limit(2)
        ).all()
        skus = [p.sku for p in products]
        for product, quantity in zip(products, ("30", "50"), strict=True):
            drafts.add_product(buyer, product.sku, today)
            drafts.save_cell(buyer, product.id, f"{next_month:%Y-%m}", quantity, today)
        versions.publish(buyer, "", today)

    sign_in(page, "planner@vendor.test")
    page.goto(f"/forecasts/planning/demand?month={next_month:%Y-%m}")
    rows = page.locator("#results tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Find").press_sequentially(skus[1], delay=20)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(skus[1])
    page.wait_for_url(re.compile(r"q="))  # hx-push-url: the filtered view has an address
    page.get_by_label("Find").fill("")
    expect(rows).to_have_count(2)
    page.get_by_label("Month", exact=True).select_option(f"{today.replace(day=1):%Y-%m}")
    expect(page.locator("#results")).not_to_contain_text(skus[0])  # nothing forecast this month
    assert console_errors == []
