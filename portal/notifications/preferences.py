"""Each user's choice per kind of notification: e-mail at once, a daily digest, or none.

The in-app notification is written whatever the choice; only the e-mail follows it.
No stored row means "at once", so a new kind mails everyone until they choose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
    "immediate": _l("E-mail at once"),
    "digest": _l("Daily digest"),
    "none": _l("No e-mail"),
}

# The kinds of notification the areas send, with what a person calls them, by topic.
KINDS: dict[str, tuple[str, str]] = {
    "order_placed": (_l("Orders"), _l("An order was placed")),
    "approval_needed": (_l("Orders"), _l("An order waits for approval")),
    "order_approved": (_l("Orders"), _l("An order was approved")),
    "order_rejected": (_l("Orders"), _l("An order was rejected")),
    "order_confirmed": (_l("Orders"), _l("An order was confirmed")),
    "promise_changed": (_l("Orders"), _l("A promised date changed")),
    "order_shipped": (_l("Orders"), _l("An order was shipped")),
    "order_delivered": (_l("Orders"), _l("An order was delivered")),
    "line_cancelled": (_l("Orders"), _l("An order line was cancelled")),
    "cancellation_requested": (_l("Orders"), _l("A cancellation was requested")),
    "cancellation_answered": (_l("Orders"), _l("A cancellation request was answered")),
    "idea_submitted": (_l("Suggestions"), _l("A suggestion was submitted")),
    "idea_answered": (_l("Suggestions"), _l("A suggestion was answered")),
    "idea_assigned": (_l("Suggestions"), _l("A suggestion was assigned")),
    "idea_message": (_l("Suggestions"), _l("A new message on a suggestion")),
    "idea_proposed": (_l("Suggestions"), _l("The vendor proposed an idea")),
    "idea_status": (_l("Suggestions"), _l("A suggestion's status changed")),
    "plan_published": (_l("Plans and forecasts"), _l("A plan was published")),
    "plan_changed": (_l("Plans and forecasts"), _l("A plan was changed or withdrawn")),
    "forecast_published": (_l("Plans and forecasts"), _l("A forecast was published")),
    "commit_mismatch": (_l("Plans and forecasts"), _l("A commitment differs from the forecast")),
    "service_opened": (_l("Service"), _l("A service request or complaint was opened")),
    "service_assigned": (_l("Service"), _l("A service request was assigned")),
    "service_message": (_l("Service"), _l("A new message on a service request")),
    "service_answered": (_l("Service"), _l("A service request was answered")),
    "service_status": (_l("Service"), _l("A service request's status changed")),
    "service_reopened": (_l("Service"), _l("A service request was reopened")),
    "service_rated": (_l("Service"), _l("A service request was closed and rated")),
    "service_replacement": (_l("Service"), _l("A replacement was ordered for a complaint")),
    "service_promise_warning": (_l("Service"), _l("A service promise is about to be missed")),
    "service_promise_breached": (_l("Service"), _l("A service promise was missed")),
    "follow_up_assigned": (_l("Relationships"), _l("A follow-up was set for you")),
    "review_due": (_l("Relationships"), _l("A relationship review is due")),
    "review_shared": (_l("Relationships"), _l("A relationship review was shared with you")),
    "review_commented": (_l("Relationships"), _l("A customer commented on a review")),
    "relationship_red": (_l("Relationships"), _l("An account or one of its signals turned red")),
    "relationship_escalated": (
        _l("Relationships"),
        _l("A red alert was not acknowledged within two working days"),
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
        raise DomainError(_("Unknown kind of notification: %(kinds)s.", kinds=", ".join(unknown)))
    bad = sorted(kind for kind, choice in choices.items() if choice not in DELIVERIES)
    if bad:
        raise DomainError(
            _(
                "Choose %(choices)s for: %(kinds)s.",
                choices=", ".join(str(label) for label in DELIVERY_LABELS.values()),
                kinds=", ".join(str(KINDS[kind][1]) for kind in bad),
            )
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
