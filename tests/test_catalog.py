"""The catalog: prices that order lines will carry, availability, search, pages."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from portal.accounts.models import CustomerAccount
from portal.catalog import service
from portal.catalog.models import Category, ContractPrice, Product, Stock
from portal.extensions import db, utcnow

from .support import soup

# The pages price and promise for the real day (UTC), so the fixtures do too: a
# fixed date here broke these tests at the first midnight after it.
TODAY = utcnow().date()


@pytest.fixture
def shelf(app, demo):
    """Two hand-made products: a valve with Acme contract breaks, a pump with none."""
    with app.app_context():
        acme, globex = (
            db.session.scalar(select(CustomerAccount.id).where(CustomerAccount.number == n))
            for n in ("C-10001", "C-10002")
        )
        valves = Category(name="Valves")
        valve = Product(
            sku="HYD-VLV-1/2 NC",
            name="Solenoid valve G1/2 normally closed",
            description="Brass body, 24 V coil",
            category=valves,
            list_price=Decimal("100.00"),
            lead_time_days=21,
            min_order_qty=1,
            order_multiple=1,
        )
        valve.stock = Stock(on_hand=12, reserved=2)
        pump = Product(
            sku="EQ-PMP-300",
            name="Centrifugal pump 300 l/min",
            description="Cast iron",
            category=valves,
            list_price=Decimal("5400.00"),
            lead_time_days=42,
            yearly_service_cost=Decimal("320.00"),
            yearly_consumables_cost=Decimal("80.50"),
        )
        pump.stock = Stock(on_hand=0, reserved=0)
        db.session.add_all([valve, pump])
        db.session.flush()
        start = TODAY - timedelta(days=100)

        def price(account, qty, amount, valid_from=start, valid_until=None):
            db.session.add(
                ContractPrice(
                    account_id=account,
                    product_id=valve.id,
                    min_quantity=qty,
                    unit_price=Decimal(amount),
                    valid_from=valid_from,
                    valid_until=valid_until,
                )
            )

        price(acme, 1, "90.00")
        price(acme, 10, "85.00")
        price(acme, 50, "80.00")
        price(acme, 1, "50.00", TODAY - timedelta(days=500), TODAY - timedelta(days=101))  # expired
        price(acme, 1, "70.00", TODAY + timedelta(days=1))  # not yet valid
        price(globex, 1, "95.00")
        db.session.commit()
        return {"acme": acme, "globex": globex, "valve": valve.id, "pump": pump.id}


def prices_for(app, account, product_id, on=TODAY):
    with app.app_context():
        return service.price_list(account, db.session.get(Product, product_id), on)


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [(1, "90.00"), (9, "90.00"), (10, "85.00"), (49, "85.00"), (50, "80.00"), (5000, "80.00")],
)
def test_contract_breaks_give_the_unit_price_of_the_line(app, shelf, quantity, expected):
    prices = prices_for(app, shelf["acme"], shelf["valve"])
    assert prices.is_contract
    assert prices.unit_price(quantity) == Decimal(expected)


def test_expired_and_future_agreements_do_not_apply(app, shelf):
    prices = prices_for(app, shelf["acme"], shelf["valve"])
    assert [b.unit_price for b in prices.breaks] == [
        Decimal("90.00"),
        Decimal("85.00"),
        Decimal("80.00"),
    ]
    # The day the next agreement starts, it replaces the current one.
    later = prices_for(app, shelf["acme"], shelf["valve"], TODAY + timedelta(days=1))
    assert later.unit_price(1) == Decimal("70.00") and later.unit_price(60) == Decimal("70.00")


def test_each_account_gets_only_its_own_contract(app, shelf):
    assert prices_for(app, shelf["globex"], shelf["valve"]).unit_price(50) == Decimal("95.00")
    initech = None
    with app.app_context():
        initech = db.session.scalar(
            select(CustomerAccount.id).where(CustomerAccount.number == "C-10003")
        )
    no_contract = prices_for(app, initech, shelf["valve"])
    assert not no_contract.is_contract and no_contract.unit_price(50) == Decimal("100.00")
    assert prices_for(app, None, shelf["valve"]).unit_price(1) == Decimal("100.00")


@pytest.mark.parametrize(
    ("product", "quantity", "summary"),
    [
        ("valve", 4, "In stock, ships in 1 day"),
        ("valve", 10, "In stock, ships in 1 day"),
        ("valve", 15, "10 available now, the rest ships about {21}"),  # lead time 21 days
        ("pump", 1, "Ships about {42}"),
    ],
)
def test_availability_from_stock_and_lead_time(app, shelf, product, quantity, summary):
    with app.app_context():
        found = db.session.get(Product, shelf[product])
        expected = re.sub(
            r"\{(\d+)\}",
            lambda m: f"{TODAY + timedelta(days=int(m.group(1))):%d %b %Y}",
            summary,
        )
        assert service.availability(found, quantity, TODAY).summary == expected


@pytest.mark.parametrize(
    ("query", "skus"),
    [
        ("hyd-vlv-1/2 nc", ["HYD-VLV-1/2 NC"]),  # exact SKU, any case, with slash and space
        ("  eq-pmp", ["EQ-PMP-300"]),
        ("solenoid brass", ["HYD-VLV-1/2 NC"]),  # words of name and description
        ("centri", ["EQ-PMP-300"]),  # word prefix
        ("valve pump", []),  # every word must match
        ("'; DROP TABLE product; --", []),
        ('"unbalanced', []),
    ],
)
def test_search_by_sku_prefix_and_words(app, shelf, query, skus):
    with app.app_context():
        products, total = service.search(query)
        assert [p.sku for p in products] == skus
        assert total == len(skus)


def _search_as_one_query(q, *, category_id=None, include_discontinued=True, limit, offset):
    """The search as one query sorted by "is it a SKU match", then SKU: what the search
    returns, written the plain way (it sorts every match, so the search does not)."""
    from sqlalchemy import and_

    from portal.catalog.models import sku_key

    query = select(Product.sku)
    if category_id:
        query = query.where(Product.category_id == category_id)
    if not include_discontinued:
        query = query.where(Product.status == "active")
    words = [w.lower() for w in service.WORD.findall(q)][:8]
    key = sku_key(q)
    is_sku_match = and_(Product.sku_key >= key, Product.sku_key < key + "\uffff")
    query = query.where(Product.id.in_(service._matching_ids(q, words)))
    return db.session.scalars(
        query.order_by(~is_sku_match, Product.sku_key).limit(limit).offset(offset)
    ).all()


@pytest.mark.parametrize("walk", [False, True], ids=["sorted", "SKU index walked"])
@pytest.mark.parametrize(
    "q",
    [
        "hyd",  # 36 SKUs start with it, 6 more products say "hydraulic"
        "steel",  # words only, half the catalogue
        "EQ",  # SKU prefixes only
        "o-ring nbr",  # two words
        "zzz",
    ],
)
def test_search_pages_are_the_sku_matches_then_the_word_matches_each_in_sku_order(
    app, catalog, monkeypatch, q, walk
):
    """Page by page, with and without filters, whichever way the word matches are read:
    the same products in the same order as one query sorting every match."""
    monkeypatch.setattr(service, "_walk_the_sku_index", lambda *_: walk)
    with app.app_context():
        category_id = db.session.scalar(
            select(Product.category_id).where(Product.sku.like("HYD-%")).limit(1)
        )
        for filters in ({}, {"include_discontinued": False}, {"category_id": category_id}):
            for offset in (0, 10, 30, 36, 40, 170, 400):
                found, total = service.search(q, limit=10, offset=offset, **filters)
                expected = _search_as_one_query(q, limit=10, offset=offset, **filters)
                assert [p.sku for p in found] == expected, (filters, offset)
            everything = _search_as_one_query(q, limit=1000, offset=0, **filters)
            assert total == len(everything)
        if q != "zzz":
            assert service.search(q, limit=1000)[0], "the query finds something"


def test_find_by_sku_is_exact_but_ignores_case(app, shelf):
    with app.app_context():
        assert service.find_by_sku(" hyd-vlv-1/2 nc ").id == shelf["valve"]
        assert service.find_by_sku("HYD-VLV-1/2") is None


def test_buyer_sees_their_contract_price_and_never_another_accounts(app, login_as, shelf):
    acme_page = login_as("buyer@acme.test").client.get("/catalog?q=HYD-VLV")
    row = soup(acme_page).select_one("#results tbody tr")
    assert "90.00 EUR" in row.get_text() and "contract" in row.get_text()
    globex_page = login_as("buyer@globex.test").client.get("/catalog?q=HYD-VLV")
    text = soup(globex_page).select_one("#results tbody tr").get_text()
    assert "95.00 EUR" in text
    assert "90.00" not in globex_page.get_data(as_text=True)


def test_product_page_shows_breaks_availability_and_cost_of_ownership(app, login_as, shelf):
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.client.get(f"/catalog/products/{shelf['valve']}?qty=15"))
    # The first table: the price breaks (the cost of ownership's follows).
    breaks = [
        [td.get_text() for td in tr.select("td")]
        for tr in page.select_one("table").select("tbody tr")
    ]
    assert breaks == [["1 pc", "90.00 EUR"], ["10 pc", "85.00 EUR"], ["50 pc", "80.00 EUR"]]
    assert "10 available now" in page.select_one("#availability").get_text()
    assert "1,275.00 EUR in all" in page.select_one("#availability").get_text()
    pump = soup(buyer.client.get(f"/catalog/products/{shelf['pump']}"))
    assert "400.50 EUR" in pump.get_text()  # service 320.00 + consumables 80.50 a year


def test_discontinued_product_points_to_its_replacement(app, login_as, shelf):
    with app.app_context():
        valve = db.session.get(Product, shelf["valve"])
        valve.status, valve.replacement_sku = "discontinued", "eq-pmp-300"
        db.session.commit()
    page = soup(login_as("buyer@acme.test").client.get(f"/catalog/products/{shelf['valve']}"))
    link = page.select_one(".flash a")
    assert link["href"] == f"/catalog/products/{shelf['pump']}"


@pytest.mark.parametrize("url", ["/catalog/products/999999", "/catalog/products/abc"])
def test_missing_product_is_404(login_as, url):
    assert login_as("buyer@acme.test").client.get(url).status_code == 404


@pytest.mark.parametrize(
    "args",
    ["?qty=-5", "?qty=0", "?qty=abc", "?qty=99999999999", "?qty=1.5"],
)
def test_absurd_quantities_on_the_product_page_are_clamped_not_errors(login_as, shelf, args):
    response = login_as("buyer@acme.test").client.get(f"/catalog/products/{shelf['valve']}{args}")
    assert response.status_code == 200


def test_catalog_queries_do_not_grow_with_the_rows_shown(app, login_as, catalog):
    """The number of SQL statements for a page of 5 products and of 50 is the same."""
    buyer = login_as("buyer@acme.test")
    counts = []
    with app.app_context():
        engine = db.engine
    for size in (5, 50):
        statements = []

        def count(*_args, statements=statements):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            response = buyer.client.get(f"/catalog?page_size={size}")
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert len(soup(response).select("#results tbody tr")) == size
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_demo_catalog_has_enough_to_show(app, catalog):
    assert catalog["products"] >= 300
    with app.app_context():
        accounts = db.session.scalars(select(CustomerAccount)).all()
        for account in accounts:
            assert db.session.scalar(
                select(ContractPrice.id).where(ContractPrice.account_id == account.id).limit(1)
            )
