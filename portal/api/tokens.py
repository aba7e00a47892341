"""Creating, checking and revoking API tokens.

A token looks like `ptl_` + 43 base62 characters of a random 32-byte secret +
6 base62 characters of the CRC32 of those 43 (as GitHub's tokens carry one): a
secret scanner can tell a real token from a look-alike without asking us, and
a mistyped token is refused before any database look-up.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.audit import service as audit
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.security import scoped

from .models import SCOPES, ApiToken

PREFIX = "ptl_"
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_SECRET_LENGTH = 43  # 62**43 > 2**256: every 32-byte secret fits
_CHECKSUM_LENGTH = 6  # 62**6 > 2**32
TOKEN_PATTERN = re.compile(rf"^{PREFIX}[0-9A-Za-z]{{{_SECRET_LENGTH + _CHECKSUM_LENGTH}}}$")
MAX_DAYS = 366
# Last use is written at most this often per token (and whenever the address changes):
# a write on every read request would serialise reads on SQLite.
LAST_USE_EVERY = timedelta(minutes=1)


def _base62(number: int, width: int) -> str:
    digits = []
    while number:
        number, rest = divmod(number, 62)
        digits.append(_ALPHABET[rest])
    return "".join(reversed(digits)).rjust(width, "0")


def checksum(secret_part: str) -> str:
    """The CRC32 of the random part, in base62, six characters."""
    return _base62(zlib.crc32(secret_part.encode()), _CHECKSUM_LENGTH)


def new_token_text() -> str:
    """A fresh token: prefix, random part, checksum."""
    secret_part = _base62(int.from_bytes(secrets.token_bytes(32)), _SECRET_LENGTH)
    return PREFIX + secret_part + checksum(secret_part)


def looks_valid(text: str) -> bool:
    """Prefix, length, alphabet and checksum are right (what a scanner checks)."""
    if not TOKEN_PATTERN.match(text):
        return False
    body = text[len(PREFIX) :]
    return checksum(body[:_SECRET_LENGTH]) == body[_SECRET_LENGTH:]


def hash_token(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- creating and revoking -----------------------------------------------------------------


def may_manage(admin: User, account_id: int | None) -> bool:
    """Vendor admins manage every account's tokens; a customer admin those of their account."""
    if admin.has_role(Role.ADMIN):
        return True
    return admin.has_role(Role.CUSTOMER_ADMIN) and account_id == admin.account_id


def token_users(admin: User) -> list[User]:
    """The active customer users a token may act as, for this admin."""
    query = (
        scoped(select(User), User, admin)
        .options(joinedload(User.account))
        .where(User.active.is_(True), User.account_id.is_not(None))
        .order_by(User.account_id, User.name)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    text: str  # shown once, never stored


def create(
    admin: User | None,
    *,
    acting_as: User,
    name: str,
    scopes: list[str],
    days: int,
    now: datetime,
    client_address: str | None = None,
) -> CreatedToken:
    """Make a token acting as `acting_as`; `admin` None is the command line."""
    if admin is not None and not may_manage(admin, acting_as.account_id):
        raise NotFound(_("No such user."))
    if acting_as.account_id is None or not acting_as.active:
        raise DomainError("A token acts as an active user of a customer account.", field="user_id")
    name = name.strip()
    if not name:
        raise DomainError(_("Name the token after what uses it."), field="name")
    if len(name) > 100:
        raise DomainError(_("At most 100 characters."), field="name")
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown:
        raise DomainError(
            _("Unknown scope: %(scopes)s.", scopes=", ".join(unknown)), field="scopes"
        )
    if not scopes:
        raise DomainError(_("Choose at least one scope."), field="scopes")
    if not 1 <= days <= MAX_DAYS:
        raise DomainError(f"A token lives 1 to {MAX_DAYS} days.", field="days")
    text = new_token_text()
    token = ApiToken(
        account_id=acting_as.account_id,
        user_id=acting_as.id,
        created_by_id=admin.id if admin else None,
        name=name,
        scopes=" ".join(s for s in SCOPES if s in scopes),
        token_hash=hash_token(text),
        hint=text[: len(PREFIX) + 6],
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "api_token_created",
        actor=admin,
        account_id=token.account_id,
        client_address=client_address,
        target=f"api_token:{token.id}",
        detail={"name": name, "scopes": token.scopes, "acting_as": acting_as.email, "days": days},
    )
    db.session.commit()
    return CreatedToken(token, text)


def tokens_for(admin: User) -> list[ApiToken]:
    """The tokens this admin manages, newest first."""
    return list(
        db.session.scalars(
            scoped(select(ApiToken), ApiToken, admin)
            .options(joinedload(ApiToken.user), joinedload(ApiToken.account))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def revoke(admin: User, token_id: int, now: datetime, client_address: str | None) -> ApiToken:
    """Revoke a token: the very next request with it is refused."""
    token = db.session.scalar(
        scoped(select(ApiToken), ApiToken, admin).where(ApiToken.id == token_id)
    )
    if token is None:
        raise NotFound(_("No such token."))
    if not may_manage(admin, token.account_id):
        raise Forbidden(_("Only an admin of the account can revoke its tokens."))
    if token.revoked_at is None:
        token.revoked_at = now
        token.revoked_by_id = admin.id
        audit.record(
            "api_token_revoked",
            actor=admin,
            account_id=token.account_id,
            client_address=client_address,
            target=f"api_token:{token.id}",
            detail={"name": token.name},
        )
        db.session.commit()
    return token


# --- authenticating --------------------------------------------------------------------------


class TokenRefused(Exception):
    """The token is malformed, unknown, revoked, expired, or its user can no longer act."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def authenticate(text: str, now: datetime) -> ApiToken:
    """The live token for this text, with its user loaded, or TokenRefused."""
    if not looks_valid(text):
        raise TokenRefused("The token is malformed.")
    token = db.session.scalar(
        select(ApiToken)
        .options(
            joinedload(ApiToken.user).selectinload(User.role_rows),
            joinedload(ApiToken.user).joinedload(User.account),
        )
        .where(ApiToken.token_hash == hash_token(text))
    )
    if token is None:
        raise TokenRefused("The token is unknown.")
    if token.revoked_at is not None:
        raise TokenRefused("The token was revoked.")
    if token.expires_at <= now:
        raise TokenRefused("The token has expired.")
    user = token.user
    if not user.active or user.account is None or user.account.status == "closed":
        raise TokenRefused("The token's user can no longer sign in.")
    return token


def needs_last_use_update(token: ApiToken, now: datetime, address: str | None) -> bool:
    return (
        token.last_used_at is None
        or now - token.last_used_at >= LAST_USE_EVERY
        or token.last_used_address != address
    )


def record_use(token: ApiToken, now: datetime, address: str | None) -> None:
    """Keep when and from where the token was last used (the caller commits)."""
    token.last_used_at = now
    token.last_used_address = address
