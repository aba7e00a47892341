"""Demo orders for every demo account: a year of ordering, through the same
services a buyer uses, so numbers, prices, reservations and events agree.
(`portal.fulfilment.demo` then confirms, ships and delivers them.)"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select, update

from portal.accounts.models import CustomerAccount
from portal.accounts.roles import Role
from portal.catalog.models import ContractPrice, Product
from portal.extensions import db
from portal.notifications.models import Notification

from . import service
from .models import Order, OrderEvent

# A year and a month of orders: the twelve months the forecast accuracy measures are all full.
WEEKS = 57


@dataclass(frozen=True)
class Rhythm:
    """How an account orders: days between orders, and when it last did."""

    gap: tuple[int, int]
    last_order_days_ago: int = 1


# Each demo account has its own rhythm. Umbrella ordered every 10–14 days (median 12) and
# then stopped 50 days ago: more than three of its usual gaps, and it is silent otherwise.
# (Stopped so recently, its forecast from before still reads as believable: one month of
# no orders against it, not two.)
RHYTHMS = {
    "C-10001": Rhythm((6, 11)),
    "C-10002": Rhythm((8, 13)),
    "C-10003": Rhythm((9, 14), last_order_days_ago=3),
    "C-10004": Rhythm((10, 14), last_order_days_ago=50),
}
# The products an account buys again and again, and how often it adds something else.
REGULAR_PRODUCTS = (5, 8)
ONE_OFF_CHANCE = 0.15


def load(rng: random.Random, today: date) -> dict[str, int]:
    """A year of orders. Each account buys a steady set of products at a steady monthly
    rate, order by order in its own rhythm, as real customers do: so what it forecasts
    (from the same run rates, see forecasts.demo) comes out believable, not random."""
    accounts = db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)).all()
    plan = []  # (day, account, buyer, items, rng) in date order, so numbers rise with dates
    for account in accounts:
        # An account added to the demo later (PT Nusantara Teknik) draws its orders' details
        # from its own Random: the first four accounts' history stays as it was.
        order_rng = rng if account.number in RHYTHMS else random.Random(account.number)
        buyers = [u for u in account.users if u.has_role(Role.BUYER)]
        rhythm = RHYTHMS.get(account.number, Rhythm((7, 21)))
        products = _products_for(account, rng)
        regular = rng.sample(products, k=min(len(products), rng.randint(*REGULAR_PRODUCTS)))
        # Units per month of each regular product: enough order multiples that rounding to
        # them does not swing a month.
        monthly = {
            p.id: max(p.min_order_qty, p.order_multiple * rng.randint(8, 20)) for p in regular
        }
        day = today - timedelta(days=rhythm.last_order_days_ago)
        start = today - timedelta(days=WEEKS * 7)
        days = []
        while day >= start:
            days.append(day)
            day -= timedelta(days=rng.randint(*rhythm.gap))
        # Each order replaces what was used since the one before: the quantity follows
        # the days that passed, so a month's orders add up to about its monthly rate.
        since_previous = [a - b for a, b in zip(days, days[1:], strict=False)]
        since_previous.append(timedelta(days=round(sum(rhythm.gap) / 2)))
        for day, elapsed in zip(days, since_previous, strict=True):
            items = []
            for product in regular:
                if rng.random() < 0.08:
                    continue  # not needed this time
                wanted = monthly[product.id] * elapsed.days / 30 * rng.uniform(0.85, 1.15)
                items.append((product.id, _orderable(product, wanted)))
            if rng.random() < ONE_OFF_CHANCE or not items:
                extra = rng.choice(products)
                if extra.id not in {pid for pid, _ in items}:
                    items.append((extra.id, _orderable(extra, extra.min_order_qty)))
            plan.append((day, account, rng.choice(buyers), items, order_rng))
    plan.sort(key=lambda item: (item[0], item[1].number))
    placed = 0
    for day, account, buyer, items, order_rng in plan:
        last_note = db.session.scalar(select(func.max(Notification.id))) or 0
        service.add_to_cart(buyer, items)
        address = next(a for a in account.addresses if a.kind == "shipping")
        order, _ = service.place_order(
            buyer,
            po_number=f"PO-{day:%y%m}-{order_rng.randint(100, 999)}",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key=f"demo-{placed}",
            today=day,
        )
        when = datetime.combine(
            day, time(order_rng.randint(7, 16), order_rng.randint(0, 59)), tzinfo=UTC
        )
        db.session.execute(update(Order).where(Order.id == order.id).values(placed_at=when))
        db.session.execute(
            update(OrderEvent).where(OrderEvent.order_id == order.id).values(at=when)
        )
        db.session.execute(
            update(Notification).where(Notification.id > last_note).values(created_at=when)
        )
        if order_rng.random() < 0.04:
            service.cancel(buyer, order)
        placed += 1
    db.session.commit()
    return {"orders": placed}


def _orderable(product: Product, wanted: float) -> int:
    """`wanted` units rounded to what the product may be ordered in."""
    multiple = product.order_multiple
    quantity = max(product.min_order_qty, round(wanted / multiple) * multiple)
    return quantity + (-quantity % multiple)


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
