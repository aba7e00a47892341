from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User


class AuditEvent(db.Model):
    """One security-relevant event. Never holds a password, a hash or a token."""

    __tablename__ = "audit_event"
    tenant_column = "account_id"
    __table_args__ = (Index("ix_audit_event_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    action: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # The e-mail as typed or as it was then: kept when the user is unknown or deleted.
    actor_email: Mapped[str | None] = mapped_column(String(254))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_account.id", ondelete="SET NULL")
    )
    client_address: Mapped[str | None] = mapped_column(String(45))
    # What was acted on, e.g. "user:12" or "/accounts/3".
    target: Mapped[str | None] = mapped_column(String(300))
    # Before/after values of a change, or other context.
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()
    account: Mapped[CustomerAccount | None] = relationship()
