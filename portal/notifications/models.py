"""A notification: one sentence for one user, with a link to what it is about."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
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
    # What happened, for code and styling: "order_placed", "order_confirmed", ...
    kind: Mapped[str] = mapped_column(String(40))
    # The sentence shown to the user and used as the e-mail's subject.
    text: Mapped[str] = mapped_column(String(300))
    # A path inside the portal, e.g. /orders/2026-000012 (never an absolute URL).
    link: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
