"""What relationship health keeps: the admins' weights and thresholds per signal,
one snapshot per account and day, and the red episodes that alerted someone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import UTCDateTime, db, utcnow


class SignalSetting(db.Model):
    """A vendor admin's weight and thresholds for one signal (no row: the defaults)."""

    __tablename__ = "relationship_signal_setting"

    signal: Mapped[str] = mapped_column(String(30), primary_key=True)
    weight: Mapped[int]
    amber: Mapped[float]
    red: Mapped[float]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Snapshot(db.Model):
    """One account's health on one day: score, status and every signal (value,
    baseline, status, reason) as computed from the events up to that day."""

    __tablename__ = "relationship_snapshot"
    tenant_column = "account_id"
    __table_args__ = (UniqueConstraint("account_id", "day", name="uq_relationship_snapshot_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), index=True
    )
    day: Mapped[date] = mapped_column(index=True)
    score: Mapped[int]
    status: Mapped[str] = mapped_column(String(10))
    # {signal: {"value", "baseline", "status", "reason", "figure"}}
    signals: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Episode(db.Model):
    """A time an account, or one of its signals ("account" or the signal's key), was
    red: its manager is told once when it starts; it ends when it is no longer red."""

    __tablename__ = "relationship_episode"
    tenant_column = "account_id"
    __table_args__ = (Index("ix_relationship_episode_open", "account_id", "subject", "ended_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(30))
    # The English sentence (what older rows have, and what people searching read) and,
    # beside it, the message each reader reads in their language (phrases.stored).
    reason: Mapped[str] = mapped_column(String(500), default="")
    reason_message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    started_on: Mapped[date]
    ended_on: Mapped[date | None]
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )
    next_step: Mapped[str] = mapped_column(String(500), default="")
    next_step_message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def is_open(self) -> bool:
        return self.ended_on is None


# --- indexes on other areas' tables that only relationship health reads this way ---------
# The daily refresh reads every account's messages of 24 months grouped by account: a
# covering index lets it read them from the index alone (1,000,000 suggestion messages:
# 11 s → 0.5 s on SQLite). The partial index holds only the lines still due, so "late
# now" reads those few instead of every line ever ordered.


def _other_areas_indexes() -> None:
    from portal.ideas.models import IdeaMessage
    from portal.ordering.models import OrderLine
    from portal.service.models import ServiceMessage

    Index(
        "ix_idea_message_relationship",
        IdeaMessage.idea_id,
        IdeaMessage.created_at,
        IdeaMessage.internal,
        IdeaMessage.author_id,
    )
    Index(
        "ix_service_message_relationship",
        ServiceMessage.request_id,
        ServiceMessage.created_at,
        ServiceMessage.internal,
        ServiceMessage.author_id,
    )
    # Not fully delivered (a superset of "not done"; SQLite matches a partial index's
    # terms only when written the same way, and never an arithmetic one).
    due = (OrderLine.status == literal_column("'confirmed'")) & (
        OrderLine.delivered_quantity < OrderLine.quantity
    )
    Index(
        "ix_order_line_still_due",
        OrderLine.promised_on,
        sqlite_where=due,
        postgresql_where=due,
    )


_other_areas_indexes()
