"""The customer's rating of the relationship, relationship reviews, the customer's
comments on shared reviews, and the reminders of reviews that fell due."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User

TRENDS = {
    "improving": _l("Improving"),
    "stable": _l("Stable"),
    "deteriorating": _l("Deteriorating"),
}


class RelationshipRating(db.Model):
    """A customer user's 1–5 rating of the relationship, with an optional comment.

    Every rating is kept (the history is the point); the latest per account is
    what the relationship signals read (`ratings.latest_ratings`)."""

    __tablename__ = "relationship_rating"
    __table_args__ = (
        CheckConstraint("score BETWEEN 1 AND 5", name="score_1_to_5"),
        Index("ix_relationship_rating_account_rated", "account_id", "rated_at"),
    )
    tenant_column = "account_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class RelationshipReview(db.Model):
    """A review of one account's relationship over a period (a quarter, usually).

    The figures are computed from the other areas when the page is shown (the
    period lies in the past, so they hold still); what is stored is the period
    and the account manager's assessment. Unshared, it is the vendor's alone."""

    __tablename__ = "relationship_review"
    __table_args__ = (
        CheckConstraint("period_start <= period_end", name="period_in_order"),
        Index("ix_relationship_review_account_period", "account_id", "period_end"),
    )
    tenant_column = "account_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    period_start: Mapped[date]
    period_end: Mapped[date]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The assessment: written by the account manager (or a vendor admin).
    trend: Mapped[str | None] = mapped_column(String(20))
    neglected: Mapped[str] = mapped_column(Text, default="")
    comparison: Mapped[str] = mapped_column(Text, default="")
    actions: Mapped[str] = mapped_column(Text, default="")
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    assessed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    account: Mapped[CustomerAccount] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assessed_by: Mapped[User | None] = relationship(foreign_keys=[assessed_by_id])
    shared_by: Mapped[User | None] = relationship(foreign_keys=[shared_by_id])
    comments: Mapped[list[ReviewComment]] = relationship(
        back_populates="review", order_by="ReviewComment.id", cascade="all, delete-orphan"
    )

    @property
    def is_shared(self) -> bool:
        return self.shared_at is not None

    @property
    def trend_label(self) -> str:
        return TRENDS.get(self.trend or "", _l("Not assessed yet"))


class ReviewComment(db.Model):
    """The customer's comment on a review shared with it."""

    __tablename__ = "review_comment"
    tenant_column = "account_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(
        ForeignKey("relationship_review.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    review: Mapped[RelationshipReview] = relationship(back_populates="comments")
    author: Mapped[User | None] = relationship()


class ReviewReminder(db.Model):
    """That the account manager was reminded of the review due for a period: one
    row per account and period, so the daily job reminds once per due review."""

    __tablename__ = "review_reminder"

    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True
    )
    period_start: Mapped[date] = mapped_column(primary_key=True)
    reminded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
