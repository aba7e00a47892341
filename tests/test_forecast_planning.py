"""The planners' pages on a small hand-built data set: demand across accounts, the
waterfall, accuracy fed from real versions and orders, who may see what, and query
counts that do not grow with the rows shown.

The data set, relative to this month T (every figure below is worked out by hand):

    products  P1 lead 0 days, 100 available; P2 lead 60 days, none; P3 lead 5, 30
    Acme      v1 published T-4 (day 5): P1 100, P2 50 for T-4 … T+1
              v2 published T-1 (day 10): P1 120, P2 40 for T-1 … T+4
              a draft (never counted): P1 999 for T+1
    Globex    v1 published T-2 (day 3): P1 80, P3 20 for T-2 … T+3
    Initech   v1 published T-1 (day 2): P3 5 for T … T+2   (managed by manager2)
    orders    Acme T-2: P1 90; Acme T-1: P1 110 + 7 (cancelled later by the desk: counts),
              P3 10, a customer-cancelled P1 500 line and a rejected order of P1 1,000
              (neither counts); Globex T-1: P1 70
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from portal.accounts.models import User
from portal.catalog.models import Category, Product, Stock
from portal.errors import Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.forecasts import planning
from portal.forecasts.models import ForecastCell, ForecastVersion
from portal.forecasts.months import add_months, first_of_month, month_label
from portal.ordering.models import Order, OrderLine

from .support import soup

TODAY = utcnow().date()
T = first_of_month(TODAY)


def m(n: int):
    return add_months(T, n)


def at(month_offset: int, day: int) -> datetime:
    month = m(month_offset)
    return datetime(month.year, month.month, day, 12, tzinfo=UTC)


def person(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def a_version(account_id, number, published, first, months, quantities, author=None):
    """A version (published unless number is 0) with the same quantity each month."""
    version = ForecastVersion(
        account_id=account_id,
        number=number,
        first_month=m(first),
        horizon_months=months,
        published_at=published,
        created_by_id=author,
    )
    db.session.add(version)
    db.session.flush()
    db.session.add_all(
        ForecastCell(
            version_id=version.id,
            product_id=product.id,
            month=m(first + n),
            account_id=account_id,
            quantity=quantity,
        )
        for product, quantity in quantities.items()
        for n in range(months)
    )
    return version


_orders = 0


def an_order(account_id, placed, lines, *, buyer, status="delivered"):
    """An order placed at `placed` with lines (product, quantity, line status, cancelled)."""
    global _orders
    _orders += 1
    order = Order(
        number=f"TP-{_orders:05d}-{account_id}",
        account_id=account_id,
        placed_by_id=buyer,
        status=status,
        po_number="PO",
        ship_to_text="Road 1",
        total=Decimal("0"),
        currency="EUR",
        idempotency_key=f"tp-{_orders}-{account_id}",
        placed_at=placed,
    )
    for n, (product, quantity, line_status, cancelled) in enumerate(lines, 1):
        order.lines.append(
            OrderLine(
                line_no=n,
                product_id=product.id,
                sku=product.sku,
                name=product.name,
                unit="pc",
                quantity=quantity,
                unit_price=Decimal("1"),
                line_total=Decimal(quantity),
                estimated_ship_date=placed.date(),
                status=line_status,
                cancelled_quantity=cancelled,
            )
        )
    db.session.add(order)


@pytest.fixture
def plan(app, ids):
    """The data set of the module docstring; ids of products, accounts and versions."""
    with app.app_context():
        category = Category(name="Planning test")
        db.session.add(category)
        db.session.flush()
        products = {}
        for name, lead, available in (("P1", 0, 100), ("P2", 60, 0), ("P3", 5, 30)):
            product = Product(
                sku=f"PLT-{name}",
                sku_key=f"PLT-{name}",
                name=f"Planning part {name}",
                category_id=category.id,
                list_price=Decimal("1"),
                lead_time_days=lead,
            )
            db.session.add(product)
            db.session.flush()
            db.session.add(Stock(product_id=product.id, on_hand=available + 5, reserved=5))
            products[name] = product
        p1, p2, p3 = products["P1"], products["P2"], products["P3"]
        acme, globex, initech = ids["acme"], ids["globex"], ids["initech"]
        buyer = ids["acme_buyer"]
        v1 = a_version(acme, 1, at(-4, 5), -4, 6, {p1: 100, p2: 50})
        v2 = a_version(acme, 2, at(-1, 10), -1, 6, {p1: 120, p2: 40})
        a_version(acme, 0, None, 1, 1, {p1: 999})
        g1 = a_version(globex, 1, at(-2, 3), -2, 6, {p1: 80, p3: 20})
        a_version(initech, 1, at(-1, 2), 0, 3, {p3: 5})
        an_order(acme, at(-2, 8), [(p1, 90, "confirmed", 0)], buyer=buyer)
        an_order(
            acme,
            at(-1, 4),
            [(p1, 110, "confirmed", 0), (p1, 7, "cancelled", 7), (p3, 10, "confirmed", 0)],
            buyer=buyer,
        )
        an_order(acme, at(-1, 6), [(p1, 500, "cancelled", 0)], buyer=buyer, status="cancelled")
        an_order(acme, at(-1, 7), [(p1, 1000, "open", 0)], buyer=buyer, status="rejected")
        an_order(globex, at(-1, 20), [(p1, 70, "confirmed", 0)], buyer=buyer)
        db.session.commit()
        return {
            **ids,
            "P1": p1.id,
            "P2": p2.id,
            "P3": p3.id,
            "acme_v1": v1.id,
            "acme_v2": v2.id,
            "globex_v1": g1.id,
        }


# --- demand across accounts ---------------------------------------------------------------------


def test_demand_sums_each_accounts_latest_published_version(app, plan):
    with app.app_context():
        page = planning.demand(person("planner@vendor.test"), m(1), TODAY)
        rows = {row.product.sku: row for row in page.rows}
        assert [row.product.sku for row in page.rows] == ["PLT-P1", "PLT-P2", "PLT-P3"]
        # Acme's v2 (not v1, not the draft's 999) and Globex's v1; Initech's 5 of P3.
        assert (rows["PLT-P1"].demand, rows["PLT-P1"].accounts) == (200, 2)
        assert (rows["PLT-P2"].demand, rows["PLT-P2"].accounts) == (40, 1)
        assert (rows["PLT-P3"].demand, rows["PLT-P3"].accounts) == (25, 2)
        assert page.total_rows == 3 and page.total_demand == 265
        assert [rows[s].available for s in ("PLT-P1", "PLT-P2", "PLT-P3")] == [100, 0, 30]
        # P1: 100 in stock, the rest arrives in time (no lead time); P2: nothing in stock
        # and 60 days is too late for next month; P3: stock covers it.
        assert [rows[s].cover for s in ("PLT-P1", "PLT-P2", "PLT-P3")] == [
            "lead time",
            "short",
            "stock",
        ]
        assert rows["PLT-P2"].shortfall == 40
        # The sparkline: P1 over this month and the next 11.
        assert rows["PLT-P1"].trend == [200, 200, 200, 200, 120] + [0] * 7


def test_demand_filters_sorts_and_pages(app, plan):
    with app.app_context():
        planner = person("planner@vendor.test")
        short = planning.demand(planner, m(1), TODAY, only_short=True)
        assert [row.product.sku for row in short.rows] == ["PLT-P2"]
        found = planning.demand(planner, m(1), TODAY, search="plt-p3")
        assert [row.product.sku for row in found.rows] == ["PLT-P3"]
        by_sku = planning.demand(planner, m(1), TODAY, sort="sku", descending=False)
        assert [row.product.sku for row in by_sku.rows] == ["PLT-P1", "PLT-P2", "PLT-P3"]
        by_stock = planning.demand(planner, m(1), TODAY, sort="stock", descending=False)
        assert [row.product.sku for row in by_stock.rows] == ["PLT-P2", "PLT-P3", "PLT-P1"]
        second = planning.demand(planner, m(1), TODAY, page=2, page_size=2)
        assert (second.pages, [row.product.sku for row in second.rows]) == (2, ["PLT-P3"])
        assert (second.total_rows, second.total_demand) == (3, 265)
        stale = planning.demand(planner, m(1), TODAY, page=9, page_size=2)
        assert (stale.page, len(stale.rows)) == (1, 2)
        # Months with nothing forecast: an empty page, not an error.
        assert planning.demand(planner, m(10), TODAY).rows == []


def test_account_managers_see_demand_of_their_accounts_only(app, plan):
    with app.app_context():
        page = planning.demand(person("manager2@vendor.test"), m(1), TODAY)
        assert [(row.product.sku, row.demand) for row in page.rows] == [("PLT-P3", 5)]
        with pytest.raises(Forbidden):
            planning.demand(person("buyer@acme.test"), m(1), TODAY)


# --- the waterfall ------------------------------------------------------------------------------


def test_waterfall_of_one_account_row_per_version(app, plan):
    with app.app_context():
        result = planning.waterfall(person("planner@vendor.test"), plan["P1"], plan["acme"], TODAY)
        assert result.months[0] == m(-6) and result.months[-1] == m(11)
        now = result.months.index(T)
        assert [row.label for row in result.rows] == ["Version 1", "Version 2"]
        v1, v2 = ([c.quantity for c in row.cells] for row in result.rows)
        assert v1[now - 4 : now + 2] == [100] * 6 and v1[now - 5] is None and v1[now + 2] is None
        assert v2[now - 1 : now + 5] == [120] * 6 and v2[now - 2] is None
        changes = [c.change for c in result.rows[1].cells]
        assert changes[now - 1 : now + 2] == ["up"] * 3  # 100 → 120
        assert changes[now + 2 :] == [None] * (len(changes) - now - 2)  # nothing before
        # Ordered: 90 in T-2; 110 + 7 in T-1 (not the 500 taken back, nor the rejected 1,000).
        assert result.ordered[:now] == [0, 0, 0, 0, 90, 117]
        assert result.ordered[now:] == [None] * (len(result.months) - now)


def test_waterfall_of_all_accounts_sums_the_state_at_each_month_end(app, plan):
    with app.app_context():
        result = planning.waterfall(person("planner@vendor.test"), plan["P1"], None, TODAY)
        now = result.months.index(T)
        assert [row.label for row in result.rows] == [
            f"End of {m(-4):%b %Y}",
            f"End of {m(-2):%b %Y}",
            f"End of {m(-1):%b %Y}",
        ]
        window = [[c.quantity for c in row.cells][now - 4 : now + 5] for row in result.rows]
        assert window == [
            [100, 100, 100, 100, 100, 100, None, None, None],
            [100, 100, 180, 180, 180, 180, 80, 80, None],
            [None, None, 80, 200, 200, 200, 200, 200, 120],
        ]
        assert result.rows[2].cells[now - 2].change == "down"  # Acme's v2 starts at T-1
        assert result.ordered[now - 2 : now] == [90, 187]


def test_waterfall_refuses_what_the_viewer_may_not_read(app, plan):
    with app.app_context():
        manager2 = person("manager2@vendor.test")
        with pytest.raises(NotFound):
            planning.waterfall(manager2, plan["P1"], plan["acme"], TODAY)
        # All of manager2's accounts: Acme's and Globex's versions are not summed in.
        assert planning.waterfall(manager2, plan["P1"], None, TODAY).rows == []
        with pytest.raises(NotFound):
            planning.waterfall(person("planner@vendor.test"), 10**8, None, TODAY)


# --- accuracy -----------------------------------------------------------------------------------


def test_ordered_lines_follow_the_rule(app, plan):
    with app.app_context():
        lines = planning.ordered_lines([plan["acme"]], m(-12), T)
        got = {(line.product_id, line.month): line.quantity for line in lines}
        assert got == {(plan["P1"], m(-2)): 90, (plan["P1"], m(-1)): 117, (plan["P3"], m(-1)): 10}


def test_accuracy_of_an_account_from_its_versions_and_orders(app, plan):
    """Acme, one month ahead: T-3, T-2 and T-1 are each read from v1 (v2 came out after
    T-1 began): forecasts P1 100 and P2 50 per month, P3 0;
    ordered T-3 nothing, T-2 P1 90, T-1 P1 117 and P3 10.
    Σforecast 450, Σordered 217, Σ|error| 100+50 + 10+50 + 17+50+10 = 287.
    Three months ahead only T-1 has a version before T-3 began (v1): 150 against 127,
    errors 17 + 50 + 10 = 77."""
    with app.app_context():
        report = planning.account_accuracy(person("planner@vendor.test"), plan["acme"], TODAY)
        assert report.months[0] == m(-12) and report.months[-1] == m(-1)
        one, three = report.figures.total[1], report.figures.total[3]
        assert (one.forecast, one.actual, one.absolute_error) == (450, 217, 287)
        assert one.wape == pytest.approx(287 / 217) and one.bias == pytest.approx(233 / 217)
        assert (three.forecast, three.actual, three.absolute_error) == (150, 127, 77)
        assert three.wape == pytest.approx(77 / 127) and three.bias == pytest.approx(23 / 127)
        p1 = report.figures.by_product[(plan["P1"], 1)]
        assert (p1.forecast, p1.actual, p1.absolute_error) == (300, 207, 127)
        month = report.figures.by_month[(m(-1), 1)]
        assert (month.forecast, month.actual) == (150, 127)
        assert (m(-4), 1) not in report.figures.by_month  # nothing published before T-4
        # The largest error first: P2 (50 a month never ordered), P1, P3.
        assert report.product_ids() == [plan["P2"], plan["P1"], plan["P3"]]


def test_a_customer_reads_only_its_own_accuracy(app, plan):
    with app.app_context():
        buyer = person("buyer@acme.test")
        assert planning.account_accuracy(buyer, None, TODAY).account.id == plan["acme"]
        with pytest.raises(NotFound):
            planning.account_accuracy(buyer, plan["globex"], TODAY)
        with pytest.raises(NotFound):
            planning.account_accuracy(person("manager2@vendor.test"), plan["acme"], TODAY)


# --- the pages ----------------------------------------------------------------------------------


def test_demand_page_shows_the_rows_and_links_the_waterfall(login_as, plan):
    response = login_as("planner@vendor.test").get(
        f"/forecasts/planning/demand?month={month_label(m(1))}"
    )
    assert response.status_code == 200
    page = soup(response)
    rows = page.select("table.demand tbody tr")
    assert [r.select_one("td").get_text(strip=True) for r in rows] == ["PLT-P1", "PLT-P2", "PLT-P3"]
    first = [td.get_text(strip=True) for td in rows[0].select("td")]
    assert first[2:7] == ["200", "2", "100", "0 days", "Lead time"]
    assert rows[1].select_one(".cover-short").get_text(strip=True) == "Short 40"
    assert rows[0].select_one("svg.sparkline path")["d"].startswith("M")
    link = rows[0].select_one("a")["href"]
    assert link == f"/forecasts/planning/products/{plan['P1']}/waterfall"


def test_waterfall_page_colours_changes_and_shows_orders(login_as, plan):
    planner = login_as("planner@vendor.test")
    response = planner.get(
        f"/forecasts/planning/products/{plan['P1']}/waterfall?account={plan['acme']}"
    )
    assert response.status_code == 200
    page = soup(response)
    assert len(page.select("table.waterfall tbody tr")) == 2
    assert len(page.select("table.waterfall tbody td.fc-up")) == 3
    ordered = [td.get_text(strip=True) for td in page.select("tr.fc-ordered td")]
    assert ordered[4:6] == ["90", "117"]


def test_accuracy_pages(login_as, plan):
    planner = login_as("planner@vendor.test")
    page = soup(planner.get(f"/forecasts/planning/accuracy?account={plan['acme']}"))
    kpis = [dd.get_text(strip=True) for dd in page.select(".kpis dt + dd")]
    assert kpis == ["132.3%", "+107.4%", "60.6%", "+18.1%"]
    assert page.select("svg.forecast-chart path.series")
    chooser = soup(planner.get("/forecasts/planning/accuracy"))
    assert f"account={plan['acme']}" in " ".join(a["href"] for a in chooser.select("#accuracy a"))
    own = soup(login_as("buyer@acme.test").get("/forecasts/accuracy"))
    assert "Acme" in own.select_one("h1").get_text()
    assert [dd.get_text(strip=True) for dd in own.select(".kpis dt + dd")] == kpis
    # A customer's page never links the vendor's waterfall.
    assert not own.select("a[href*='/planning/']")


def test_customers_are_kept_out_of_the_vendor_pages(login_as, plan):
    buyer = login_as("buyer@acme.test")
    assert buyer.get("/forecasts/planning/demand").status_code == 403
    assert buyer.get(f"/forecasts/planning/products/{plan['P1']}/waterfall").status_code == 403
    assert buyer.get(f"/forecasts/planning/accuracy?account={plan['acme']}").status_code == 403
    globex = soup(login_as("buyer@globex.test").get("/forecasts/accuracy"))
    assert "Globex" in globex.select_one("h1").get_text()
    manager2 = login_as("manager2@vendor.test")
    assert manager2.get(f"/forecasts/planning/accuracy?account={plan['acme']}").status_code == 404
    url = f"/forecasts/planning/products/{plan['P1']}/waterfall?account={plan['acme']}"
    assert manager2.get(url).status_code == 404


def test_links_lead_to_the_planning_pages(login_as, plan):
    planner = login_as("planner@vendor.test")
    inbox = soup(planner.get("/forecasts/inbox"))
    assert inbox.select_one("a[href='/forecasts/planning/demand']")
    versions = soup(planner.get(f"/forecasts/accounts/{plan['acme']}/versions"))
    assert versions.select_one(f"a[href='/forecasts/planning/accuracy?account={plan['acme']}']")
    draft = soup(login_as("buyer@acme.test").get("/forecasts"))
    assert draft.select_one("a[href='/forecasts/accuracy']")


def _statements(app, client, url) -> int:
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(statements)


def test_query_counts_do_not_grow_with_the_rows_shown(app, login_as, plan):
    planner = login_as("planner@vendor.test")
    month = month_label(m(1))
    one = _statements(app, planner, f"/forecasts/planning/demand?month={month}&q=PLT-P3")
    three = _statements(app, planner, f"/forecasts/planning/demand?month={month}")
    assert one == three
    waterfall = f"/forecasts/planning/products/{plan['P1']}/waterfall"
    assert (
        _statements(app, planner, waterfall)
        == _statements(app, planner, f"{waterfall}?account={plan['globex']}") - 1
    )  # the chosen account is read once more, to scope it
    acme = _statements(app, planner, f"/forecasts/planning/accuracy?account={plan['acme']}")
    globex = _statements(app, planner, f"/forecasts/planning/accuracy?account={plan['globex']}")
    assert acme == globex


def test_sparklines_scale_to_the_box_and_pass_over_months_without_a_figure():
    from portal.forecasts.charts import sparkline

    assert sparkline([0, 10], 100, 22) == "M2.0,20.0 L98.0,2.0"
    assert sparkline([1, None, 1], 100, 22) == "M2.0,2.0 M98.0,2.0"
    assert sparkline([1, None, 1], 100, 22, bridge=True) == "M2.0,2.0 L98.0,2.0"
    assert sparkline([None, None]) == ""


def test_demand_filters_answer_htmx_with_the_results_alone(login_as, plan):
    planner = login_as("planner@vendor.test")
    response = planner.get(
        f"/forecasts/planning/demand?month={month_label(m(1))}&short=1",
        headers={"HX-Request": "true"},
    )
    assert "HX-Request" in response.headers["Vary"]
    page = soup(response)
    assert page.select_one("div#results") and not page.select_one("h1")
    assert [r.select_one("td").get_text(strip=True) for r in page.select("tbody tr")] == ["PLT-P2"]


def test_accuracy_answers_htmx_with_its_block_alone(login_as, plan):
    response = login_as("buyer@acme.test").get(
        "/forecasts/accuracy", headers={"HX-Request": "true"}
    )
    page = soup(response)
    assert page.select_one("div#accuracy .kpis") and not page.select_one("h1")
