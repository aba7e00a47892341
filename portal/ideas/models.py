"""Suggestions, the products they concern, their thread and their events."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Numeric,
    String,
    Table,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User
    from portal.catalog.models import Product

CATEGORIES = {
    "design": _l("Design"),
    "material": _l("Material"),
    "process": _l("Manufacturing process"),
    "packaging": _l("Packaging"),
    "logistics": _l("Logistics"),
    "documentation": _l("Documentation"),
    "other": _l("Other"),
}
# A suggestion the vendor's engineers submitted, while it waits for the customer's answer.
PROPOSED = _l("Proposed")
STATUSES = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "under_review": _l("Under review"),
    "needs_information": _l("Needs information"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "planned": _l("Planned"),
    "implemented": _l("Implemented"),
    "merged": _l("Merged"),  # a duplicate, merged into another suggestion
}
# Where a suggestion waits for the vendor's first answer.
OPEN_STATUSES = ("submitted", "under_review", "needs_information")
Money = Numeric(12, 2)

idea_product = Table(
    "idea_product",
    db.metadata,
    Column("idea_id", ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True),
    Column("product_id", ForeignKey("product.id", ondelete="CASCADE"), primary_key=True),
)


class Idea(db.Model):
    """A suggestion: from a customer to the vendor, or proposed by a vendor
    engineer to a customer. Confidential: its account's users and vendor staff."""

    __tablename__ = "idea"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"status IN {tuple(STATUSES)}", name="status"),
        CheckConstraint(f"category IN {tuple(CATEGORIES)}", name="category"),
        CheckConstraint("direction IN ('customer', 'vendor')", name="direction"),
        Index("ix_idea_account_activity", "account_id", "last_activity_at"),
        Index("ix_idea_status_due", "status", "direction", "answer_due_on"),
        # The queue: unanswered first, by promised date; everything by latest activity.
        Index("ix_idea_queue", "first_answered_at", "answer_due_on"),
        Index("ix_idea_activity", "last_activity_at"),
        # Partial: almost no suggestion is merged, and a full index of NULLs made
        # SQLite's planner (after ANALYZE) scan the table instead of using it.
        Index(
            "ix_idea_merged_into",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    # "customer": the customer suggests; "vendor": an engineer proposes to the customer.
    direction: Mapped[str] = mapped_column(String(10), default="customer")
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")  # Markdown
    category: Mapped[str] = mapped_column(String(20))
    expected_saving: Mapped[Decimal | None] = mapped_column(Money)  # per year
    expected_benefit: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The promised first answer: submitted plus the vendor's business days.
    answer_due_on: Mapped[date | None]
    first_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    realised_saving: Mapped[Decimal | None] = mapped_column(Money)  # per year, once implemented
    # A duplicate points at the suggestion it was merged into; its thread stays readable.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("idea.id", ondelete="SET NULL"))

    account: Mapped[CustomerAccount] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    products: Mapped[list[Product]] = relationship(secondary=idea_product, order_by="Product.sku")
    merged_into: Mapped[Idea | None] = relationship(remote_side=[id])

    @property
    def reference(self) -> str:
        return f"S-{self.id:05d}"

    @property
    def status_label(self) -> str:
        if self.direction == "vendor" and self.status == "submitted":
            return PROPOSED  # waiting for the customer's answer
        return STATUSES[self.status]

    @property
    def category_label(self) -> str:
        return CATEGORIES[self.category]

    @property
    def waits_for_answer(self) -> bool:
        return self.status in OPEN_STATUSES and self.first_answered_at is None


class IdeaFollower(db.Model):
    """Someone who is told about a suggestion's answers and status changes.

    Authors, posters and the engineer in charge follow without asking; anyone
    who may see the suggestion can follow or stop following it."""

    __tablename__ = "idea_follower"
    __table_args__ = (Index("ix_idea_follower_user", "user_id"),)

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("idea.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class IdeaMessage(db.Model):
    """One post in a suggestion's thread. Internal notes are for vendor staff only."""

    __tablename__ = "idea_message"
    __table_args__ = (
        CheckConstraint("kind IN ('message', 'question', 'answer', 'note')", name="kind"),
        Index("ix_idea_message_idea", "idea_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # message (either side), question / answer (vendor to customer), note (internal)
    kind: Mapped[str] = mapped_column(String(10), default="message")
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)  # Markdown
    # The body rendered and sanitised once, when written: a long thread is
    # shown without parsing hundreds of messages on every view.
    body_html: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()

    @property
    def html(self) -> Markup:
        return Markup(self.body_html)


class IdeaEvent(db.Model):
    """Every change of a suggestion: who, when, what, before and after."""

    __tablename__ = "idea_event"
    __table_args__ = (Index("ix_idea_event_idea", "idea_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("idea.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    before: Mapped[str | None] = mapped_column(String(30))
    after: Mapped[str | None] = mapped_column(String(30))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
