"""Confirming an order at the desk: a promised date per line (or two, the line
split; or a decline with a reason), and changing a promise later, always with a
reason kept beside the old and the new date.

Every change writes order events and keeps the promise ledger in step
(`ledger.tracking`). Of two staff confirming one order at once, exactly one
applies (a conditional UPDATE) and the other is told why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.errors import DomainError
from portal.extensions import db
from portal.ordering.models import Order, OrderEvent, OrderLine
from portal.ordering.service import lock_order, record_event, release_reservation

from . import ledger
from .models import CHANGE_REASONS
from .service import (
    lock_check,
    notify_buyer,
    order_line,
    placed_on,
    refresh_status,
    require_desk,
)


def proposed_promise(line: OrderLine, today: date) -> date:
    """The date to pre-fill: the ship date estimated at ordering (or what stock
    and lead time allow from today, once that has passed), plus the transit
    time when the account's terms measure promises on delivery."""
    dispatch = current_app.config["DISPATCH_DAYS_FROM_STOCK"]
    if line.estimated_ship_date >= today:
        ships = line.estimated_ship_date
    elif line.reserved_quantity >= line.quantity:
        ships = today + timedelta(days=dispatch)
    else:
        ships = today + timedelta(days=max(line.product.lead_time_days, dispatch))
    if line.order.account.promise_basis == "delivery":
        return ships + timedelta(days=current_app.config["TRANSIT_DAYS"])
    return ships


@dataclass(frozen=True)
class LineDecision:
    line_id: int
    promised_on: date | None = None
    # Part later: this many of the line get a second promise.
    later_quantity: int | None = None
    later_promised_on: date | None = None
    decline_reason: str = ""


def _check_promise(label: str, promised_on: date | None, order: Order, today: date) -> date:
    if promised_on is None:
        raise DomainError(f"{label}: enter the promised ship date.")
    if promised_on < today:
        raise DomainError(f"{label}: a promise cannot be in the past ({promised_on:%d %b %Y}).")
    if promised_on < placed_on(order):
        raise DomainError(f"{label}: the date is before the order was placed.")
    if promised_on > today + timedelta(days=730):
        raise DomainError(f"{label}: that date is more than two years ahead.")
    return promised_on


def confirm(user: User, order: Order, decisions: list[LineDecision], today: date) -> Order:
    """Confirm every open line of a placed order: a promised ship date, or two
    (part now, part later: the line is split), or a decline with a reason."""
    require_desk(user)
    lock_order(order)
    if order.status != "placed":
        raise DomainError(
            f"Order {order.number} is {order.status_label.lower()}: nothing to confirm."
        )
    open_lines = [line for line in order.lines if line.status == "open"]
    wanted = {decision.line_id: decision for decision in decisions}
    plan = []
    for line in open_lines:
        decision = wanted.get(line.id)
        label = f"Line {line.line_no} ({line.sku})"
        if decision is None:
            raise DomainError(f"{label}: give it a promise or decline it.")
        reason = decision.decline_reason.strip()
        if reason:
            plan.append((line, None, None, None, reason[:500]))
            continue
        promised = _check_promise(label, decision.promised_on, order, today)
        later = decision.later_quantity or 0
        later_date = None
        if later:
            if not 0 < later < line.quantity:
                raise DomainError(
                    f"{label}: the later part must be between 1 and {line.quantity - 1}."
                )
            later_date = _check_promise(
                f"{label}, later part", decision.later_promised_on, order, today
            )
            if later_date < promised:
                raise DomainError(
                    f"{label}: the later part cannot be promised before the first "
                    f"({later_date:%d %b %Y} is before {promised:%d %b %Y})."
                )
        plan.append((line, promised, later, later_date, ""))
    # Of two people confirming at once, one claims the order; the other is told.
    lock_check(
        db.session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == "placed")
            .values(status="confirmed")
            .execution_options(synchronize_session=False)
        ).rowcount,
        f"Order {order.number} was confirmed a moment ago by someone else.",
    )
    with ledger.tracking(order):
        next_no = max(line.line_no for line in order.lines) + 1
        for line, promised, later, later_date, reason in plan:
            if reason:
                line.status = "declined"
                release_reservation(line)
                record_event(
                    order, user, "line_declined", line, quantity=line.quantity, reason=reason
                )
                continue
            if later:
                part = _split(order, line, later, next_no)
                next_no += 1
                record_event(order, user, "line_split", line, new_line_no=part.line_no, moved=later)
                _promise(order, user, part, later_date)
            _promise(order, user, line, promised)
        refresh_status(order)
        kept = sum(1 for item in plan if not item[4])
        record_event(order, user, "order_confirmed", confirmed=kept, declined=len(plan) - kept)
    notify_buyer(
        order,
        user,
        "order_confirmed",
        {"date": _earliest_promise(order) if kept else None},
    )
    db.session.commit()
    return order


def _split(order: Order, line: OrderLine, later: int, line_no: int) -> OrderLine:
    """Move `later` units of the line into a new line; reserved stock stays with
    the part that ships first."""
    line.quantity -= later
    line.line_total = line.unit_price * line.quantity
    part = OrderLine(
        line_no=line_no,
        product_id=line.product_id,
        sku=line.sku,
        name=line.name,
        unit=line.unit,
        quantity=later,
        unit_price=line.unit_price,
        line_total=line.unit_price * later,
        reserved_quantity=max(0, line.reserved_quantity - line.quantity),
        estimated_ship_date=line.estimated_ship_date,
        split_from_id=line.id,
    )
    line.reserved_quantity = min(line.reserved_quantity, line.quantity)
    order.lines.append(part)
    db.session.flush()
    return part


def _promise(order: Order, user: User, line: OrderLine, promised_on: date) -> None:
    line.status = "confirmed"
    line.first_promised_on = line.promised_on = promised_on
    record_event(order, user, "confirmed", line, quantity=line.quantity, on_date=promised_on)


def _earliest_promise(order: Order) -> date:
    return min(line.promised_on for line in order.lines if line.promised_on)


# --- changing a promise -------------------------------------------------------------------


def change_promise(
    user: User,
    order: Order,
    line_id: int,
    *,
    new_date: date | None,
    reason: str,
    text: str,
    today: date,
) -> OrderLine:
    """Move a line's promise. The reason is required, kept with the old and new date."""
    require_desk(user)
    lock_order(order)
    line = order_line(order, line_id)
    label = f"Line {line.line_no} ({line.sku})"
    if line.status != "confirmed" or line.outstanding <= 0:
        raise DomainError(f"{label} has nothing left to ship: its promise cannot change.")
    if reason not in CHANGE_REASONS:
        raise DomainError("Choose the reason for the change.", field="reason")
    text = text.strip()[:500]
    if reason == "other" and not text:
        raise DomainError("Say what the other reason is.", field="text")
    new_date = _check_promise(label, new_date, order, today)
    if new_date == line.promised_on:
        raise DomainError(f"{label} is already promised for {new_date:%d %b %Y}.", field="new_date")
    before = line.promised_on
    with ledger.tracking(order):
        line.promised_on = new_date
        record_event(
            order,
            user,
            "promise_changed",
            line,
            on_date=new_date,
            before=before.isoformat(),
            after=new_date.isoformat(),
            reason=reason,
            text=text,
        )
    notify_buyer(
        order,
        user,
        "promise_changed",
        {
            "line": line.line_no,
            "sku": line.sku,
            "date": new_date,
            "before": before,
            "reason": CHANGE_REASONS[reason],
        },
    )
    db.session.commit()
    return line


# --- reading promises ---------------------------------------------------------------------


@cache
def _promise_events():
    """Built once per process (the order page shows them on every view)."""
    return (
        select(OrderEvent)
        .where(
            OrderEvent.order_id == bindparam("order_id"),
            OrderEvent.kind.in_(sorted(PROMISE_KINDS)),
        )
        .options(joinedload(OrderEvent.actor))
        .order_by(OrderEvent.id)
    )


def promise_history(order: Order) -> dict[int, list[OrderEvent]]:
    """Each line's promise events (first promise, then every change), oldest first."""
    return promise_history_of(db.session.scalars(_promise_events(), {"order_id": order.id}))


PROMISE_KINDS = frozenset({"confirmed", "promise_changed"})


def promise_history_of(events: Iterable[OrderEvent]) -> dict[int, list[OrderEvent]]:
    """`promise_history` from the order's events already read (any kinds, oldest first)."""
    history: dict[int, list[OrderEvent]] = {}
    for event in events:
        if event.kind in PROMISE_KINDS:
            history.setdefault(event.line_id, []).append(event)
    return history
