"""A notification: a kind and its parameters for one user, with a link to what it is
about; the sentence is written when it is read (portal.notifications.messages)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User


class Notification(db.Model):
    """Something a user should know about, e.g. "Order 2026-000012 was confirmed".

    Owned by one user, not by an account: every query filters by `user_id`, so
    it has no `tenant_column` and cannot go through `security.scoped()`.
    """

    __tablename__ = "notification"
    __table_args__ = (
        # The bell's unread count, and the list page (newest first).
        Index("ix_notification_user_read_at", "user_id", "read_at"),
        Index("ix_notification_user_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # What happened: "order_placed", "order_confirmed", ... It picks the sentence
    # (messages.MESSAGES) and the user's e-mail choice (preferences.KINDS).
    kind: Mapped[str] = mapped_column(String(40))
    # The sentence's parameters (messages.encode): rendered in the reader's language
    # and zone when read. None on rows written before 0030, which show `text`.
    params: Mapped[dict | None] = mapped_column(JSON)
    # The sentence in English as it was written: what a row without parameters, or of
    # a kind this release does not know (a newer one wrote it), shows instead.
    text: Mapped[str] = mapped_column(String(300))
    # A path inside the portal, e.g. /orders/2026-000012 (never an absolute URL).
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


# The ways a user can choose to get the e-mail for one kind of notification. The
# in-app notification is written whatever they choose.
DELIVERY_IMMEDIATE = "immediate"
DELIVERY_DIGEST = "digest"
DELIVERY_NONE = "none"
DELIVERIES = (DELIVERY_IMMEDIATE, DELIVERY_DIGEST, DELIVERY_NONE)

# Outbox states: queued → sending → sent, or failed (kept with the server's answer).
OUTBOX_STATES = ("queued", "sending", "sent", "failed")


class NotificationPreference(db.Model):
    """How one user wants the e-mail for one kind of notification. No row: at once."""

    __tablename__ = "notification_preference"
    __table_args__ = (
        CheckConstraint("delivery IN ('immediate', 'digest', 'none')", name="delivery"),
    )

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10))


class DigestItem(db.Model):
    """A notification waiting for its user's next daily digest e-mail."""

    __tablename__ = "digest_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notification.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    notification: Mapped[Notification] = relationship()


class OutboxMessage(db.Model):
    """One e-mail, written in the transaction of the change it reports and delivered
    by the worker (portal.notifications.outbox).

    The Message-ID is fixed when the row is written, so every attempt (and an
    admin's resend) carries the same one: a receiver can tell a duplicate.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed')", name="state"),
        # The worker's question: which queued rows are due?
        Index("ix_outbox_message_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # The notification kind it reports, or "digest".
    kind: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who holds a 'sending' row, and until when (see outbox.recover_stale_claims).
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The mail server's answer (or the connection error) of the last failed attempt.
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # Temporary failures are retried until then (a day after it was written or resent).
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
