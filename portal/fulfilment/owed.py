"""What the desk owes a set of accounts right now, for pages that gather an account's
promises in one place (the contact area's "everything promised"). Set-based: a fixed
number of statements whatever the number of accounts or lines. The statements are
built once per process with the accounts and dates bound per call: the desk's home
runs both on every view, and building them cost more than running them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from sqlalchemy import Date, Select, bindparam, case, literal_column, select

from portal.accounts.models import CustomerAccount
from portal.extensions import db
from portal.ordering.models import Order, OrderLine

# A promise falling due within this many days, with goods still to go, is at risk.
AT_RISK_DAYS = 3


@dataclass(frozen=True)
class WaitingOrder:
    account_id: int
    number: str
    placed_at: datetime
    requested_date: date | None
    po_number: str


@dataclass(frozen=True)
class OpenLine:
    account_id: int
    order_number: str
    line_no: int
    sku: str
    name: str
    outstanding: int
    promised_on: date
    first_promised_on: date | None

    def state(self, today: date) -> str:
        """'late', 'at_risk' or 'on_track'."""
        if self.promised_on < today:
            return "late"
        if self.promised_on <= today + timedelta(days=AT_RISK_DAYS):
            return "at_risk"
        return "on_track"

    @property
    def changed(self) -> bool:
        return self.first_promised_on is not None and self.promised_on != self.first_promised_on


def _values(account_ids: Iterable[int] | None) -> tuple[bool, dict]:
    if account_ids is None:
        return False, {}
    return True, {"account_ids": list(account_ids)}


def waiting_orders(account_ids: Iterable[int] | None) -> list[WaitingOrder]:
    """Orders placed and not yet confirmed by the desk, oldest first (one statement);
    `account_ids` None: every account's (the desk's home page)."""
    scoped, values = _values(account_ids)
    # On the session's connection: rows of columns need none of the ORM's handling.
    rows = db.session.connection().execute(_waiting_statement(scoped), values)
    return [WaitingOrder(*row) for row in rows]


@cache
def _waiting_statement(scoped: bool) -> Select:
    query = (
        select(
            Order.account_id, Order.number, Order.placed_at, Order.requested_date, Order.po_number
        )
        .where(Order.status == "placed")
        .order_by(Order.placed_at, Order.id)
    )
    if scoped:
        query = query.where(Order.account_id.in_(bindparam("account_ids", expanding=True)))
    return query


def open_lines(
    account_ids: Iterable[int] | None, today: date, *, changed: bool = True
) -> list[OpenLine]:
    """Confirmed lines whose promise is still to be kept and that are late, at risk, or
    whose promise was moved; nearest promise first (one statement).

    Still to be kept: not yet shipped (accounts measured on shipment) or not yet
    delivered (measured on delivery), less what was cancelled. `account_ids` None:
    every account's; `changed` False leaves out moved promises not yet due or late.
    """
    scoped, values = _values(account_ids)
    values["due_by"] = today + timedelta(days=AT_RISK_DAYS)
    rows = db.session.connection().execute(_open_lines_statement(scoped, changed), values)
    return [OpenLine(*row) for row in rows]


@cache
def _open_lines_statement(scoped: bool, changed: bool) -> Select:
    done = case(
        (CustomerAccount.promise_basis == "shipment", OrderLine.shipped_quantity),
        else_=OrderLine.delivered_quantity,
    )
    outstanding = OrderLine.quantity - OrderLine.cancelled_quantity - done
    due_soon = OrderLine.promised_on <= bindparam("due_by", type_=Date)
    query = (
        select(
            Order.account_id,
            Order.number,
            OrderLine.line_no,
            OrderLine.sku,
            OrderLine.name,
            outstanding,
            OrderLine.promised_on,
            OrderLine.first_promised_on,
        )
        .join(Order, OrderLine.order_id == Order.id)
        .join(CustomerAccount, CustomerAccount.id == Order.account_id)
        .where(
            # The status written out and the lines not yet delivered in full (implied by
            # goods still to go, as none is delivered before it ships): the terms of
            # ix_order_line_still_due, so the lines due by a day are read from that
            # index, not by scanning every line (the desk's home: 0.57 -> 0.1 ms).
            OrderLine.status == literal_column("'confirmed'"),
            OrderLine.delivered_quantity < OrderLine.quantity,
            OrderLine.promised_on.is_not(None),
            outstanding > 0,
            (due_soon | (OrderLine.promised_on != OrderLine.first_promised_on))
            if changed
            else due_soon,
        )
        .order_by(OrderLine.promised_on, Order.number, OrderLine.line_no)
    )
    if scoped:
        query = query.where(Order.account_id.in_(bindparam("account_ids", expanding=True)))
    return query
