"""Shared plans: what one side tells the other it is going to do.

A plan is a thin, long-lived header (who published it, for whom, whether it is
withdrawn). Everything a reader reads — kind, title, text, effective dates,
products and, for the vendor's plans, which accounts may see it — lives in an
immutable revision. A change adds a revision; the plan points at its current
one by number, and acknowledgements ("seen") belong to one revision, so a
changed plan needs to be seen afresh.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
)
from sqlalchemy.orm import Mapped, foreign, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User
    from portal.catalog.models import Product

# kind: (label, which side publishes it)
KINDS: dict[str, tuple[str, frozenset[str]]] = {
    "capacity": (_l("Capacity change"), frozenset({"vendor"})),
    "shutdown": (_l("Planned shutdown"), frozenset({"vendor", "customer"})),
    "new_product": (_l("New product"), frozenset({"vendor"})),
    "discontinuation": (_l("Discontinuation"), frozenset({"vendor"})),
    "lead_time": (_l("Lead-time change"), frozenset({"vendor"})),
    "price": (_l("Price change"), frozenset({"vendor"})),
    "volume": (_l("Volume change"), frozenset({"customer"})),
    "launch": (_l("Product launch"), frozenset({"customer"})),
    "other": (_l("Other"), frozenset({"vendor", "customer"})),
}
# The kinds that change what a buyer can expect of a product: shown on its page
# and in the quick order.
AFFECTING_PRODUCTS = ("shutdown", "lead_time", "discontinuation", "price")
SIDES = ("vendor", "customer")
# "all": every customer account; "chosen": the accounts listed with the revision;
# "vendor": a customer's plan, for the vendor's staff only.
VISIBILITIES = ("all", "chosen", "vendor")
STATUSES = ("active", "withdrawn")


def kinds_for(side: str) -> dict[str, str]:
    return {key: label for key, (label, sides) in KINDS.items() if side in sides}


plan_revision_account = Table(
    "plan_revision_account",
    db.metadata,
    Column("revision_id", ForeignKey("plan_revision.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True),
    # "Which plans may this account see?" reads by account.
    Index("ix_plan_revision_account_account", "account_id", "revision_id"),
)

plan_revision_product = Table(
    "plan_revision_product",
    db.metadata,
    Column("revision_id", ForeignKey("plan_revision.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
    # The product page and the quick order ask "which plans touch these products?".
    Index("ix_plan_revision_product_product", "product_id", "revision_id"),
)


class Plan(db.Model):
    """A plan one side shares with the other. Vendor plans belong to no account
    (`account_id` is None); a customer's plan belongs to its account."""

    __tablename__ = "plan"
    __table_args__ = (
        CheckConstraint(f"side IN {SIDES}", name="side"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        # A customer's plan has its account; the vendor's has none.
        CheckConstraint(
            "(side = 'customer' AND account_id IS NOT NULL) "
            "OR (side = 'vendor' AND account_id IS NULL)",
            name="side_account",
        ),
        Index("ix_plan_account", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    side: Mapped[str] = mapped_column(String(10))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("customer_account.id"))
    status: Mapped[str] = mapped_column(String(10), default="active")
    # The number of the current revision (1 when first published).
    revision_number: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    withdrawal_reason: Mapped[str] = mapped_column(String(500), default="")

    account: Mapped[CustomerAccount | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    current: Mapped[PlanRevision] = relationship(
        primaryjoin=lambda: and_(
            foreign(PlanRevision.plan_id) == Plan.id,
            PlanRevision.number == Plan.revision_number,
        ),
        viewonly=True,
        uselist=False,
    )

    @property
    def reference(self) -> str:
        return f"PL-{self.id:05d}"

    @property
    def is_withdrawn(self) -> bool:
        return self.status == "withdrawn"


class PlanRevision(db.Model):
    """One version of a plan as published; never changed afterwards."""

    __tablename__ = "plan_revision"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        CheckConstraint(f"kind IN {tuple(KINDS)}", name="kind"),
        CheckConstraint(f"visibility IN {VISIBILITIES}", name="visibility"),
        CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from", name="effective_dates"
        ),
        # The board reads by effective date.
        Index("ix_plan_revision_effective", "effective_from", "effective_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    number: Mapped[int]
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    # Rendered and sanitised once, when written.
    body_html: Mapped[str] = mapped_column(Text, default="")
    effective_from: Mapped[date]
    effective_to: Mapped[date | None]
    visibility: Mapped[str] = mapped_column(String(10))
    # What changed, in the reviser's words (empty for the first revision).
    change_note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[Plan] = relationship(foreign_keys=[plan_id])
    created_by: Mapped[User | None] = relationship()
    accounts: Mapped[list[CustomerAccount]] = relationship(
        secondary=plan_revision_account, order_by="CustomerAccount.name"
    )
    products: Mapped[list[Product]] = relationship(
        secondary=plan_revision_product, order_by="Product.sku"
    )

    @property
    def html(self) -> Markup:
        return Markup(self.body_html)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind][0]

    def in_effect_on(self, day: date) -> bool:
        ends = self.effective_to
        return self.effective_from <= day and (ends is None or day <= ends)


class PlanAcknowledgement(db.Model):
    """A reader said they have seen one revision of a plan."""

    __tablename__ = "plan_acknowledgement"
    __table_args__ = (UniqueConstraint("revision_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("plan_revision.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class PlanEvent(db.Model):
    """Every change of a plan: published, revised, withdrawn — who, when, what."""

    __tablename__ = "plan_event"
    __table_args__ = (Index("ix_plan_event_plan", "plan_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(20))
    before: Mapped[str | None] = mapped_column(String(30))
    after: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
