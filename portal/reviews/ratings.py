"""The customer's own word on the relationship: a rating from 1 to 5 and a comment,
given at any time by the account's users and asked for once a quarter.

How it is asked: a prompt on the customer's scorecard page and on its home page,
shown to each customer user until they have rated in the current quarter. A
prompt asks where the person already is, costs nothing when ignored, and goes
away by itself once answered; a notification per user and quarter would land in
the bell (and the e-mail) of people who never asked for it, and would need its
own job and bookkeeping to be sent once. The relationship signals read the
latest rating per account through `latest_ratings`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import cache

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select

from portal.accounts.models import User
from portal.days import account_zone, day_start
from portal.errors import DomainError, Forbidden
from portal.extensions import db, utcnow

from .models import RelationshipRating

COMMENT_MAX = 2000


@dataclass(frozen=True)
class LatestRating:
    account_id: int
    score: int
    comment: str
    rated_at: datetime
    rated_by: str  # the person's name, or "" when the user was removed


def quarter_start(day: date) -> date:
    """The first day of the calendar quarter `day` lies in."""
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def parse_score(raw: str | None) -> int:
    """A rating from the form: a whole number 1..5, else a DomainError on the field."""
    text = (raw or "").strip()
    if text not in {"1", "2", "3", "4", "5"}:  # not int(): it reads "٣" and "+3" too
        raise DomainError(_("Choose a rating from 1 (poor) to 5 (excellent)."), field="score")
    return int(text)


def rate(user: User, raw_score: str | None, comment: str | None, *, now=None) -> RelationshipRating:
    """A customer user rates the relationship of their account; the caller commits."""
    if user.is_vendor_staff or user.account_id is None:
        raise Forbidden(_("Only the customer's own users rate the relationship."))
    score = parse_score(raw_score)
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise DomainError(
            _(
                "Keep the comment under %(max)s characters (%(now)s now).",
                max=COMMENT_MAX,
                now=len(comment),
            ),
            field="comment",
        )
    rating = RelationshipRating(
        account_id=user.account_id,
        user_id=user.id,
        score=score,
        comment=comment,
        rated_at=now or utcnow(),
    )
    db.session.add(rating)
    db.session.flush()
    return rating


def latest_ratings(
    account_ids: Iterable[int], *, before: datetime | None = None
) -> dict[int, LatestRating]:
    """Each account's latest rating (given before `before`, when set: the relationship
    history is rebuilt as of past days), for the accounts given (none rated: absent).

    Two statements whatever the number of accounts: the newest rating id per
    account (ids grow with time), then those rows with their authors."""
    ids = list(account_ids)
    if not ids:
        return {}
    newest = (
        select(func.max(RelationshipRating.id))
        .where(RelationshipRating.account_id.in_(ids))
        .group_by(RelationshipRating.account_id)
    )
    if before is not None:
        newest = newest.where(RelationshipRating.rated_at < before)
    rows = db.session.execute(
        select(
            RelationshipRating.account_id,
            RelationshipRating.score,
            RelationshipRating.comment,
            RelationshipRating.rated_at,
            User.name,
        )
        .outerjoin(User, User.id == RelationshipRating.user_id)
        .where(RelationshipRating.id.in_(newest))
    )
    return {
        row.account_id: LatestRating(
            row.account_id, row.score, row.comment, row.rated_at, row.name or ""
        )
        for row in rows
    }


def ratings_of(account_id: int, limit: int = 20) -> list[RelationshipRating]:
    """The account's ratings, newest first (the caller has checked who may see them)."""
    return list(
        db.session.scalars(
            select(RelationshipRating)
            .where(RelationshipRating.account_id == account_id)
            .order_by(RelationshipRating.id.desc())
            .limit(limit)
        )
    )


def ratings_between(
    account_id: int, start: date, end: date, where: tzinfo
) -> list[RelationshipRating]:
    """The account's ratings given from `start` to `end` (inclusive), oldest first; the
    days are `where`'s (the account's zone: its review period)."""
    return list(
        db.session.scalars(
            select(RelationshipRating)
            .where(
                RelationshipRating.account_id == account_id,
                RelationshipRating.rated_at >= day_start(start, where),
                RelationshipRating.rated_at < day_start(end + timedelta(days=1), where),
            )
            .order_by(RelationshipRating.id)
        )
    )


def should_ask(user: User, today: date) -> bool:
    """Whether to ask this customer user for a rating: not yet rated this quarter, the
    account's quarter (`today` is its day): from its midnight that began the quarter."""
    if user.is_vendor_staff or user.account_id is None:
        return False
    since = day_start(quarter_start(today), account_zone(user.account))
    # Run on the session's connection: a column of one row needs none of the ORM's
    # handling of results (half of the statement's cost).
    rated = (
        db.session.connection()
        .execute(
            _rated_since(), {"account_id": user.account_id, "user_id": user.id, "since": since}
        )
        .scalar()
    )
    return rated is None


@cache
def _rated_since():
    """should_ask's statement, built once per process (the customer's home asks on every
    view): only the values are bound per request."""
    return (
        select(RelationshipRating.id)
        .where(
            RelationshipRating.account_id == bindparam("account_id"),
            RelationshipRating.user_id == bindparam("user_id"),
            RelationshipRating.rated_at >= bindparam("since"),
        )
        .limit(1)
    )
