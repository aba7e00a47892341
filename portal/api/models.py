"""API tokens and the stored answers of idempotent API requests."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User

# Every scope a token can carry; later slices of the API (forecasts, service requests)
# check the ones already listed here.
SCOPES = {
    "catalog:read": _l("Read products, contract prices and availability"),
    "orders:read": _l("Read orders"),
    "orders:write": _l("Place and cancel orders"),
    "forecasts:read": _l("Read the forecast draft and published versions"),
    "forecasts:write": _l("Save and publish forecasts"),
    "service:read": _l("Read service requests and their threads"),
    "service:write": _l("Open service requests"),
}


class ApiToken(db.Model):
    """A bearer token that acts as one active user of a customer account.

    Only the SHA-256 of the token is stored: the token is a random 32-byte
    secret, so a fast hash is enough (nothing to guess) and keeps every API
    request cheap. `hint` is the start of the token, to recognise it in a list.
    """

    __tablename__ = "api_token"
    tenant_column = "account_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100))
    # Space-separated, e.g. "catalog:read orders:read".
    scopes: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_address: Mapped[str | None] = mapped_column(String(45))

    account: Mapped[CustomerAccount] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()

    def is_live(self, now: datetime) -> bool:
        return self.revoked_at is None and self.expires_at > now


class ApiIdempotencyKey(db.Model):
    """One `Idempotency-Key` of a creating API request: what was asked, and the answer.

    The row is written (state "running") before the work starts, in its own
    transaction, so a second request with the key finds it: 409 while it runs,
    the stored answer once it is done, 422 when its body differs.
    """

    __tablename__ = "api_idempotency_key"
    tenant_column = "account_id"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_api_idempotency_key_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(64))
    # SHA-256 of the method, path and body.
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10), default="running")
    status_code: Mapped[int | None]
    response_body: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
