"""Currency per account: PT Nusantara Teknik is priced in rupiah. Its contract prices and
orders carry IDR; a product without a rupiah list price cannot be ordered at list price
and every door says so; rupiah amounts are whole; vendor admins set an account's
currency and a product's prices per currency, by form and by import."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import CustomerAccount, User
from portal.catalog import admin as catalog_admin
from portal.catalog import service as catalog
from portal.catalog.models import Category, ContractPrice, Product, ProductPrice, Stock
from portal.errors import DomainError
from portal.extensions import db
from portal.ordering import service as ordering
from portal.ordering.models import CartLine, Order

from .support import soup

TODAY = date.today()


@pytest.fixture
def rupiah(app, demo):
    """Nusantara (IDR) and three products: a pump with a rupiah list price of 1,234,500,
    a valve with a contract price of 99,000 a piece and no rupiah list price, and a
    gauge with neither (its only price is the base currency's 40.00)."""
    with app.app_context():
        category = Category(name="Parts")
        pump = Product(
            sku="PMP-1",
            name="Pump",
            category=category,
            list_price=Decimal("70.00"),
            stock=Stock(on_hand=50),
            other_prices=[ProductPrice(currency="IDR", amount=Decimal("1234500"))],
        )
        valve = Product(
            sku="VLV-1",
            name="Valve",
            category=category,
            list_price=Decimal("5.00"),
            stock=Stock(on_hand=50),
        )
        gauge = Product(
            sku="GAU-1",
            name="Gauge",
            category=category,
            list_price=Decimal("40.00"),
            stock=Stock(on_hand=50),
        )
        db.session.add_all([pump, valve, gauge])
        account = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.number == "C-10005")
        )
        account.approval_limit = None
        db.session.flush()
        db.session.add(
            ContractPrice(
                account_id=account.id,
                product_id=valve.id,
                min_quantity=1,
                unit_price=Decimal("99000"),
                currency="IDR",
                valid_from=TODAY - timedelta(days=5),
            )
        )
        db.session.commit()
        return {"pump": pump.id, "valve": valve.id, "gauge": gauge.id, "account": account.id}


def buyer() -> User:
    return db.session.scalar(select(User).where(User.email == "buyer@nusantara.test"))


def test_the_demo_account_is_in_rupiah_jakarta_and_indonesian(app, demo):
    with app.app_context():
        account = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.name == "PT Nusantara Teknik")
        )
        assert (account.currency, account.timezone, account.default_language) == (
            "IDR",
            "Asia/Jakarta",
            "id",
        )
        assert {u.email for u in account.users} == {"buyer@nusantara.test", "admin@nusantara.test"}
        assert account.addresses[0].city == "Surabaya"
        # The other accounts stay in the base currency.
        assert set(
            db.session.scalars(
                select(CustomerAccount.currency).where(CustomerAccount.id != account.id)
            )
        ) == {"EUR"}


def test_prices_are_the_accounts_currency(app, rupiah):
    with app.app_context():
        products = db.session.scalars(select(Product).order_by(Product.sku)).all()
        prices = catalog.price_lists(rupiah["account"], products, TODAY)
        assert {p.currency for p in prices.values()} == {"IDR"}
        assert prices[rupiah["pump"]].unit_price(2) == Decimal("1234500")
        assert prices[rupiah["valve"]].unit_price(2) == Decimal("99000")
        assert prices[rupiah["gauge"]].unit_price(2) is None
        # Acme, in euros, sees the base list price and none of Nusantara's contract.
        acme = db.session.scalar(
            select(CustomerAccount.id).where(CustomerAccount.number == "C-10001")
        )
        euro = catalog.price_lists(acme, products, TODAY)
        assert euro[rupiah["valve"]].unit_price(2) == Decimal("5.00")
        assert euro[rupiah["pump"]].currency == "EUR"


def test_a_contract_price_in_another_currency_does_not_apply(app, rupiah):
    """An account moved to another currency: its old prices stop applying."""
    with app.app_context():
        account = db.session.get(CustomerAccount, rupiah["account"])
        account.currency = "EUR"
        db.session.commit()
        valve = db.session.get(Product, rupiah["valve"])
        assert catalog.price_list(account.id, valve, TODAY).unit_price(1) == Decimal("5.00")


def test_an_order_carries_the_accounts_currency(app, rupiah):
    with app.app_context():
        person = buyer()
        ordering.add_to_cart(person, [(rupiah["pump"], 2), (rupiah["valve"], 3)])
        order, created = ordering.place_order(
            person,
            po_number="PO-1",
            ship_to_id=ordering.delivery_addresses(person)[0].id,
            requested_date=None,
            notes="",
            idempotency_key="k-1",
            today=TODAY,
        )
        assert created
        assert order.currency == "IDR"
        assert order.total == Decimal("2766000")  # 2 × 1,234,500 + 3 × 99,000


def test_a_product_without_a_price_in_the_currency_cannot_be_ordered(app, rupiah):
    with app.app_context():
        person = buyer()
        ordering.add_to_cart(person, [(rupiah["pump"], 1), (rupiah["gauge"], 1)])
        with pytest.raises(DomainError) as refused:
            ordering.place_order(
                person,
                po_number="PO-1",
                ship_to_id=ordering.delivery_addresses(person)[0].id,
                requested_date=None,
                notes="",
                idempotency_key="k-2",
                today=TODAY,
            )
        db.session.rollback()
        assert "GAU-1 has no price in IDR" in refused.value.message
        # Nothing was saved, and the cart is as it was.
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0
        assert db.session.scalar(select(func.count()).select_from(CartLine)) == 2


def test_the_pages_say_a_price_is_missing_and_show_whole_rupiah(app, rupiah, login_as):
    person = login_as("buyer@nusantara.test")
    page = soup(person.client.get(f"/catalog/products/{rupiah['gauge']}"))
    assert "Belum ada harga daftar dalam IDR" in page.select_one(".price").get_text()
    page = soup(person.client.get(f"/catalog/products/{rupiah['pump']}"))
    assert page.select_one(".price").get_text(" ", strip=True).startswith("Rp1.234.500")
    checked = soup(person.post("/order", {"paste": "PMP-1 2\nGAU-1 1"}, page="/order"))
    rows = {
        row.select_one(".sku").get_text(strip=True): row
        for row in checked.select("tr.status-ok, tr.status-no_price")
    }
    assert "Rp2.469.000" in rows["PMP-1"].get_text()
    assert "Belum ada harga" in rows["GAU-1"].select_one(".line-status").get_text()
    # A line without a price cannot be ticked.
    assert rows["GAU-1"].select_one("input[type=checkbox]") is None
    # The catalog list says it too.
    listing = person.client.get("/catalog?q=GAU").get_data(as_text=True)
    assert "Belum ada harga daftar dalam IDR" in listing


def test_checkout_refuses_a_line_without_a_price_and_keeps_the_cart(app, rupiah, login_as):
    person = login_as("buyer@nusantara.test")
    with app.app_context():
        ordering.add_to_cart(buyer(), [(rupiah["gauge"], 1)])
        db.session.commit()
    cart = soup(person.client.get("/cart"))
    assert "Belum ada harga daftar dalam IDR" in cart.select_one("#cart tbody").get_text()
    page = soup(person.client.get("/checkout"))
    response = person.post(
        "/checkout",
        {
            "po_number": "PO-9",
            "ship_to_id": page.select_one("#ship_to_id option")["value"],
            "requested_date": "",
            "notes": "",
            "idempotency_key": page.select_one("input[name=idempotency_key]")["value"],
        },
    )
    assert response.status_code == 422
    assert "GAU-1 belum memiliki harga dalam IDR" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0


def test_the_api_gives_prices_in_the_accounts_currency(app, rupiah):
    from portal.api.v1 import _product_json

    with app.test_request_context():
        gauge = db.session.get(Product, rupiah["gauge"])
        pump = db.session.get(Product, rupiah["pump"])
        body = _product_json(gauge, catalog.price_list(rupiah["account"], gauge, TODAY), 1, TODAY)
        assert (body["currency"], body["list_price"], body["unit_price"]) == ("IDR", None, None)
        body = _product_json(pump, catalog.price_list(rupiah["account"], pump, TODAY), 1, TODAY)
        assert (body["currency"], body["list_price"]) == ("IDR", Decimal("1234500"))


def admin() -> User:
    return db.session.scalar(select(User).where(User.email == "admin@vendor.test"))


@pytest.mark.parametrize(
    ("amount", "refused"), [("99000", False), ("99000.00", False), ("99000.50", True)]
)
def test_a_rupiah_contract_price_is_whole(app, rupiah, amount, refused):
    with app.app_context():
        account = db.session.get(CustomerAccount, rupiah["account"])
        add = lambda: catalog_admin.add_contract_price(  # noqa: E731
            admin(),
            account,
            sku="PMP-1",
            min_quantity=10,
            unit_price=Decimal(amount),
            valid_from=TODAY,
            valid_until=None,
        )
        if refused:
            with pytest.raises(DomainError, match="IDR prices are whole amounts"):
                add()
        else:
            assert add().currency == "IDR"


def test_the_product_form_sets_and_removes_a_rupiah_list_price(app, rupiah, login_as):
    person = login_as("admin@vendor.test")
    url = f"/catalog/products/{rupiah['gauge']}/edit"
    form = soup(person.client.get(url))
    assert (
        form.select_one("label[for=list_price_IDR]")
        .get_text(strip=True)
        .startswith("List price in IDR")
    )
    values = {
        field["name"]: field.get("value", "")
        for field in form.select("#product-form input")
        if field.get("name") and field.get("type") != "checkbox"
    } | {
        "status": "active",
        "description": "",
    }
    response = person.post(url, values | {"list_price_IDR": "650000.5"}, page=url)
    assert response.status_code == 422
    assert "IDR prices are whole amounts" in response.get_data(as_text=True)
    response = person.post(url, values | {"list_price_IDR": "650000"}, page=url)
    assert response.status_code == 303
    with app.app_context():
        gauge = db.session.get(Product, rupiah["gauge"])
        assert [(p.currency, p.amount) for p in gauge.other_prices] == [("IDR", Decimal("650000"))]
    person.post(url, values | {"list_price_IDR": ""}, page=url)
    with app.app_context():
        assert db.session.get(Product, rupiah["gauge"]).other_prices == []


def test_the_product_import_takes_a_rupiah_list_price_all_or_nothing(app, rupiah):
    rows = [
        (1, ["sku", "list_price_idr"]),
        (2, ["GAU-1", "650000"]),
        (3, ["VLV-1", "85000.25"]),
    ]
    with app.app_context():
        with pytest.raises(catalog_admin.ImportRefused) as refused:
            catalog_admin.import_products(admin(), rows)
        db.session.rollback()
        assert refused.value.problems == [
            (3, "IDR prices are whole amounts: 85000.25 has decimals")
        ]
        assert db.session.scalar(select(func.count()).select_from(ProductPrice)) == 1
        rows[2] = (3, ["VLV-1", "85000"])
        catalog_admin.import_products(admin(), rows)
        assert dict(
            db.session.execute(
                select(Product.sku, ProductPrice.amount)
                .join(ProductPrice)
                .where(ProductPrice.currency == "IDR")
            ).all()
        ) == {"PMP-1": Decimal("1234500"), "GAU-1": Decimal("650000"), "VLV-1": Decimal("85000")}


def test_the_contract_price_import_checks_the_currency_column(app, rupiah):
    header = (1, ["account_number", "sku", "min_quantity", "unit_price", "valid_from", "currency"])
    with app.app_context():
        with pytest.raises(catalog_admin.ImportRefused) as refused:
            catalog_admin.import_contract_prices(
                admin(),
                [
                    header,
                    (2, ["C-10005", "GAU-1", "1", "700000", TODAY.isoformat(), "IDR"]),
                    (3, ["C-10005", "PMP-1", "1", "41.50", TODAY.isoformat(), "EUR"]),
                    (4, ["C-10005", "PMP-1", "5", "1100000.5", TODAY.isoformat(), ""]),
                    (5, ["C-10001", "PMP-1", "1", "41.50", TODAY.isoformat(), "eur"]),
                ],
            )
        db.session.rollback()
        assert refused.value.problems == [
            (3, "account C-10005 is priced in IDR, not EUR"),
            (4, "IDR prices are whole amounts: 1100000.5 has decimals"),
        ]
        assert db.session.scalar(select(func.count()).select_from(ContractPrice)) == 1
        result = catalog_admin.import_contract_prices(
            admin(),
            [header, (2, ["C-10005", "GAU-1", "1", "700000", TODAY.isoformat(), "IDR"])],
        )
        assert result.created == 1
        added = db.session.scalar(select(ContractPrice).where(ContractPrice.unit_price == 700000))
        assert added.currency == "IDR"


def test_a_vendor_admin_sets_an_accounts_currency(app, rupiah, login_as):
    person = login_as("admin@vendor.test")
    url = f"/accounts/{rupiah['account']}/edit"
    form = soup(person.client.get(url))
    assert form.select_one("#currency option[selected]")["value"] == "IDR"
    values = {
        "number": "C-10005",
        "name": "PT Nusantara Teknik",
        "status": "active",
        "timezone": "Asia/Makassar",
        "currency": "USD",
        "default_language": "id",
        "account_manager_id": form.select_one("#account_manager_id option[selected]")["value"],
        "promise_basis": "delivery",
        "handover_reason": "",
    }
    assert person.post(url, values | {"currency": "XXX"}, page=url).status_code == 422
    assert person.post(url, values, page=url).status_code == 303
    with app.app_context():
        account = db.session.get(CustomerAccount, rupiah["account"])
        assert (account.currency, account.timezone) == ("USD", "Asia/Makassar")
