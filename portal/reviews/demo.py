"""Demo ratings and reviews: a few ratings over the year, and two reviews of the last
complete quarter — Acme's assessed, shared and commented on by its buyer, Umbrella's
assessed and kept internal."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import CustomerAccount, User
from portal.extensions import db

from . import reviews
from .models import RelationshipRating

RATINGS = {
    # account: (email, days ago, score, comment)
    "C-10001": [
        ("buyer@acme.test", 300, 4, "Reliable; the odd late pallet."),
        ("admin@acme.test", 200, 4, ""),
        ("buyer@acme.test", 40, 5, "Deliveries on time all quarter, thank you."),
    ],
    "C-10002": [("buyer@globex.test", 120, 3, "Too many moved dates lately.")],
    # Umbrella has no named demo login: its first user rated us, last over a year ago, and
    # then fell silent (a rating older than a year is read as none).
    "C-10004": [
        (None, 480, 4, ""),
        (None, 400, 2, "We only hear from you when an invoice is due."),
    ],
}


def _user(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email))


def _account(number: str) -> CustomerAccount:
    return db.session.scalar(select(CustomerAccount).where(CustomerAccount.number == number))


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def load(rng: random.Random, today: date) -> dict[str, int]:
    count = 0
    for number, given in RATINGS.items():
        account = _account(number)
        for email, days_ago, score, comment in given:
            user = _user(email) if email else account.users[0] if account.users else None
            if user is None or user.account_id != account.id:
                continue
            db.session.add(
                RelationshipRating(
                    account_id=account.id,
                    user_id=user.id,
                    score=score,
                    comment=comment,
                    rated_at=_at(today - timedelta(days=days_ago), rng.randint(8, 16)),
                )
            )
            count += 1
    start, end = reviews.last_complete_quarter(today)
    written = end + timedelta(days=min(9, max((today - end).days - 1, 0)))

    acme, manager = _account("C-10001"), _user("manager@vendor.test")
    shared = reviews.create(manager, acme.id, start, end)
    reviews.assess(
        manager,
        shared,
        trend="improving",
        neglected="Drawings for the new bracket family waited two weeks for an engineer.",
        comparison="On delivery ahead of their second supplier; behind on quoting speed.",
        actions="Engineering answers drawings within 5 working days (M. Manager to agree "
        "with engineering by month end). Quarterly call on the forecast with their planner.",
    )
    reviews.share(manager, shared)
    shared.created_at = shared.assessed_at = _at(written, 9)
    shared.shared_at = _at(written, 15)
    buyer = _user("buyer@acme.test")
    note = reviews.comment(
        buyer,
        shared,
        "Agreed. The drawing delays were the one real pain this quarter; "
        "please also send the capacity plan for the summer.",
    )
    note.created_at = _at(written + timedelta(days=1), 11)

    umbrella, manager2 = _account("C-10004"), _user("manager2@vendor.test")
    internal = reviews.create(manager2, umbrella.id, start, end)
    reviews.assess(
        manager2,
        internal,
        trend="deteriorating",
        neglected="No visit since the spring; nobody noticed that they stopped asking us "
        "anything a year ago.",
        comparison="They did not say; orders have moved elsewhere, it seems.",
        actions="Visit the plant in Graz; call the head of purchasing this week.",
    )
    internal.created_at = internal.assessed_at = _at(written, 10)
    db.session.commit()
    return {"relationship ratings": count, "relationship reviews": 2}
