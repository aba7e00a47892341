"""Writing and reading the audit trail."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import joinedload

from portal.extensions import begin_writing, db
from portal.security import scoped

from .models import AuditEvent

if TYPE_CHECKING:
    from portal.accounts.models import User

log = logging.getLogger("portal.audit")

# How often a refusal's audit row is tried before it goes to the error log instead.
AUDIT_WRITE_ATTEMPTS = 3

ACTION_LABELS = {
    "sign_in": _l("Signed in"),
    "sign_in_failed": _l("Sign-in failed"),
    "sign_in_throttled": _l("Sign-in refused (too many failures)"),
    "sign_out": _l("Signed out"),
    "session_expired": _l("Session expired"),
    "password_changed": _l("Password changed"),
    "password_reset": _l("Password reset by admin"),
    "access_denied": _l("Access denied"),
    "account_created": _l("Account created"),
    "account_updated": _l("Account updated"),
    "account_handed_over": _l("Account handed to another manager"),
    "address_created": _l("Address added"),
    "address_updated": _l("Address updated"),
    "address_deleted": _l("Address removed"),
    "user_created": _l("User created"),
    "user_updated": _l("User updated"),
    "user_deactivated": _l("User deactivated"),
    "user_reactivated": _l("User reactivated"),
    "product_created": _l("Product created"),
    "product_updated": _l("Product updated"),
    "products_imported": _l("Products imported"),
    "contract_price_added": _l("Contract price added"),
    "contract_price_removed": _l("Contract price removed"),
    "contract_prices_imported": _l("Contract prices imported"),
    "mail_resent": _l("E-mail resent"),
    "job_retried": _l("Background job retried"),
    "service_hours_changed": _l("Service hours changed"),
    "service_holiday_added": _l("Service holiday added"),
    "service_holiday_removed": _l("Service holiday removed"),
    "service_holidays_imported": _l("Service holidays imported"),
    "service_target_set": _l("Account's service promise set"),
    "service_target_removed": _l("Account's service promise removed"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
    "api_order_placed": _l("Order placed through the API"),
    "api_order_cancelled": _l("Order cancelled through the API"),
    "api_order_line_cancelled": _l("Order line cancelled through the API"),
    "api_cancellation_requested": _l("Line cancellation asked for through the API"),
    "api_forecast_draft_replaced": _l("Forecast draft replaced through the API"),
    "api_forecast_published": _l("Forecast published through the API"),
    "api_service_request_opened": _l("Service request opened through the API"),
    "cxml_credentials_saved": _l("cXML credentials of an account saved"),
    "cxml_order_placed": _l("Order placed through cXML"),
    "cxml_order_linked": _l("Order from an earlier cXML attempt linked"),
    "punchout_started": _l("PunchOut session opened"),
    "punchout_returned": _l("PunchOut cart returned to the purchasing system"),
}


def record(action: str, **columns: Any) -> AuditEvent:
    """Add an audit event to the current transaction; the caller commits it.

    `columns` are `_values`'s keywords: actor, email, account_id, client_address,
    target, detail.
    """
    event = AuditEvent(**_values(action, **columns))
    db.session.add(event)
    return event


def _values(
    action: str,
    *,
    actor: User | None = None,
    email: str | None = None,
    account_id: int | None = None,
    client_address: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The columns of an event, read from the actor now (before any rollback expires it)."""
    if action not in ACTION_LABELS:
        raise ValueError(f"unknown audit action {action!r}")
    return {
        "action": action,
        "actor_id": actor.id if actor else None,
        "actor_email": email if email is not None else (actor.email if actor else None),
        "account_id": account_id
        if account_id is not None
        else (actor.account_id if actor else None),
        "client_address": client_address,
        "target": target,
        "detail": detail,
    }


def record_change(
    action: str,
    *,
    before: dict[str, Any],
    after: dict[str, Any],
    **kwargs: Any,
) -> AuditEvent | None:
    """Record only the fields that changed, as before/after; nothing when none did."""
    changed = [key for key in after if before.get(key) != after[key]]
    if not changed:
        return None
    detail = {
        "before": {key: before.get(key) for key in changed},
        "after": {key: after[key] for key in changed},
    }
    return record(action, detail=detail, **kwargs)


def record_alone(action: str, **kwargs: Any) -> None:
    """Record an event in a transaction of its own, for requests that change nothing else.

    Used for failures and denials, which happen in requests that only read:
    whatever the request had started is rolled back, and the event is written
    in a transaction that holds the write lock from its start (on SQLite a read
    transaction that later writes fails when anyone else wrote meanwhile).
    Never raises: the refusal the caller is about to answer must not become a
    server error. A write that still fails is retried, and after the last try
    the event goes to the error log in full rather than vanishing.
    """
    event_values = _values(action, **kwargs)
    for attempt in range(1, AUDIT_WRITE_ATTEMPTS + 1):
        begin_writing()
        try:
            db.session.add(AuditEvent(**event_values))
            db.session.commit()
            return
        except OperationalError as error:
            db.session.rollback()
            log.warning("audit event %s not written (try %d): %s", action, attempt, error)
    log.error("audit event lost after %d tries: %s", AUDIT_WRITE_ATTEMPTS, event_values)


def recent_events(
    viewer: User,
    *,
    account_id: int | None = None,
    action: str | None = None,
    actions: tuple[str, ...] | None = None,
    limit: int = 100,
) -> list[AuditEvent]:
    """The newest events the viewer may see, optionally for one account or action."""
    query = scoped(select(AuditEvent), AuditEvent, viewer)
    if account_id is not None:
        query = query.where(AuditEvent.account_id == account_id)
    if action:
        query = query.where(AuditEvent.action == action)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    from portal.accounts.models import User

    query = (
        query.options(joinedload(AuditEvent.actor).lazyload(User.role_rows))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))
