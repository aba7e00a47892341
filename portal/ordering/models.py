"""Carts, orders, order lines and the events that are their memory."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import Address, CustomerAccount, User
    from portal.catalog.models import Product

Money = Numeric(12, 2)

ORDER_STATUSES = (
    "awaiting_approval",
    "placed",
    "confirmed",
    "partly_shipped",
    "shipped",
    "delivered",
    "rejected",
    "cancelled",
)
# Lazy: shown in the reader's language (the order list's filter, every status badge).
ORDER_STATUS_LABELS = {
    "awaiting_approval": _l("Awaiting approval"),
    "placed": _l("Placed, awaiting confirmation"),
    "confirmed": _l("Confirmed"),
    "partly_shipped": _l("Partly shipped"),
    "shipped": _l("Shipped"),
    "delivered": _l("Delivered"),
    "rejected": _l("Rejected"),
    "cancelled": _l("Cancelled"),
}


def order_status_texts() -> dict[str, str]:
    """ORDER_STATUS_LABELS in the reader's language, translated once: a list page that
    wrote each row's lazy label translated the same eight texts fifty times."""
    return {status: str(label) for status, label in ORDER_STATUS_LABELS.items()}


# open: waiting for the vendor's confirmation; confirmed: promised (shipped and
# delivered quantities say how far it got); declined by the vendor; cancelled.
LINE_STATUSES = ("open", "confirmed", "declined", "cancelled")


class CartLine(db.Model):
    """A line in a user's cart. The cart lives in the database: it survives signing
    out and follows the user to another device.

    A user has their own cart (`cart_name` "") and, while a purchasing system has
    them in a PunchOut session, that session's cart beside it (portal.cxml.punchout
    names it): the PunchOut's choice goes back to the purchasing system and leaves
    the user's own cart as it was."""

    __tablename__ = "cart_line"
    tenant_column = "account_id"
    __table_args__ = (
        UniqueConstraint(
            "user_id", "cart_name", "product_id", name="uq_cart_line_user_cart_product"
        ),
        CheckConstraint("quantity >= 1", name="quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    cart_name: Mapped[str] = mapped_column(String(40), default="", server_default="")
    quantity: Mapped[int]
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship()


class SavedList(db.Model):
    """A named list of products and quantities, saved from a cart and loaded into
    one later. Shared by the account's buyers: a team's standard orders."""

    __tablename__ = "saved_list"
    tenant_column = "account_id"
    __table_args__ = (UniqueConstraint("account_id", "name", name="uq_saved_list_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by: Mapped[User | None] = relationship()
    lines: Mapped[list[SavedListLine]] = relationship(
        cascade="all, delete-orphan", order_by="SavedListLine.position"
    )


class SavedListLine(db.Model):
    __tablename__ = "saved_list_line"
    __table_args__ = (CheckConstraint("quantity >= 1", name="quantity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[int] = mapped_column(
        ForeignKey("saved_list.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"))
    quantity: Mapped[int]

    product: Mapped[Product] = relationship()


class OrderNumberSequence(db.Model):
    """The last order number used in a year: numbers are per year and sequential."""

    __tablename__ = "order_number_sequence"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class Order(db.Model):
    __tablename__ = "customer_order"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"status IN {ORDER_STATUSES}", name="status"),
        # A double click, a retry or a refresh carries the same key: one order.
        UniqueConstraint("account_id", "idempotency_key", name="uq_customer_order_idempotency"),
        Index("ix_customer_order_account_placed", "account_id", "placed_at"),
        Index("ix_customer_order_account_po", "account_id", "po_number"),
        # The desk: orders in one state, oldest first; and every order, newest first.
        Index("ix_customer_order_status_placed", "status", "placed_at"),
        # Every order newest first; and every column the complaint rate reads of the
        # period's orders (service.measures.complaint_counts), read from the index alone.
        Index(
            "ix_customer_order_placed_lines",
            *("placed_at", "account_id", "status", "line_count", "id"),
        ),
        # Also ix_customer_order_po_key on lower(po_number), made by migration 0006:
        # the desk finds orders by the beginning of a PO number, in any case.
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    placed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    status: Mapped[str] = mapped_column(String(20))
    po_number: Mapped[str] = mapped_column(String(50))
    ship_to_id: Mapped[int | None] = mapped_column(ForeignKey("address.id", ondelete="SET NULL"))
    # The address as it was when ordered: later edits of the address do not move goods.
    ship_to_text: Mapped[str] = mapped_column(String(500))
    requested_date: Mapped[date | None]
    notes: Mapped[str] = mapped_column(Text, default="")
    total: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    # How many lines the order has (a confirmation's split parts included), kept by
    # triggers on order_line in the same transaction, whatever writes the lines
    # (migration 0035; a migration rebuilding either table on SQLite drops and remakes
    # them). `kept_by_triggers`: the tests' put_back lets the triggers count it again.
    line_count: Mapped[int] = mapped_column(server_default="0", info={"kept_by_triggers": True})

    account: Mapped[CustomerAccount] = relationship()
    placed_by: Mapped[User] = relationship(foreign_keys=[placed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    ship_to: Mapped[Address | None] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.line_no", cascade="all, delete-orphan"
    )
    events: WriteOnlyMapped[OrderEvent] = relationship(
        back_populates="order", order_by="OrderEvent.id", passive_deletes=True
    )

    @property
    def status_label(self) -> str:
        return str(ORDER_STATUS_LABELS[self.status])

    @property
    def is_open(self) -> bool:
        """Not yet confirmed by the vendor, so the buyer may still cancel."""
        return self.status in ("awaiting_approval", "placed")


class OrderLine(db.Model):
    __tablename__ = "order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_order_line_number"),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint(
            "reserved_quantity >= 0 AND reserved_quantity <= quantity", name="reserved"
        ),
        CheckConstraint(f"status IN {LINE_STATUSES}", name="status"),
        CheckConstraint(
            "shipped_quantity >= 0 AND cancelled_quantity >= 0"
            " AND shipped_quantity + cancelled_quantity <= quantity",
            name="shipped",
        ),
        CheckConstraint(
            "delivered_quantity >= 0 AND delivered_quantity <= shipped_quantity",
            name="delivered",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), index=True
    )
    line_no: Mapped[int]
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    # What was ordered, as it was then.
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Money)
    line_total: Mapped[Decimal] = mapped_column(Money)
    # Taken from stock at submission; the rest comes after the lead time.
    reserved_quantity: Mapped[int] = mapped_column(default=0)
    estimated_ship_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(10), default="open")
    # The vendor's promise: the ship date it confirmed first, and the one that holds now.
    first_promised_on: Mapped[date | None]
    promised_on: Mapped[date | None]
    # Running figures kept with each shipment, delivery and cancellation (the
    # events hold the history; these make checks and lists cheap).
    shipped_quantity: Mapped[int] = mapped_column(default=0)
    delivered_quantity: Mapped[int] = mapped_column(default=0)
    cancelled_quantity: Mapped[int] = mapped_column(default=0)
    # A line split at confirmation ("part now, part later") points to its origin.
    split_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_line.id", ondelete="SET NULL")
    )

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def outstanding(self) -> int:
        """Still to ship: neither shipped nor cancelled."""
        return self.quantity - self.shipped_quantity - self.cancelled_quantity

    @property
    def is_active(self) -> bool:
        return self.status in ("open", "confirmed")

    @property
    def billable_total(self) -> Decimal:
        """The line's value without what was cancelled or declined."""
        if not self.is_active:
            return Decimal("0")
        return self.unit_price * (self.quantity - self.cancelled_quantity)


class OrderEvent(db.Model):
    """Every change of an order or a line: who, when, what, before and after.

    Events that the promise ledger reads carry their figures in columns, not
    only in `detail`: `quantity` (promised, shipped, delivered, cancelled) and
    `on_date` (the promised, ship or delivery date the event is about).
    """

    __tablename__ = "order_event"
    __table_args__ = (
        # The customer's timeline: each kind of the account's events newest first, read
        # until its page is full (home.timeline).
        Index("ix_order_event_account_kind_at", "account_id", "kind", "at", "order_id"),
        # An order's events; and one shipment day of an order (order, kind, day), its
        # newest event found and its events counted from the index alone.
        Index("ix_order_event_group", "order_id", "kind", "on_date", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    # The order's account (an order never changes account): set by record_event, and by
    # a trigger (migration 0037) for an insert that leaves it empty.
    account_id: Mapped[int | None] = mapped_column(ForeignKey("customer_account.id"))
    line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_line.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int | None]
    on_date: Mapped[date | None]
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    order: Mapped[Order] = relationship(back_populates="events")
    line: Mapped[OrderLine | None] = relationship()
    actor: Mapped[User | None] = relationship()
