"""Demo orders for every demo account: a year of ordering, through the same
services a buyer uses, so numbers, prices, reservations and events agree.
(`portal.fulfilment.demo` then confirms, ships and delivers them.)"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from portal.accounts.models import CustomerAccount
from portal.accounts.roles import Role
from portal.catalog.models import ContractPrice, Product
from portal.extensions import db
from portal.notifications.models import Notification

from . import service
from .models import Order, OrderEvent

WEEKS = 52


def load(rng: random.Random, today: date) -> dict[str, int]:
    accounts = db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)).all()
    plan = []  # (day, account, buyer) in date order, so numbers rise with dates
    for account in accounts:
        buyers = [u for u in account.users if u.has_role(Role.BUYER)]
        for _ in range(rng.randint(30, 45)):
            plan.append(
                (today - timedelta(days=rng.randint(0, WEEKS * 7)), account, rng.choice(buyers))
            )
    plan.sort(key=lambda item: (item[0], item[1].number))
    placed = 0
    for day, account, buyer in plan:
        products = _products_for(account, rng)
        items = []
        for product in rng.sample(products, k=min(len(products), rng.randint(1, 6))):
            quantity = product.min_order_qty + product.order_multiple * rng.randint(0, 4)
            items.append((product.id, quantity))
        last_note = db.session.scalar(select(func.max(Notification.id))) or 0
        service.add_to_cart(buyer, items)
        address = next(a for a in account.addresses if a.kind == "shipping")
        order, _ = service.place_order(
            buyer,
            po_number=f"PO-{day:%y%m}-{rng.randint(100, 999)}",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key=f"demo-{placed}",
            today=day,
        )
        when = datetime.combine(day, time(rng.randint(7, 16), rng.randint(0, 59)), tzinfo=UTC)
        db.session.execute(update(Order).where(Order.id == order.id).values(placed_at=when))
        db.session.execute(
            update(OrderEvent).where(OrderEvent.order_id == order.id).values(at=when)
        )
        db.session.execute(
            update(Notification).where(Notification.id > last_note).values(created_at=when)
        )
        if rng.random() < 0.08:
            service.cancel(buyer, order)
        placed += 1
    db.session.commit()
    return {"orders": placed}


def _products_for(account: CustomerAccount, rng: random.Random) -> list[Product]:
    """Mostly what the account has contract prices for: that is what it buys."""
    return list(
        db.session.scalars(
            select(Product)
            .join(ContractPrice, ContractPrice.product_id == Product.id)
            .where(ContractPrice.account_id == account.id, Product.status == "active")
            .distinct()
            .order_by(Product.id)
        )
    )
