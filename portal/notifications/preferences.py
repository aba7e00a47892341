"""Each user's choice per kind of notification: e-mail at once, a daily digest, or none.

The in-app notification is written whatever the choice; only the e-mail follows it.
No stored row means "at once", so a new kind mails everyone until they choose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from portal.errors import DomainError
from portal.extensions import db

from .models import (
    DELIVERIES,
    DELIVERY_IMMEDIATE,
    NotificationPreference,
)

if TYPE_CHECKING:
    from portal.accounts.models import User

DELIVERY_LABELS = {
    "immediate": "E-mail at once",
    "digest": "Daily digest",
    "none": "No e-mail",
}

# The kinds of notification the areas send, with what a person calls them, by topic.
KINDS: dict[str, tuple[str, str]] = {
    "order_placed": ("Orders", "An order was placed"),
    "approval_needed": ("Orders", "An order waits for approval"),
    "order_approved": ("Orders", "An order was approved"),
    "order_rejected": ("Orders", "An order was rejected"),
    "order_confirmed": ("Orders", "An order was confirmed"),
    "promise_changed": ("Orders", "A promised date changed"),
    "order_shipped": ("Orders", "An order was shipped"),
    "order_delivered": ("Orders", "An order was delivered"),
    "line_cancelled": ("Orders", "An order line was cancelled"),
    "cancellation_requested": ("Orders", "A cancellation was requested"),
    "cancellation_answered": ("Orders", "A cancellation request was answered"),
    "idea_submitted": ("Suggestions", "A suggestion was submitted"),
    "idea_answered": ("Suggestions", "A suggestion was answered"),
    "idea_assigned": ("Suggestions", "A suggestion was assigned"),
    "idea_message": ("Suggestions", "A new message on a suggestion"),
    "idea_proposed": ("Suggestions", "The vendor proposed an idea"),
    "idea_status": ("Suggestions", "A suggestion's status changed"),
    "plan_published": ("Plans and forecasts", "A plan was published"),
    "plan_changed": ("Plans and forecasts", "A plan was changed or withdrawn"),
    "forecast_published": ("Plans and forecasts", "A forecast was published"),
    "commit_mismatch": ("Plans and forecasts", "A commitment differs from the forecast"),
    "service_opened": ("Service", "A service request or complaint was opened"),
    "service_assigned": ("Service", "A service request was assigned"),
    "service_message": ("Service", "A new message on a service request"),
    "service_answered": ("Service", "A service request was answered"),
    "service_status": ("Service", "A service request's status changed"),
    "service_reopened": ("Service", "A service request was reopened"),
    "service_rated": ("Service", "A service request was closed and rated"),
    "service_replacement": ("Service", "A replacement was ordered for a complaint"),
    "service_promise_warning": ("Service", "A service promise is about to be missed"),
    "service_promise_breached": ("Service", "A service promise was missed"),
    "follow_up_assigned": ("Relationships", "A follow-up was set for you"),
    "review_due": ("Relationships", "A relationship review is due"),
    "review_shared": ("Relationships", "A relationship review was shared with you"),
    "review_commented": ("Relationships", "A customer commented on a review"),
    "relationship_red": ("Relationships", "An account or one of its signals turned red"),
    "relationship_escalated": (
        "Relationships",
        "A red alert was not acknowledged within two working days",
    ),
}


def deliveries(user_ids: Iterable[int], kind: str) -> dict[int, str]:
    """How each of these users wants this kind (one query for all of them)."""
    ids = list(user_ids)
    chosen = (
        dict(
            db.session.execute(
                select(NotificationPreference.user_id, NotificationPreference.delivery).where(
                    NotificationPreference.user_id.in_(ids), NotificationPreference.kind == kind
                )
            ).all()
        )
        if ids
        else {}
    )
    return {user_id: chosen.get(user_id, DELIVERY_IMMEDIATE) for user_id in ids}


def of(user: User) -> dict[str, str]:
    """The user's choice for every known kind."""
    chosen = dict(
        db.session.execute(
            select(NotificationPreference.kind, NotificationPreference.delivery).where(
                NotificationPreference.user_id == user.id
            )
        ).all()
    )
    return {kind: chosen.get(kind, DELIVERY_IMMEDIATE) for kind in KINDS}


def save(user: User, choices: Mapping[str, str]) -> int:
    """Store the user's choices for known kinds; commits. Returns how many differ from
    "at once" (only those are stored). An unknown kind or choice is refused whole."""
    unknown = sorted(set(choices) - set(KINDS))
    if unknown:
        raise DomainError(f"Unknown kind of notification: {', '.join(unknown)}.")
    bad = sorted(kind for kind, choice in choices.items() if choice not in DELIVERIES)
    if bad:
        raise DomainError(
            f"Choose {', '.join(DELIVERY_LABELS.values())} for: "
            + ", ".join(KINDS[kind][1] for kind in bad)
            + "."
        )
    db.session.execute(
        delete(NotificationPreference).where(
            NotificationPreference.user_id == user.id,
            NotificationPreference.kind.in_(list(choices)),
        )
    )
    stored = [
        NotificationPreference(user_id=user.id, kind=kind, delivery=choice)
        for kind, choice in choices.items()
        if choice != DELIVERY_IMMEDIATE
    ]
    db.session.add_all(stored)
    db.session.commit()
    return len(stored)
