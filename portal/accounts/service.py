"""Sign-in, sessions, throttling, and managing accounts, addresses and users.

Plain functions with explicit arguments (the acting user, the client address);
no `request` or `current_user` in here. They raise `DomainError` with a message
meant for the person, and leave committing to the function that owns the
transaction: every public function here commits its own work.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Row, delete, func, or_, select, true, update
from sqlalchemy.orm import selectinload

from portal.audit import service as audit
from portal.errors import DomainError, Forbidden
from portal.extensions import db, utcnow
from portal.params import optional_database_int
from portal.security import scoped

from . import passwords
from .models import (
    ACCOUNT_STATUSES,
    PROMISE_BASES,
    Address,
    AuthSession,
    CustomerAccount,
    LoginFailure,
    User,
)
from .roles import CUSTOMER_ROLES, VENDOR_ROLES, Role

GENERIC_SIGN_IN_ERROR = "The e-mail address or password is incorrect."


class SignInRefused(DomainError):
    pass


@dataclass(frozen=True)
class SignedIn:
    user: User
    session_token: str


# --- sign-in and sessions ----------------------------------------------------


def _throttle_keys(email: str, client_address: str | None) -> list[str]:
    keys = [f"email:{email}"]
    if client_address:
        keys.append(f"addr:{client_address}")
    return keys


def _throttled_minutes(email: str, client_address: str | None) -> int | None:
    """Minutes until sign-in may be tried again, or None when not throttled."""
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_WINDOW_MINUTES"])
    since = utcnow() - window
    limits = {
        "email": config["LOGIN_MAX_FAILURES_PER_EMAIL"],
        "addr": config["LOGIN_MAX_FAILURES_PER_ADDRESS"],
    }
    wait = None
    for key in _throttle_keys(email, client_address):
        limit = limits[key.split(":", 1)[0]]
        count, oldest_counted = db.session.execute(
            select(func.count(), func.min(LoginFailure.failed_at)).where(
                LoginFailure.throttle_key == key, LoginFailure.failed_at > since
            )
        ).one()
        if count >= limit:
            # Sliding window: the lock lifts when the oldest counted failure ages out.
            # (min() keeps the column's type, so this is an aware UTC datetime.)
            oldest = oldest_counted
            remaining = (oldest + window - utcnow()).total_seconds()
            minutes = max(1, int(remaining // 60) + 1)
            wait = max(wait or 0, minutes)
    return wait


def _record_failure(email: str, client_address: str | None, user: User | None) -> None:
    window = timedelta(minutes=current_app.config["LOGIN_WINDOW_MINUTES"])
    keys = _throttle_keys(email, client_address)
    # Forget what no longer counts, so the table stays small.
    db.session.execute(
        delete(LoginFailure).where(
            LoginFailure.throttle_key.in_(keys), LoginFailure.failed_at < utcnow() - window
        )
    )
    db.session.add_all(LoginFailure(throttle_key=k) for k in keys)
    audit.record(
        "sign_in_failed",
        actor=user,
        email=email[:254],
        account_id=user.account_id if user else None,
        client_address=client_address,
    )


def sign_in(
    email: str, password: str, *, client_address: str | None, user_agent: str | None = None
) -> SignedIn:
    """Check the credentials and open a sign-in session, or raise SignInRefused."""
    email = email.strip().lower()
    wait = _throttled_minutes(email, client_address)
    if wait is not None:
        audit.record("sign_in_throttled", email=email[:254], client_address=client_address)
        db.session.commit()
        raise SignInRefused(
            "Too many failed sign-in attempts. For your security, sign-in is paused: "
            f"try again in {wait} minute{'s' if wait != 1 else ''}."
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        passwords.burn_verification_time(password)
        ok = False
    else:
        ok = passwords.verify_password(user.password_hash, password)
    if not ok:
        _record_failure(email, client_address, user)
        db.session.commit()
        raise SignInRefused(GENERIC_SIGN_IN_ERROR)
    if not user.active:
        _record_failure(email, client_address, user)
        db.session.commit()
        # Only said after the right password, so it reveals nothing to a guesser.
        raise SignInRefused("This user has been deactivated. Ask your administrator.")
    if user.account and user.account.status == "closed":
        _record_failure(email, client_address, user)
        db.session.commit()
        raise SignInRefused("This customer account is closed. Contact your account manager.")

    db.session.execute(delete(LoginFailure).where(LoginFailure.throttle_key == f"email:{email}"))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    token = _open_session(user, client_address, user_agent)
    audit.record("sign_in", actor=user, client_address=client_address)
    db.session.commit()
    return SignedIn(user, token)


def open_delegated_session(
    user: User, *, client_address: str | None, user_agent: str | None, reason: str
) -> str:
    """Open a sign-in session for a user another system vouched for (a cXML PunchOut
    start URL), without a password; returns the cookie's token. The caller commits."""
    token = _open_session(user, client_address, user_agent)
    audit.record("sign_in", actor=user, client_address=client_address, detail={"via": reason})
    return token


def _open_session(user: User, client_address: str | None, user_agent: str | None) -> str:
    token = secrets.token_urlsafe(32)
    lifetime = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    db.session.add(
        AuthSession(
            user=user,
            token_hash=AuthSession.hash_token(token),
            expires_at=utcnow() + lifetime,
            client_address=client_address,
            user_agent=(user_agent or "")[:255] or None,
        )
    )
    user.current_auth_session_token = token
    return token


def end_session(user: User, *, reason: str = "sign_out", client_address: str | None) -> None:
    """Revoke the sign-in session the user is using now (sign out, idle timeout)."""
    auth_session = user.current_auth_session
    if auth_session is not None and auth_session.revoked_at is None:
        auth_session.revoked_at = utcnow()
        auth_session.revoked_reason = reason
    audit.record(
        "sign_out" if reason == "sign_out" else "session_expired",
        actor=user,
        client_address=client_address,
    )
    db.session.commit()


def revoke_all_sessions(user: User, reason: str) -> int:
    """Revoke every live session of the user; returns how many. The caller commits."""
    live = db.session.scalars(
        select(AuthSession).where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
    ).all()
    now = utcnow()
    for auth_session in live:
        auth_session.revoked_at = now
        auth_session.revoked_reason = reason
    return len(live)


def change_password(
    user: User,
    current_password: str,
    new_password: str,
    *,
    client_address: str | None,
    user_agent: str | None = None,
) -> str:
    """Change the user's own password; ends every session and returns a fresh token.

    Wrong current passwords count as failed sign-ins, so a borrowed session
    cannot be used to guess the password.
    """
    wait = _throttled_minutes(user.email, client_address)
    if wait is not None:
        raise DomainError(
            f"Too many wrong passwords. Try again in {wait} minute{'s' if wait != 1 else ''}.",
            field="current_password",
        )
    if not passwords.verify_password(user.password_hash, current_password):
        _record_failure(user.email, client_address, user)
        db.session.commit()
        raise DomainError(_("The current password is incorrect."), field="current_password")
    if current_password == new_password:
        raise DomainError(
            _("Choose a password different from the current one."), field="new_password"
        )
    problems = passwords.password_problems(new_password, email=user.email, name=user.name)
    if problems:
        raise DomainError(problems[0], field="new_password")
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    revoke_all_sessions(user, "password_changed")
    token = _open_session(user, client_address, user_agent)
    audit.record("password_changed", actor=user, client_address=client_address)
    db.session.commit()
    return token


def reset_password(actor: User | None, user: User, new_password: str) -> None:
    """Set a user's password on their behalf (admin or CLI) and end their sessions."""
    problems = passwords.password_problems(new_password, email=user.email, name=user.name)
    if problems:
        raise DomainError(problems[0], field="password")
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    revoke_all_sessions(user, "password_reset")
    audit.record(
        "password_reset",
        actor=actor,
        account_id=user.account_id,
        target=f"user:{user.id}",
        detail={"user": user.email},
    )
    db.session.commit()


# --- finding accounts and users ----------------------------------------------


def accounts_for(viewer: User) -> list[CustomerAccount]:
    """The accounts the viewer may see, by name: all for vendor staff, their own otherwise."""
    return list(
        db.session.scalars(
            scoped(select(CustomerAccount).order_by(CustomerAccount.name), CustomerAccount, viewer)
        )
    )


def find_accounts(
    viewer: User, *, q: str = "", managed_by_viewer: bool = False
) -> list[CustomerAccount]:
    """Accounts whose name or number contains `q`; optionally only those the viewer manages."""
    query = (
        select(CustomerAccount)
        .options(selectinload(CustomerAccount.account_manager))
        .order_by(CustomerAccount.name)
    )
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(CustomerAccount.name).like(pattern),
                func.lower(CustomerAccount.number).like(pattern),
            )
        )
    if managed_by_viewer:
        query = query.where(CustomerAccount.account_manager_id == viewer.id)
    return list(db.session.scalars(scoped(query, CustomerAccount, viewer)))


def active_user_counts(viewer: User) -> dict[int, int]:
    """Active users per account id, for the accounts the viewer may see."""
    query = (
        select(User.account_id, func.count()).where(User.active.is_(True)).group_by(User.account_id)
    )
    return dict(db.session.execute(scoped(query, User, viewer)).all())


def find_users(viewer: User, *, q: str = "", side: str = "") -> list[User]:
    """Users whose name or e-mail contains `q`; `side` is "vendor", an account id or empty."""
    query = select(User).options(selectinload(User.account)).order_by(User.name)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(func.lower(User.name).like(pattern), User.email.like(pattern)))
    if side == "vendor":
        query = query.where(User.account_id.is_(None))
    elif (account_id := optional_database_int(side)) is not None:
        query = query.where(User.account_id == account_id)
    return list(db.session.scalars(scoped(query, User, viewer)))


# --- accounts and addresses --------------------------------------------------


@cache
def timezone_choices() -> list[str]:
    # available_timezones() walks the tz database on disk: once per process is enough.
    return sorted(tz for tz in available_timezones() if "/" in tz and not tz.startswith("Etc/"))


def _check_timezone(name: str, field: str = "timezone") -> None:
    if name not in available_timezones():
        raise DomainError(_("Choose a time zone from the list."), field=field)


def currency_choices() -> tuple[str, ...]:
    """ISO 4217 codes an account may be priced in: the base currency first."""
    base = current_app.config["CURRENCY"]
    return (base, *(c for c in current_app.config["CURRENCIES"] if c != base))


def language_choices() -> dict[str, str]:
    """Language code -> its name in that language."""
    return dict(current_app.config["LANGUAGES"])


def _check_language(code: str | None, field: str) -> None:
    if code and code not in current_app.config["LANGUAGES"]:
        raise DomainError(_("Choose a language from the list."), field=field)


def set_own_preferences(user: User, *, language: str | None, timezone: str | None) -> User:
    """A person chooses their language and time zone (None: the account's, else the
    browser's language and the vendor's zone)."""
    _check_language(language, "language")
    if timezone:
        _check_timezone(timezone)
    before = {"language": user.language, "timezone": user.timezone}
    user.language = language or None
    user.timezone = timezone or None
    audit.record_change(
        "user_updated",
        actor=user,
        account_id=user.account_id,
        target=f"user:{user.id}",
        before=before,
        after={"language": user.language, "timezone": user.timezone},
    )
    db.session.commit()
    return user


def set_account_preferences(
    actor: User, account: CustomerAccount, *, default_language: str | None, timezone: str
) -> CustomerAccount:
    """The account's admin (or a vendor admin) sets the language of its users who
    have not chosen one, and the account's time zone."""
    if not can_manage_addresses(actor, account):
        raise Forbidden("Only the account's admin can change its settings.")
    _check_language(default_language, "default_language")
    _check_timezone(timezone)
    before = {"default_language": account.default_language, "timezone": account.timezone}
    account.default_language = default_language or None
    account.timezone = timezone
    audit.record_change(
        "account_updated",
        actor=actor,
        account_id=account.id,
        target=f"account:{account.id}",
        before=before,
        after={"default_language": account.default_language, "timezone": account.timezone},
    )
    db.session.commit()
    return account


def _require_vendor_admin(actor: User) -> None:
    if not (actor.is_vendor_staff and actor.has_role(Role.ADMIN)):
        raise Forbidden("Only a vendor admin may do this.")


def _check_account_manager(manager_id: int | None) -> User | None:
    if manager_id is None:
        return None
    manager = db.session.get(User, manager_id)
    if manager is None or not manager.is_vendor_staff or not manager.has_role(Role.ACCOUNT_MANAGER):
        raise DomainError(
            "Choose an account manager from the vendor's staff.", field="account_manager_id"
        )
    return manager


def people_with_role(role: Role, account_id: int | None = None) -> list[User]:
    """The active users holding `role`: of one account, or the vendor's staff (None)."""
    from .models import UserRole

    owner = User.account_id.is_(None) if account_id is None else User.account_id == account_id
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole)
            .where(UserRole.role == role.value, owner, User.active.is_(True))
            .order_by(User.name)
        )
    )


def account_manager_choices() -> list[Row]:
    """Active vendor staff holding the account manager role: (id, name) rows, all a
    choice shows (a `User` would load its roles in a statement of its own)."""
    return list(db.session.execute(_account_managers_statement()))


@cache
def _account_managers_statement():
    """Built once per process (the desk shows the choice on every view)."""
    from .models import UserRole

    return (
        select(User.id, User.name)
        .join(UserRole)
        .where(
            UserRole.role == Role.ACCOUNT_MANAGER.value,
            User.account_id.is_(None),
            User.active.is_(True),
        )
        .order_by(User.name)
    )


def _account_snapshot(account: CustomerAccount) -> dict:
    return {
        "number": account.number,
        "name": account.name,
        "status": account.status,
        "timezone": account.timezone,
        "currency": account.currency,
        "default_language": account.default_language,
        "account_manager_id": account.account_manager_id,
        "promise_basis": account.promise_basis,
    }


def _apply_account_fields(
    account: CustomerAccount,
    *,
    number: str,
    name: str,
    status: str,
    timezone: str,
    account_manager_id: int | None,
    promise_basis: str = "delivery",
    currency: str | None = None,
    default_language: str | None = None,
) -> None:
    number = number.strip().upper()
    currency = (currency or account.currency or current_app.config["CURRENCY"]).upper()
    if currency not in currency_choices():
        raise DomainError(_("Choose a currency from the list."), field="currency")
    _check_language(default_language, "default_language")
    if promise_basis not in PROMISE_BASES:
        raise DomainError("Choose what a promise is measured against.", field="promise_basis")
    if status not in ACCOUNT_STATUSES:
        raise DomainError("Choose a status from the list.", field="status")
    _check_timezone(timezone)
    _check_account_manager(account_manager_id)
    clash = db.session.scalar(
        select(CustomerAccount.id).where(
            CustomerAccount.number == number, CustomerAccount.id != account.id
        )
    )
    if clash is not None:
        raise DomainError(f"Account number {number} is already in use.", field="number")
    account.number = number
    account.name = name.strip()
    account.status = status
    account.timezone = timezone
    account.currency = currency
    account.default_language = default_language or None
    account.account_manager_id = account_manager_id
    account.promise_basis = promise_basis


def create_account(actor: User, **fields) -> CustomerAccount:
    """Create a customer account (vendor admin)."""
    _require_vendor_admin(actor)
    account = CustomerAccount()
    _apply_account_fields(account, **fields)
    db.session.add(account)
    db.session.flush()
    audit.record(
        "account_created",
        actor=actor,
        account_id=account.id,
        target=f"account:{account.id}",
        detail={"after": _account_snapshot(account)},
    )
    db.session.commit()
    return account


def update_account(
    actor: User, account: CustomerAccount, *, handover_reason: str = "", **fields
) -> CustomerAccount:
    """Change a customer account's details (vendor admin); the change is audited.

    Handing the account to another manager is recorded on its own (who, from, to, when,
    why): one person answers for the relationship, so who that was when matters later.
    Moving it from one manager to another needs a reason.
    """
    _require_vendor_admin(actor)
    before = _account_snapshot(account)
    previous_manager = account.account_manager
    _apply_account_fields(account, **fields)
    after = _account_snapshot(account)
    if after["account_manager_id"] != before["account_manager_id"]:
        _record_handover(actor, account, previous_manager, handover_reason)
    if after["status"] == "closed" and before["status"] != "closed":
        # Nobody keeps working in a closed account, not even until the next sign-in.
        for user in account.users:
            revoke_all_sessions(user, "account_closed")
    if after["promise_basis"] != before["promise_basis"]:
        from portal.fulfilment import ledger

        db.session.flush()
        ledger.rebuild([account.id], commit=False)
    audit.record_change(
        "account_updated",
        actor=actor,
        account_id=account.id,
        target=f"account:{account.id}",
        before=before,
        after=after,
    )
    db.session.commit()
    return account


HANDOVER_REASON_MAX = 500


def _record_handover(
    actor: User, account: CustomerAccount, previous: User | None, reason: str
) -> None:
    reason = (reason or "").strip()
    new_manager = _check_account_manager(account.account_manager_id)
    if previous is not None and new_manager is not None and not reason:
        raise DomainError(
            f"Say why {account.name} goes from {previous.name} to {new_manager.name}.",
            field="handover_reason",
        )
    if len(reason) > HANDOVER_REASON_MAX:
        raise DomainError(
            f"Keep the reason under {HANDOVER_REASON_MAX} characters.", field="handover_reason"
        )
    audit.record(
        "account_handed_over",
        actor=actor,
        account_id=account.id,
        target=f"account:{account.id}",
        detail={
            "from_id": previous.id if previous else None,
            "from": previous.name if previous else None,
            "to_id": new_manager.id if new_manager else None,
            "to": new_manager.name if new_manager else None,
            "reason": reason,
        },
    )


def handovers(viewer: User, account: CustomerAccount, limit: int = 20) -> list:
    """Who handed the account from which manager to which, when and why; newest first."""
    if not viewer.is_vendor_staff:
        return []
    return audit.recent_events(
        viewer, account_id=account.id, action="account_handed_over", limit=limit
    )


def can_manage_addresses(actor: User, account: CustomerAccount) -> bool:
    if actor.is_vendor_staff:
        return actor.has_role(Role.ADMIN)
    return actor.account_id == account.id and actor.has_role(Role.CUSTOMER_ADMIN)


ADDRESS_FIELDS = (
    "kind",
    "label",
    "recipient",
    "line1",
    "line2",
    "postal_code",
    "city",
    "region",
    "country",
    "is_default",
)


def save_address(
    actor: User, account: CustomerAccount, address: Address | None, **fields
) -> Address:
    """Create or change an address of the account (vendor admin or its customer admin)."""
    if not can_manage_addresses(actor, account):
        raise Forbidden("You may not change this account's addresses.")
    creating = address is None
    if address is None:
        address = Address(account_id=account.id)
    before = None if creating else {k: getattr(address, k) for k in ADDRESS_FIELDS}
    if fields["kind"] not in ("shipping", "billing"):
        raise DomainError("Choose shipping or billing.", field="kind")
    if fields["is_default"]:
        # One default per use: the new default replaces the old one.
        db.session.execute(
            update(Address)
            .where(
                Address.account_id == account.id,
                Address.kind == fields["kind"],
                Address.id != address.id if address.id else true(),
            )
            .values(is_default=False)
        )
    for key in ADDRESS_FIELDS:
        value = fields[key]
        setattr(address, key, value.strip() if isinstance(value, str) else value)
    address.country = address.country.upper()
    db.session.add(address)
    db.session.flush()
    after = {k: getattr(address, k) for k in ADDRESS_FIELDS}
    audit.record(
        "address_created" if creating else "address_updated",
        actor=actor,
        account_id=account.id,
        target=f"address:{address.id}",
        detail={"before": before, "after": after},
    )
    db.session.commit()
    return address


def delete_address(actor: User, account: CustomerAccount, address: Address) -> None:
    if not can_manage_addresses(actor, account):
        raise Forbidden("You may not change this account's addresses.")
    audit.record(
        "address_deleted",
        actor=actor,
        account_id=account.id,
        target=f"address:{address.id}",
        detail={"before": {"label": address.label, "line": address.one_line}},
    )
    db.session.delete(address)
    db.session.commit()


# --- users -------------------------------------------------------------------


def can_manage_users(actor: User, account_id: int | None) -> bool:
    """Vendor admins manage everyone; a customer admin only their own account's users."""
    if actor.is_vendor_staff:
        return actor.has_role(Role.ADMIN)
    return actor.has_role(Role.CUSTOMER_ADMIN) and account_id == actor.account_id


def assignable_roles(actor: User, account_id: int | None) -> list[Role]:
    """Roles the actor may give to a user of `account_id` (None: vendor staff)."""
    side = VENDOR_ROLES if account_id is None else CUSTOMER_ROLES
    if not actor.is_vendor_staff:
        side = CUSTOMER_ROLES
    return [r for r in Role if r in side]


def _check_roles(actor: User, account_id: int | None, roles) -> set[Role]:
    try:
        wanted = {Role(r) for r in roles}
    except ValueError:
        raise DomainError("Choose roles from the list.", field="roles") from None
    if not wanted:
        raise DomainError("Give the user at least one role.", field="roles")
    allowed = set(assignable_roles(actor, account_id))
    if not wanted <= allowed:
        side = "vendor staff" if account_id is None else "a customer's user"
        raise DomainError(f"These roles cannot be given to {side}.", field="roles")
    return wanted


def _check_email_free(email: str, user_id: int | None) -> str:
    email = email.strip().lower()
    clash = db.session.scalar(select(User.id).where(User.email == email, User.id != user_id))
    if clash is not None:
        raise DomainError("A user with this e-mail address already exists.", field="email")
    return email


def _user_snapshot(user: User) -> dict:
    return {
        "email": user.email,
        "name": user.name,
        "roles": sorted(str(r) for r in user.roles),
        "timezone": user.timezone,
        "active": user.active,
    }


def create_user(
    actor: User | None,
    *,
    email: str,
    name: str,
    roles,
    password: str,
    account_id: int | None,
    timezone: str | None = None,
) -> User:
    """Create a user. `actor` None means the command line, which may do anything."""
    if actor is not None and not can_manage_users(actor, account_id):
        raise Forbidden("You may not create users for this account.")
    if account_id is not None and db.session.get(CustomerAccount, account_id) is None:
        raise DomainError("Choose an account from the list.", field="account_id")
    if actor is None:
        wanted = {Role(r) for r in roles}
        if (
            account_id is not None
            and not wanted <= CUSTOMER_ROLES
            or (account_id is None and not wanted <= VENDOR_ROLES)
        ):
            raise DomainError("Customer users take customer roles; vendor staff take vendor roles.")
    else:
        wanted = _check_roles(actor, account_id, roles)
    email = _check_email_free(email, None)
    if timezone:
        _check_timezone(timezone)
    problems = passwords.password_problems(password, email=email, name=name)
    if problems:
        raise DomainError(problems[0], field="password")
    user = User(
        email=email,
        name=name.strip(),
        account_id=account_id,
        timezone=timezone or None,
        password_hash=passwords.hash_password(password),
        password_changed_at=utcnow(),
    )
    user.roles = wanted
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user_created",
        actor=actor,
        account_id=account_id,
        target=f"user:{user.id}",
        detail={"after": _user_snapshot(user)},
    )
    db.session.commit()
    return user


def update_user(
    actor: User, user: User, *, email: str, name: str, roles, timezone: str | None
) -> User:
    """Change a user's details and roles. The account a user belongs to never changes."""
    if not can_manage_users(actor, user.account_id):
        raise Forbidden("You may not change this user.")
    wanted = _check_roles(actor, user.account_id, roles)
    if user.id == actor.id and actor.roles - wanted & {Role.ADMIN, Role.CUSTOMER_ADMIN}:
        raise DomainError(
            "You cannot take away your own admin role; ask another admin.", field="roles"
        )
    if timezone:
        _check_timezone(timezone)
    before = _user_snapshot(user)
    user.email = _check_email_free(email, user.id)
    user.name = name.strip()
    user.roles = wanted
    user.timezone = timezone or None
    after = _user_snapshot(user)
    audit.record_change(
        "user_updated",
        actor=actor,
        account_id=user.account_id,
        target=f"user:{user.id}",
        before=before,
        after=after,
    )
    db.session.commit()
    return user


def set_active(actor: User, user: User, active: bool) -> User:
    """Deactivate (ending every session at once) or reactivate a user."""
    if not can_manage_users(actor, user.account_id):
        raise Forbidden("You may not change this user.")
    if user.id == actor.id and not active:
        raise DomainError("You cannot deactivate yourself.")
    if user.active == active:
        return user
    user.active = active
    if not active:
        revoke_all_sessions(user, "deactivated")
    audit.record(
        "user_reactivated" if active else "user_deactivated",
        actor=actor,
        account_id=user.account_id,
        target=f"user:{user.id}",
        detail={"user": user.email},
    )
    db.session.commit()
    return user


def set_approval_limit(actor: User, account: CustomerAccount, limit) -> CustomerAccount:
    """The account's own admin (or a vendor admin) sets when orders need approval."""
    if not can_manage_addresses(actor, account):
        raise Forbidden("Only the account's admin can set its approval limit.")
    before = {
        "approval_limit": str(account.approval_limit)
        if account.approval_limit is not None
        else None
    }
    account.approval_limit = limit
    audit.record_change(
        "account_updated",
        actor=actor,
        account_id=account.id,
        target=f"account:{account.id}",
        before=before,
        after={"approval_limit": str(limit) if limit is not None else None},
    )
    db.session.commit()
    return account
