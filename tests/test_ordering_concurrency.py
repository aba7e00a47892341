"""Parallel submissions over real HTTP, on SQLite and on PostgreSQL.

- One cart submitted fifty times at once with the same idempotency key: one order.
- Fifty buyers ordering one unit each of a product with ten in stock: every order
  is placed, exactly ten units are reserved, none is oversold or lost.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Address, CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog.models import Category, Product, Stock
from portal.extensions import db
from portal.ordering import service
from portal.ordering.models import Order, OrderLine

from .support import HttpPerson

PARALLEL = 50


@pytest.fixture
def scarce_product(app, demo) -> int:
    with app.app_context():
        product = Product(
            sku="SCARCE-1",
            name="Scarce part",
            category=Category(name="Scarce"),
            list_price=Decimal("10.00"),
            lead_time_days=30,
        )
        product.stock = Stock(on_hand=10)
        db.session.add(product)
        db.session.commit()
        return product.id


def checkout_form(person: HttpPerson) -> dict:
    _, _, page = person.request("GET", "/checkout")
    return {
        "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)[1],
        "idempotency_key": re.search(r'name="idempotency_key" type="hidden" value="([^"]+)"', page)[
            1
        ],
        "ship_to_id": re.search(r'<option (?:selected )?value="(\d+)"', page)[1],
        "po_number": "PO-RUSH",
        "notes": "",
        "requested_date": "",
    }


def test_fifty_submissions_with_one_key_make_one_order(app, live_server, scarce_product):
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        service.add_to_cart(buyer, [(scarce_product, 3)])
    person = HttpPerson(live_server.url)
    assert person.login("buyer@acme.test") == 303
    form = checkout_form(person)
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(
            pool.map(lambda _: person.request("POST", "/checkout", form), range(PARALLEL))
        )
    statuses = {status for status, _, _ in results}
    locations = {location for _, location, _ in results}
    assert statuses == {303}, statuses
    assert len(locations) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 1
        assert db.session.get(Stock, scarce_product).reserved == 3


def test_fifty_orders_competing_for_ten_units(app, live_server, scarce_product):
    with app.app_context():
        acme = db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == "C-10001"))
        digest = db.session.scalar(
            select(User.password_hash).where(User.email == "buyer@acme.test")
        )
        for n in range(PARALLEL):
            user = User(
                email=f"rush{n}@acme.test", name=f"Rush {n}", account=acme, password_hash=digest
            )
            user.roles = [Role.BUYER]
            db.session.add(user)
        db.session.commit()
        for n in range(PARALLEL):
            user = db.session.scalar(select(User).where(User.email == f"rush{n}@acme.test"))
            service.add_to_cart(user, [(scarce_product, 1)])
        assert db.session.scalar(
            select(func.count()).select_from(Address).where(Address.account_id == acme.id)
        )

    people = []
    for n in range(PARALLEL):
        person = HttpPerson(live_server.url)
        assert person.login(f"rush{n}@acme.test") == 303
        people.append((person, checkout_form(person)))
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        results = list(pool.map(lambda p: p[0].request("POST", "/checkout", p[1]), people))
    assert [status for status, _, _ in results] == [303] * PARALLEL
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == PARALLEL
        reserved = db.session.scalars(select(OrderLine.reserved_quantity)).all()
        assert sorted(reserved) == [0] * (PARALLEL - 10) + [1] * 10
        stock = db.session.get(Stock, scarce_product)
        assert (stock.on_hand, stock.reserved) == (10, 10)
        numbers = db.session.scalars(select(Order.number)).all()
        assert len(set(numbers)) == PARALLEL
