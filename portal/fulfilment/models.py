"""Shipments, cancellation requests and the promise ledger's daily figures.

Order lines, their promises and the events that record every change live in
`portal.ordering.models`; this area adds what the vendor's desk records.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.ordering.models import Order, OrderLine

# Why a promise moved. "other" needs a text.
# Labels are lazy: the order page and the desk show them in the reader's language.
CHANGE_REASONS = {
    "material": _l("Material shortage"),
    "capacity": _l("Capacity"),
    "transport": _l("Transport"),
    "customer_request": _l("Customer request"),
    "other": _l("Other"),
}
REQUEST_STATUSES = ("pending", "accepted", "declined")


class Shipment(db.Model):
    """Goods that left the vendor: one or more lines of an order, partial allowed.
    Its delivery is recorded on it (date, and the quantity received per line)."""

    __tablename__ = "shipment"
    tenant_column = "account_id"
    __table_args__ = (Index("ix_shipment_order", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    shipped_on: Mapped[date]
    carrier: Mapped[str] = mapped_column(String(80), default="")
    tracking: Mapped[str] = mapped_column(String(100), default="")
    delivered_on: Mapped[date | None]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
    created_by: Mapped[User | None] = relationship()
    lines: Mapped[list[ShipmentLine]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="ShipmentLine.id"
    )


class ShipmentLine(db.Model):
    __tablename__ = "shipment_line"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity"),
        CheckConstraint("from_stock >= 0 AND from_stock <= quantity", name="from_stock"),
        CheckConstraint(
            "received_quantity IS NULL OR (received_quantity >= 0"
            " AND received_quantity <= quantity)",
            name="received",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(
        ForeignKey("shipment.id", ondelete="CASCADE"), index=True
    )
    line_id: Mapped[int] = mapped_column(
        ForeignKey("order_line.id", ondelete="CASCADE"), index=True
    )
    quantity: Mapped[int]
    # How many of the units came out of the line's stock reservation: what a
    # correction takes off the shipment goes back to stock up to this.
    from_stock: Mapped[int] = mapped_column(default=0)
    received_quantity: Mapped[int | None]

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    line: Mapped[OrderLine] = relationship()


class CancellationRequest(db.Model):
    """A buyer asks to cancel a line the vendor already confirmed; the desk answers."""

    __tablename__ = "cancellation_request"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"status IN {REQUEST_STATUSES}", name="status"),
        Index("ix_cancellation_request_status", "status", "requested_at"),
        # One request waiting per line, even when two are sent at once.
        Index(
            "uq_cancellation_request_pending",
            "line_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), index=True
    )
    line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer: Mapped[str | None] = mapped_column(Text)

    line: Mapped[OrderLine] = relationship()
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])


class PromiseLedgerDay(db.Model):
    """The promise ledger's figures per account and first-promise day.

    A projection of the order events, kept in the same transaction as each
    event (see ledger.tracking) and rebuilt from the events on demand: summing
    a few hundred rows per account-year is what keeps the all-accounts ledger
    fast over a million lines. `lines` counts measured lines (promised, not
    cancelled at the customer's request before the promised date); the others
    count those lines that were on time, in full, both; `changes` and
    `slip_days` (how far promises were moved) are sums; `late_lines` counts the
    lines that arrived after their first promise, `late_days` sums how late.
    """

    __tablename__ = "promise_ledger_day"
    __table_args__ = (Index("ix_promise_ledger_day_day", "day"),)

    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    lines: Mapped[int] = mapped_column(default=0)
    on_time: Mapped[int] = mapped_column(default=0)
    in_full: Mapped[int] = mapped_column(default=0)
    on_time_in_full: Mapped[int] = mapped_column(default=0)
    changes: Mapped[int] = mapped_column(default=0)
    slip_days: Mapped[int] = mapped_column(default=0)
    late_lines: Mapped[int] = mapped_column(default=0)
    late_days: Mapped[int] = mapped_column(default=0)
