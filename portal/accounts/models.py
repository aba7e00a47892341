"""Customer accounts, their addresses, users with roles, and sign-in sessions."""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.extensions import UTCDateTime, base_currency, db, utcnow

from .roles import Role

ACCOUNT_STATUSES = ("active", "on_hold", "closed")
ACCOUNT_STATUS_LABELS = {"active": _l("Active"), "on_hold": _l("On hold"), "closed": _l("Closed")}
# What the account's terms measure a promise against: the goods arriving, or leaving.
PROMISE_BASES = ("delivery", "shipment")


class CustomerAccount(db.Model):
    """A business customer of the vendor. Everything it owns is scoped to it."""

    __tablename__ = "customer_account"
    # The tenant-scoping helper compares this column with the user's account.
    tenant_column = "id"
    __table_args__ = (
        CheckConstraint(f"status IN {ACCOUNT_STATUSES}", name="status"),
        CheckConstraint(f"promise_basis IN {PROMISE_BASES}", name="promise_basis"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    # The language of its users who have not chosen one ("en", "id"); None: their browser's.
    default_language: Mapped[str | None] = mapped_column(String(8))
    # ISO 4217: what its contract prices, list prices and orders are in. The default
    # (the CURRENCY setting) keeps single-currency installs as they were; the
    # migration fills existing accounts with the setting.
    currency: Mapped[str] = mapped_column(String(3), default=base_currency)
    account_manager_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    # Orders above this total wait for an approver of the account. None: no limit.
    approval_limit: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # A promised date is kept when the goods are delivered (or shipped) by then.
    promise_basis: Mapped[str] = mapped_column(String(10), default="delivery")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account_manager: Mapped[User | None] = relationship(
        foreign_keys=[account_manager_id], back_populates="managed_accounts"
    )
    users: Mapped[list[User]] = relationship(
        foreign_keys="User.account_id", back_populates="account", order_by="User.name"
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="account", order_by="Address.label", cascade="all, delete-orphan"
    )

    @property
    def status_label(self) -> str:
        return str(ACCOUNT_STATUS_LABELS[self.status])

    def __repr__(self) -> str:
        return f"<CustomerAccount {self.number} {self.name!r}>"


class Address(db.Model):
    """A ship-to or bill-to address of a customer account."""

    __tablename__ = "address"
    tenant_column = "account_id"
    __table_args__ = (CheckConstraint("kind IN ('shipping', 'billing')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="shipping")
    label: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(200), default="")
    line1: Mapped[str] = mapped_column(String(200))
    line2: Mapped[str] = mapped_column(String(200), default="")
    postal_code: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100), default="")
    country: Mapped[str] = mapped_column(String(2))
    is_default: Mapped[bool] = mapped_column(default=False)

    account: Mapped[CustomerAccount] = relationship(back_populates="addresses")

    @property
    def one_line(self) -> str:
        parts = [
            self.line1,
            self.line2,
            f"{self.postal_code} {self.city}",
            self.region,
            self.country,
        ]
        return ", ".join(p for p in parts if p and p.strip())


class UserRole(db.Model):
    __tablename__ = "user_role"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class User(UserMixin, db.Model):
    """A person who signs in: vendor staff (no account) or a customer's user."""

    __tablename__ = "user"
    tenant_column = "account_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Stored lower-cased: e-mail addresses are unique regardless of case.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer_account.id", ondelete="RESTRICT"), index=True
    )
    timezone: Mapped[str | None] = mapped_column(String(64))
    # "en", "id"; None: the account's default, else the browser's (portal.i18n).
    language: Mapped[str | None] = mapped_column(String(8))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[CustomerAccount | None] = relationship(
        foreign_keys=[account_id], back_populates="users"
    )
    managed_accounts: Mapped[list[CustomerAccount]] = relationship(
        foreign_keys="CustomerAccount.account_manager_id",
        back_populates="account_manager",
        order_by="CustomerAccount.name",
    )
    role_rows: Mapped[list[UserRole]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    # Set per request by the user loader (not columns): the sign-in session in
    # use and its token, which Flask-Login keeps in the session cookie.
    current_auth_session = None
    current_auth_session_token = None
    # The bell's unread count, read by the user loader in the same statement (None: not read).
    unread_notifications_at_load = None

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return value.strip().lower()

    @property
    def roles(self) -> frozenset[Role]:
        return frozenset(Role(r.role) for r in self.role_rows)

    @roles.setter
    def roles(self, new_roles) -> None:
        wanted = {Role(r) for r in new_roles}
        self.role_rows = [r for r in self.role_rows if Role(r.role) in wanted] + [
            UserRole(role=str(r)) for r in sorted(wanted - self.roles)
        ]

    def has_role(self, *roles: Role | str) -> bool:
        return bool(self.roles & {Role(r) for r in roles})

    @property
    def is_vendor_staff(self) -> bool:
        return self.account_id is None

    @property
    def is_customer(self) -> bool:
        return self.account_id is not None

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str | None:
        # Flask-Login keeps this in the session cookie. It is the sign-in
        # session's token, not the user id, so revoking the session on the
        # server ends it even when an old cookie is replayed.
        return self.current_auth_session_token

    @property
    def role_labels(self) -> list[str]:
        return [r.label for r in sorted(self.roles, key=list(Role).index)]

    def __repr__(self) -> str:
        return f"<User {self.email}>"


class AuthSession(db.Model):
    """One signed-in browser. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    client_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship()

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class LoginFailure(db.Model):
    """A failed sign-in, counted per e-mail and per client address for throttling."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key_at", "throttle_key", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # "email:<address>" or "addr:<ip>"
    throttle_key: Mapped[str] = mapped_column(String(300))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
