"""Cost of ownership: the calculation worked by hand, the account's prices from the
catalog, the customer admin's settings (with bad input), the product page, the
quick order's product details and the comparison of two products."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal.accounts.models import CustomerAccount
from portal.catalog.models import Category, ContractPrice, Product, Stock
from portal.equipment import ownership
from portal.equipment.models import (
    ConsumableUsage,
    EquipmentSpec,
    MaintenanceKitLine,
    OwnershipSettings,
)
from portal.equipment.ownership import Observed, Plan, PricedPart
from portal.extensions import db

from .support import soup

D = Decimal
TODAY = date.today()


def part(sku: str, quantity: str, price: str | None, contract: bool = True) -> PricedPart:
    return PricedPart(
        sku, f"Part {sku}", D(quantity), None if price is None else D(price), contract
    )


WORKED = Plan(
    unit_price=D("1000.00"),
    warranty_months=24,
    interval_months=6,
    labour_hours=D("2"),
    labour_rate=D("50.00"),
    kit=(part("KIT-1", "1", "200.00"),),
    consumables=(part("CON-1", "3", "10.00"),),
)


# --- by hand --------------------------------------------------------------------------------


def test_the_worked_example():
    # A visit: kit 200 + 2 h × 50 = 300; every 6 months: 2 visits, 600 a year.
    # Consumables: 3 × 10 = 30 a year. 630 a year; 1000 + 5 × 630 = 4150.
    o = ownership.cost_of_ownership(WORKED, 5)
    assert o.visits_per_year == 2
    assert (o.kit_per_visit, o.labour_per_visit) == (D("200.00"), D("100.00"))
    assert (o.maintenance_per_year, o.maintenance_over_period) == (D("600.00"), D("3000.00"))
    assert (o.consumables_per_year, o.consumables_over_period) == (D("30.00"), D("150.00"))
    assert (o.per_year, o.total) == (D("630.00"), D("4150.00"))
    assert o.complete and o.missing == ()
    assert ownership.cost_of_ownership(WORKED, 1).total == D("1630.00")


def test_an_interval_that_does_not_divide_the_year_counts_its_average_visits():
    # Every 5 months: 2.4 visits a year; a visit of 50 (kit 50, no labour): 120 a year;
    # over 3 years 36 / 5 = 7.2 visits: 360.
    plan = Plan(unit_price=D("100"), interval_months=5, kit=(part("K", "2", "25.00"),))
    o = ownership.cost_of_ownership(plan, 3)
    assert o.visits_per_year == D("2.4")
    assert (o.maintenance_per_year, o.maintenance_over_period) == (D("120.00"), D("360.00"))
    assert o.total == D("460.00")


def test_a_product_with_no_plan_costs_its_price():
    o = ownership.cost_of_ownership(Plan(unit_price=D("75.50")), 5)
    assert (o.per_year, o.total) == (D("0"), D("75.50"))
    assert not o.has_running_costs


def test_without_a_plan_the_vendors_stated_yearly_figures_count():
    plan = Plan(unit_price=D("500"), stated_service=D("40"), stated_consumables=D("10.50"))
    o = ownership.cost_of_ownership(plan, 4)
    assert (o.per_year, o.total) == (D("50.50"), D("702.00"))
    # A plan replaces them.
    o = ownership.cost_of_ownership(
        Plan(unit_price=D("500"), interval_months=12, stated_service=D("40")), 4
    )
    assert (o.per_year, o.total) == (D("0.00"), D("500"))


def test_the_vendors_figures_in_another_currency_are_never_added_to_the_accounts_prices():
    # An account priced in IDR; the labour rate (50 an hour) and stated figures are in
    # EUR. Kit and consumables are at the account's prices and stay summed; the
    # maintenance (kit + labour) and the totals would mix currencies, so none is given.
    from dataclasses import replace

    o = ownership.cost_of_ownership(replace(WORKED, vendor_currency="EUR"), 5)
    assert o.labour_per_visit == D("100.00")  # shown in EUR beside the rate
    assert (o.maintenance_per_year, o.maintenance_over_period) == (None, None)
    assert (o.consumables_per_year, o.consumables_over_period) == (D("30.00"), D("150.00"))
    assert (o.per_year, o.total) == (None, None)
    stated = Plan(unit_price=D("500"), stated_service=D("40"), vendor_currency="EUR")
    assert ownership.cost_of_ownership(stated, 4).total is None
    # Nothing of the vendor's own in it: the account's prices alone add up.
    parts_only = Plan(
        unit_price=D("1000"), consumables=(part("CON-1", "3", "10.00"),), vendor_currency="EUR"
    )
    assert ownership.cost_of_ownership(parts_only, 5).total == D("1150.00")


def test_a_part_without_a_price_is_named_and_never_counted_as_zero():
    plan = Plan(
        unit_price=D("1000"),
        interval_months=6,
        kit=(part("KIT-1", "1", "200.00"), part("SEAL-9", "2", None)),
        consumables=(part("CON-1", "3", "10.00"),),
    )
    o = ownership.cost_of_ownership(plan, 5)
    assert o.missing == ("SEAL-9",)
    assert not o.complete
    assert (o.kit_per_visit, o.maintenance_per_year, o.per_year, o.total) == (None,) * 4
    assert o.consumables_per_year == D("30.00")  # what is known stays known


def test_list_priced_parts_are_told_apart():
    plan = Plan(unit_price=D("1"), consumables=(part("A", "1", "2"), part("B", "1", "3", False)))
    assert ownership.cost_of_ownership(plan, 1).list_priced == ("B",)


@pytest.mark.parametrize("years", [0, 16, -1])
def test_the_period_is_one_to_fifteen_years(years):
    with pytest.raises(ValueError):
        ownership.cost_of_ownership(WORKED, years)


def test_expected_cost_of_delays_and_defects():
    # 10 lines, 6 days late in all: 0.6 days a line × 100 = 60 per order.
    # 2 defective of 1000 delivered × 500 per defect = 1.00 per unit; 3 units: 3.00.
    seen = Observed(lines=10, on_time=8, late_days=6, delivered=1000, affected=2)
    assert seen.on_time_share == 0.8 and seen.ppm == 2000
    risk = ownership.expected_costs(seen, delay_day_cost=D("100"), defect_cost=D("500"))
    assert (risk.delay, risk.defects, risk.total) == (D("60.00"), D("1.00"), D("61.00"))
    assert ownership.expected_costs(
        seen, delay_day_cost=None, defect_cost=D("500"), units=3
    ).defects == D("3.00")
    # Nothing observed, or no cost set: no figure (not zero).
    nothing = ownership.expected_costs(Observed(), delay_day_cost=D("1"), defect_cost=D("1"))
    assert (nothing.delay, nothing.defects, nothing.total) == (None, None, None)


# --- a small world ----------------------------------------------------------------------------


@pytest.fixture
def pumps(app, demo):
    """Two pumps that are equipment; PMP-A's kit holds SEAL-A (Acme has a contract
    price for it) and SEAL-B (none: the list price); PMP-B has no maintenance plan."""
    with app.app_context():
        category = Category(name="Pumps")
        made = {}
        for sku, price in (
            ("PMP-A", "1000.00"),
            ("PMP-B", "1500.00"),
            ("SEAL-A", "250.00"),
            ("SEAL-B", "20.00"),
            ("OIL-A", "12.00"),
        ):
            made[sku] = Product(
                sku=sku,
                name=f"Thing {sku}",
                category=category,
                list_price=D(price),
                stock=Stock(on_hand=10),
            )
            db.session.add(made[sku])
        db.session.flush()
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        for sku, price in (("PMP-A", "900.00"), ("SEAL-A", "200.00")):
            db.session.add(
                ContractPrice(
                    account_id=acme.id,
                    product_id=made[sku].id,
                    unit_price=D(price),
                    valid_from=TODAY - timedelta(days=30),
                )
            )
        spec = EquipmentSpec(
            product_id=made["PMP-A"].id,
            warranty_months=24,
            maintenance_interval_months=6,
            maintenance_labour_hours=D("2"),
            maintenance_labour_rate=D("50.00"),
        )
        spec.kit = [
            MaintenanceKitLine(part_product_id=made["SEAL-A"].id, quantity=1),
            MaintenanceKitLine(part_product_id=made["SEAL-B"].id, quantity=1),
        ]
        spec.consumables = [
            ConsumableUsage(consumable_product_id=made["OIL-A"].id, quantity_per_year=D("2.5"))
        ]
        db.session.add_all([spec, EquipmentSpec(product_id=made["PMP-B"].id, warranty_months=36)])
        db.session.commit()
        return {sku: p.id for sku, p in made.items()} | {"acme": acme.id}


def test_an_accounts_cost_uses_its_contract_prices_and_says_where_it_has_none(app, pumps):
    with app.app_context():
        products = [db.session.get(Product, pumps["PMP-A"])]
        found = ownership.ownership_for(pumps["acme"], products, TODAY)[pumps["PMP-A"]]
        o = found.ownership
        # Visit: SEAL-A 200 (contract) + SEAL-B 20 (list) + 2 × 50 = 320; 2 a year = 640.
        # Oil: 2.5 × 12 = 30 a year. 670 a year; 900 + 5 × 670 = 4250.
        assert (o.plan.unit_price, o.plan.price_is_contract) == (D("900.00"), True)
        assert (o.per_year, o.total) == (D("670.00"), D("4250.00"))
        assert o.list_priced == ("SEAL-B", "OIL-A")
        assert found.is_equipment
        # Vendor staff (no account) see list prices: 1000 + 5 × (2 × 370 + 30).
        staff = ownership.ownership_for(None, products, TODAY)[pumps["PMP-A"]].ownership
        assert staff.total == D("4850.00")


def test_the_product_page_shows_the_cost_with_its_parts_and_the_record(pumps, login_as):
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get(f"/catalog/products/{pumps['PMP-A']}"))
    box = page.select_one(".ownership")
    assert "over 5 years" in box.select_one(".small-heading").get_text()
    total = box.select_one(".ownership-table tfoot").get_text(" ", strip=True)
    assert "670.00" in total and "4,250.00" in total
    parts = [row.get_text(" ", strip=True) for row in box.select("tr.ownership-part")]
    assert any("SEAL-B" in p and "no contract price" in p for p in parts)
    assert any("SEAL-A" in p and "no contract price" not in p for p in parts)
    assert "Warranty 24 months" in box.get_text()
    record = box.select_one("dl.facts").get_text(" ", strip=True)
    assert "not measured yet" in record and "no repairs resolved" in record
    assert "across all its customers" in box.get_text()
    # No costs of its own set yet: no expected cost of delays and defects.
    assert "Expected cost" not in box.get_text()
    # A product with no plan: the price is the whole known cost.
    page = soup(buyer.get(f"/catalog/products/{pumps['PMP-B']}"))
    assert "No maintenance plan" in page.select_one(".ownership").get_text()


# --- the account's settings ---------------------------------------------------------------------


def test_a_customer_admin_sets_the_period_and_own_costs(app, pumps, login_as):
    admin = login_as("admin@acme.test")
    response = admin.post(
        "/ownership/settings", {"years": "3", "delay_day_cost": "250", "defect_cost": "40.5"}
    )
    assert response.status_code == 303
    with app.app_context():
        row = db.session.get(OwnershipSettings, pumps["acme"])
        assert (row.years, row.delay_day_cost, row.defect_cost) == (3, D("250.00"), D("40.50"))
    page = soup(admin.get(f"/catalog/products/{pumps['PMP-A']}"))
    box = page.select_one(".ownership")
    assert "over 3 years" in box.get_text()
    # 900 + 3 × 670 = 2910
    assert "2,910.00" in box.select_one(".ownership-table tfoot").get_text()
    assert "Expected cost of delays and defects" in box.get_text()
    assert "250.00" in box.get_text()
    # Another account keeps the default period.
    with app.app_context():
        assert ownership.terms_of(pumps["acme"] + 1000).years == 5


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"years": "0"}, "years", "Choose 1 to 15 years."),
        ({"years": "16"}, "years", "Choose 1 to 15 years."),
        ({"years": ""}, "years", "Enter the number of years."),
        ({"years": "five"}, "years", "Not a valid integer value."),
        ({"years": "5", "delay_day_cost": "-1"}, "delay_day_cost", "0 or more"),
        ({"years": "5", "defect_cost": "abc"}, "defect_cost", "Not a valid decimal value."),
    ],
)
def test_bad_settings_are_refused_beside_the_field_and_nothing_is_saved(
    app, pumps, login_as, form, field, message
):
    admin = login_as("admin@acme.test")
    sent = {"delay_day_cost": "10", "defect_cost": "5"} | form
    response = admin.post("/ownership/settings", sent)
    assert response.status_code == 422
    page = soup(response)
    assert message in page.select_one(f"#{field}-error").get_text()
    # What was typed stays in the form.
    assert page.select_one(f"#{field}")["value"] == sent[field]
    with app.app_context():
        assert db.session.get(OwnershipSettings, pumps["acme"]) is None


def test_only_a_customer_admin_keeps_the_settings(pumps, login_as):
    assert login_as("buyer@acme.test").get("/ownership/settings").status_code == 403
    assert login_as("admin@vendor.test").get("/ownership/settings").status_code == 403


# --- the comparison ---------------------------------------------------------------------------


def test_two_products_side_by_side(pumps, login_as):
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.get("/ownership/compare?a=pmp-a&b=PMP-B"))
    boxes = page.select("#comparison .ownership")
    assert [b["data-product"] for b in boxes] == ["PMP-A", "PMP-B"]
    assert "4,250.00" in boxes[0].get_text() and "1,500.00" in boxes[1].get_text()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a=PMP-A&b=NOPE-1", "Second product: there is no product with SKU “NOPE-1”."),
        ("a=&b=PMP-B", "First product: enter a SKU."),
        ("a=PMP-A&b=pmp-a", "Choose two different products."),
    ],
)
def test_a_bad_comparison_says_what_is_wrong(pumps, login_as, query, message):
    response = login_as("buyer@acme.test").get(f"/ownership/compare?{query}")
    assert response.status_code == 422
    page = soup(response)
    assert message in page.select_one("#comparison [role=alert]").get_text()
    assert not page.select("#comparison .ownership")


def test_the_empty_comparison_asks_for_two_skus(pumps, login_as):
    response = login_as("buyer@acme.test").get("/ownership/compare?a=PMP-A")
    assert response.status_code == 200  # the product page's link: the first is chosen
    page = soup(response)
    assert page.select_one("#compare-a")["value"] == "PMP-A"


# --- the quick order ----------------------------------------------------------------------------


def test_the_quick_orders_product_details_show_the_cost_of_ownership(pumps, login_as):
    buyer = login_as("buyer@acme.test")
    response = buyer.post("/order", {"paste": "PMP-A 1\nSEAL-A 2"}, page="/order")
    assert response.status_code == 200
    page = soup(response)
    details = page.select("#review details.ownership-details")
    assert len(details) == 1  # the seal has no running costs
    assert "4,250.00" in details[0].select_one("summary").get_text()
    assert "SEAL-B" in details[0].get_text()


def test_the_total_with_delays_and_defects_only_when_something_is_expected():
    owned = ownership.cost_of_ownership(WORKED, 5)
    seen = Observed(lines=10, on_time=8, late_days=6, delivered=1000, affected=2)
    risk = ownership.expected_costs(seen, delay_day_cost=D("100"), defect_cost=D("500"))
    product = Product(sku="X", name="X", list_price=D("1000"))
    assert ownership.ProductOwnership(product, owned, seen, risk).total_with_risk == D("4211.00")
    nothing = ownership.expected_costs(Observed(), delay_day_cost=D("1"), defect_cost=None)
    assert ownership.ProductOwnership(product, owned, Observed(), nothing).total_with_risk is None


def test_the_observed_record_follows_the_promise_ledger_and_names_no_account(app, pumps):
    """A line of SEAL-A promised in 5 days and delivered in 8: one line measured, late
    by 3 days, 4 parts delivered; read 10 days on, for any account."""
    from portal.equipment import observed
    from portal.fulfilment import confirmations, shipments
    from portal.ordering import service as ordering

    from .test_equipment import user

    with app.app_context():
        buyer = user("buyer@acme.test")
        desk = user("fulfilment@vendor.test")
        ordering.add_to_cart(buyer, [(pumps["SEAL-A"], 4)])
        address = next(a for a in buyer.account.addresses if a.kind == "shipping")
        order, _ = ordering.place_order(
            buyer,
            po_number="PO-TCO",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key="tco-1",
            today=TODAY,
        )
        line = order.lines[0]
        promised, arrived = TODAY + timedelta(days=5), TODAY + timedelta(days=8)
        confirmations.confirm(desk, order, [confirmations.LineDecision(line.id, promised)], TODAY)
        shipment = shipments.ship(
            desk, order, {line.id: 4}, carrier="", tracking="", shipped_on=arrived, today=arrived
        )
        shipments.deliver(desk, order, shipment, delivered_on=arrived, received={}, today=arrived)
        seen = observed.observed_for([pumps["SEAL-A"], pumps["PMP-A"]], TODAY + timedelta(days=10))
        assert seen[pumps["SEAL-A"]] == Observed(lines=1, on_time=0, late_days=3, delivered=4)
        assert seen[pumps["PMP-A"]] == Observed()
        # Before the promised day has passed, the line is not judged yet.
        assert observed.observed_for([pumps["SEAL-A"]], promised)[pumps["SEAL-A"]].lines == 0
        risk = ownership.expected_costs(
            seen[pumps["SEAL-A"]], delay_day_cost=D("450"), defect_cost=D("120")
        )
        assert (risk.delay, risk.defects) == (D("1350.00"), D("0.00"))


def test_the_statements_do_not_grow_with_the_number_of_products(app, pumps):
    from sqlalchemy import event

    def statements(skus: list[str]) -> int:
        products = [db.session.get(Product, pumps[s]) for s in skus]
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            ownership.ownership_for(pumps["acme"], products, TODAY)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        db.session.expire_all()
        return len(seen)

    with app.app_context():
        one = statements(["PMP-A"])  # equipment: its kit and consumables are read too
        assert statements(["PMP-A", "PMP-B", "SEAL-A", "SEAL-B", "OIL-A"]) == one
