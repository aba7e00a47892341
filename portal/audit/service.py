"""Writing and reading the audit trail."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

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
    "sign_in": "Signed in",
    "sign_in_failed": "Sign-in failed",
    "sign_in_throttled": "Sign-in refused (too many failures)",
    "sign_out": "Signed out",
    "session_expired": "Session expired",
    "password_changed": "Password changed",
    "password_reset": "Password reset by admin",
    "access_denied": "Access denied",
    "account_created": "Account created",
    "account_updated": "Account updated",
    "account_handed_over": "Account handed to another manager",
    "address_created": "Address added",
    "address_updated": "Address updated",
    "address_deleted": "Address removed",
    "user_created": "User created",
    "user_updated": "User updated",
    "user_deactivated": "User deactivated",
    "user_reactivated": "User reactivated",
    "product_created": "Product created",
    "product_updated": "Product updated",
    "products_imported": "Products imported",
    "contract_price_added": "Contract price added",
    "contract_price_removed": "Contract price removed",
    "contract_prices_imported": "Contract prices imported",
    "mail_resent": "E-mail resent",
    "job_retried": "Background job retried",
    "service_hours_changed": "Service hours changed",
    "service_holiday_added": "Service holiday added",
    "service_holiday_removed": "Service holiday removed",
    "service_holidays_imported": "Service holidays imported",
    "service_target_set": "Account's service promise set",
    "service_target_removed": "Account's service promise removed",
    "api_token_created": "API token created",
    "api_token_revoked": "API token revoked",
    "api_order_placed": "Order placed through the API",
    "api_order_cancelled": "Order cancelled through the API",
    "api_order_line_cancelled": "Order line cancelled through the API",
    "api_cancellation_requested": "Line cancellation asked for through the API",
    "api_forecast_draft_replaced": "Forecast draft replaced through the API",
    "api_forecast_published": "Forecast published through the API",
    "api_service_request_opened": "Service request opened through the API",
    "cxml_credentials_saved": "cXML credentials of an account saved",
    "cxml_order_placed": "Order placed through cXML",
    "cxml_order_linked": "Order from an earlier cXML attempt linked",
    "punchout_started": "PunchOut session opened",
    "punchout_returned": "PunchOut cart returned to the purchasing system",
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
