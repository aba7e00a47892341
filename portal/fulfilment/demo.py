"""A year of fulfilment for the demo orders, through the desk's own services:
confirmations, split lines, promise changes with reasons, partial shipments,
late deliveries and a few cancellations. Each account has its own reliability,
so the promise ledger shows figures that differ between the demo accounts."""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import event, func, select, update

from portal.accounts.models import User
from portal.extensions import db
from portal.notifications.models import Notification
from portal.ordering.models import Order, OrderEvent

from . import cancellations, confirmations, shipments
from .models import CHANGE_REASONS

# The share of promises each demo account sees kept; others get a middling record.
# Acme is the healthy account: nearly every promise kept.
RELIABILITY = {"C-10001": 0.97, "C-10002": 0.9, "C-10003": 0.85, "C-10004": 0.72}
# Globex's promises slipped in the last quarter: later confirmations, more moved and late lines.
SLIPPED_LAST_QUARTER = {"C-10002": 0.4}
QUARTER_DAYS = 90


def reliability_of(number: str, placed: date, today: date) -> float:
    """The share of promises kept for an account's order placed on `placed`."""
    if number in SLIPPED_LAST_QUARTER and placed >= today - timedelta(days=QUARTER_DAYS):
        return SLIPPED_LAST_QUARTER[number]
    return RELIABILITY.get(number, 0.8)


REASONS = list(CHANGE_REASONS)


def load(rng: random.Random, today: date) -> dict[str, int]:
    staff = db.session.scalar(select(User).where(User.email == "fulfilment@vendor.test"))
    orders = db.session.scalars(
        select(Order).where(Order.status == "placed").order_by(Order.placed_at, Order.id)
    ).all()
    played = 0
    with _played_days():
        for order in orders:
            placed = order.placed_at.date()
            if placed > today - timedelta(days=6):
                continue  # the newest orders wait in the desk's inbox
            reliability = reliability_of(order.account.number, placed, today)
            _play(rng, staff, order, placed, today, reliability)
            played += 1
    # The bell shows what happened lately; older news is read.
    db.session.execute(
        update(Notification)
        .where(Notification.created_at < _at(today - timedelta(days=10), 0))
        .values(read_at=Notification.created_at)
    )
    db.session.commit()
    return {"orders fulfilled": played}


def _play(rng, staff, order, placed: date, today: date, reliability: float) -> None:
    # A desk that keeps few promises also confirms late.
    slow = reliability < 0.5
    confirm_day = placed + timedelta(days=rng.choice((2, 3, 4, 5) if slow else (0, 0, 1, 1, 2)))
    confirm_day = min(confirm_day, today)
    decisions = []
    for line in order.lines:
        promise = confirmations.proposed_promise(line, confirm_day)
        if rng.random() < 0.02:
            decisions.append(
                confirmations.LineDecision(line.id, decline_reason="No longer made in this size")
            )
        elif line.quantity > 1 and line.reserved_quantity < line.quantity and rng.random() < 0.3:
            now_part = max(1, line.reserved_quantity)
            # What is in stock now: dispatched tomorrow, plus transit on delivery terms.
            soon = 1 + (2 if order.account.promise_basis == "delivery" else 0)
            decisions.append(
                confirmations.LineDecision(
                    line.id,
                    confirm_day + timedelta(days=soon),
                    later_quantity=line.quantity - now_part,
                    later_promised_on=max(promise, confirm_day + timedelta(days=soon + 1)),
                )
            )
        else:
            decisions.append(confirmations.LineDecision(line.id, promise))
    _at_day(confirm_day, lambda: confirmations.confirm(staff, order, decisions, confirm_day))
    if order.status == "cancelled":
        return
    plan: dict[date, dict[int, int]] = {}
    for line in list(order.lines):
        if line.status != "confirmed":
            continue
        promise = line.promised_on
        late = rng.random() > reliability
        if late and rng.random() < 0.6 and promise - timedelta(days=2) > confirm_day:
            change_day = promise - timedelta(days=rng.randint(1, 2))
            if change_day <= today:
                new = promise + timedelta(days=rng.randint(2, 9))
                reason = rng.choice(REASONS)
                _at_day(
                    change_day,
                    lambda line=line, new=new, reason=reason, change_day=change_day: (
                        confirmations.change_promise(
                            staff,
                            order,
                            line.id,
                            new_date=new,
                            reason=reason,
                            text="Carrier capacity short this week" if reason == "other" else "",
                            today=change_day,
                        )
                    ),
                )
        if rng.random() < 0.03 and confirm_day + timedelta(days=1) <= today:
            _cancellation(rng, staff, order, line, confirm_day + timedelta(days=1))
            if line.outstanding == 0:
                continue
        # On delivery terms the goods must arrive by the promise: they leave
        # a transit time ahead of it when all goes well.
        lead = 2 if order.account.promise_basis == "delivery" else 0
        ships = (
            line.promised_on
            - timedelta(days=lead)
            + timedelta(days=rng.randint(1, 8) if late else -rng.choice((0, 0, 0, 1)))
        )
        ships = max(ships, confirm_day)
        parts = [line.outstanding]
        # A desk that keeps its promises also ships lines complete more often.
        split_chance = 0.04 if reliability >= 0.95 else 0.12
        if line.outstanding > 1 and rng.random() < split_chance:
            first = rng.randint(1, line.outstanding - 1)
            parts = [first, line.outstanding - first]
        for n, quantity in enumerate(parts):
            day = ships + timedelta(days=n * rng.randint(3, 10))
            plan.setdefault(day, {})[line.id] = quantity
    _ship_and_deliver(rng, staff, order, plan, today)


def _ship_and_deliver(rng, staff, order, plan: dict[date, dict[int, int]], today: date) -> None:
    """One shipment per day with every line leaving that day; each arrives after
    a day or two (now and then one unit short)."""
    arrivals = []
    for day in sorted(plan):
        if day > today:
            break
        for arrives, shipment in [a for a in arrivals if a[0] <= day]:
            _deliver(rng, staff, order, shipment, arrives)
        arrivals = [a for a in arrivals if a[0] > day]
        shipment = _at_day(
            day,
            lambda day=day: shipments.ship(
                staff,
                order,
                plan[day],
                carrier=rng.choice(("DHL Freight", "DB Schenker", "UPS", "Kuehne+Nagel")),
                tracking=f"{rng.randint(10**9, 10**10 - 1)}",
                shipped_on=day,
                today=day,
            ),
        )
        arrivals.append((day + timedelta(days=rng.randint(1, 2)), shipment))
    for arrives, shipment in arrivals:
        if arrives <= today:
            _deliver(rng, staff, order, shipment, arrives)


def _deliver(rng, staff, order, shipment, arrives: date) -> None:
    first = shipment.lines[0]
    short = first.quantity > 2 and rng.random() < 0.04
    received = {first.id: first.quantity - 1} if short else {}
    _at_day(
        arrives,
        lambda: shipments.deliver(
            staff, order, shipment, delivered_on=arrives, received=received, today=arrives
        ),
    )


def _cancellation(rng, staff, order, line, day: date) -> None:
    buyer = order.placed_by
    request = _at_day(
        day,
        lambda: cancellations.request_cancellation(
            buyer, order, line.id, reason="Our project was postponed"
        ),
    )
    accept = rng.random() < 0.7
    _at_day(
        day,
        lambda: cancellations.answer_cancellation(
            staff,
            order,
            request.id,
            accept=accept,
            comment="" if accept else "Already produced to your drawing; we ship as promised.",
            today=day,
        ),
    )


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


@contextmanager
def _played_days():
    """Play the year in one session that keeps what it loaded, dating what the desk writes.

    Each desk action commits, as it does for a person; expiring every loaded order, line
    and shipment at each of those 6,000 commits and reading them back was a fifth of the
    load. Nothing else writes to the database meanwhile, so what the session holds stays
    true. The events and notifications an action writes are dated to the played day as
    they are flushed (`_at_day` says which day): a bulk UPDATE after each action cost
    four statements of every thirty."""
    session = db.session()
    day = session.info[_PLAYED_DAY] = _PlayedDay(
        last_event=session.scalar(select(func.max(OrderEvent.id))) or 0
    )

    def date_new_rows(session, _context, _instances) -> None:
        for row in session.new:
            if isinstance(row, OrderEvent):
                row.at = day.when
            elif isinstance(row, Notification):
                row.created_at = day.when

    def note_last_event(session, _context) -> None:
        for row in session.new:
            if isinstance(row, OrderEvent):
                day.last_event = max(day.last_event, row.id)

    session.expire_on_commit = False
    event.listen(session, "before_flush", date_new_rows)
    event.listen(session, "after_flush", note_last_event)
    try:
        yield
    finally:
        event.remove(session, "after_flush", note_last_event)
        event.remove(session, "before_flush", date_new_rows)
        session.expire_on_commit = True
        del session.info[_PLAYED_DAY]


@dataclass
class _PlayedDay:
    last_event: int  # the newest order event's id: it spreads the actions over the hours
    when: datetime | None = None


_PLAYED_DAY = "portal.demo.played_day"


def _at_day(day: date, action):
    """Run a desk action as if on `day`: its events and notifications are dated to it."""
    played = db.session.info[_PLAYED_DAY]
    played.when = _at(day, 9 + (played.last_event % 8))
    return action()
