"""Relationship reviews: one per account and quarter (or a chosen period), generated
from the period's figures, assessed by the account manager, shared with the
customer if the manager chooses, commented on by the customer; and the daily
reminder of reviews that fell due.

Who sees what: vendor admins every account's reviews, account managers those of
the accounts they manage; a customer only its own account's shared reviews. An
unshared review, or another account's, is NotFound for a customer — the same
answer as for an id that does not exist.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.days import LATEST_ZONE, account_zone, day_start, zone
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow

from . import ratings
from .models import TRENDS, RelationshipReview, ReviewComment, ReviewReminder

TEXT_MAX = 5000
COMMENT_MAX = 3000
LONGEST_PERIOD_DAYS = 366


# --- periods ------------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[date, date]:
    start = ratings.quarter_start(day)
    following = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
    return start, following - timedelta(days=1)


def last_complete_quarter(today: date) -> tuple[date, date]:
    """The latest calendar quarter that has ended before `today`."""
    return quarter_of(ratings.quarter_start(today) - timedelta(days=1))


def quarter_label(start: date, end: date) -> str:
    if (start, end) == quarter_of(start):
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    return f"{start:%d %b %Y} – {end:%d %b %Y}"


# --- who may see which reviews --------------------------------------------------------------


def managed_accounts(viewer: User):
    """The ids of the accounts whose reviews the vendor viewer keeps (a query)."""
    if not viewer.is_vendor_staff:
        raise Forbidden("Reviews are written by the vendor's account managers.")
    query = select(CustomerAccount.id)
    if viewer.has_role(Role.ADMIN):
        return query
    if viewer.has_role(Role.ACCOUNT_MANAGER):
        return query.where(CustomerAccount.account_manager_id == viewer.id)
    raise Forbidden("Reviews are for account managers and vendor admins.")


def visible_reviews(viewer: User):
    """The reviews the viewer may read, as a query to refine."""
    query = select(RelationshipReview)
    if viewer.is_vendor_staff:
        return query.where(RelationshipReview.account_id.in_(managed_accounts(viewer)))
    return query.where(
        RelationshipReview.account_id == viewer.account_id,
        RelationshipReview.shared_at.is_not(None),
    )


def review_for(viewer: User, review_id: int) -> RelationshipReview:
    """One review the viewer may read; NotFound otherwise (also for another account's)."""
    review = db.session.scalar(visible_reviews(viewer).where(RelationshipReview.id == review_id))
    if review is None:
        if not viewer.is_vendor_staff and db.session.get(RelationshipReview, review_id):
            from portal.audit import service as audit

            audit.record_alone(
                "access_denied",
                actor=viewer,
                target=f"relationship_review:{review_id}",
                detail={"reason": "unshared or another account's review"},
            )
        raise NotFound("No such review.")
    return review


def reviews_of(viewer: User, account_id: int | None = None) -> list[RelationshipReview]:
    query = visible_reviews(viewer)
    if account_id is not None:
        query = query.where(RelationshipReview.account_id == account_id)
    return list(
        db.session.scalars(
            query.order_by(RelationshipReview.period_end.desc(), RelationshipReview.id.desc())
        )
    )


def latest_shared(account_id: int) -> RelationshipReview | None:
    """The account's latest review shared with it (for its scorecard)."""
    return db.session.scalar(
        select(RelationshipReview)
        .where(
            RelationshipReview.account_id == account_id,
            RelationshipReview.shared_at.is_not(None),
        )
        .order_by(RelationshipReview.period_end.desc(), RelationshipReview.id.desc())
        .limit(1)
    )


def account_for_review(viewer: User, account_id: int | None) -> CustomerAccount:
    """An account the vendor viewer keeps reviews for; NotFound otherwise."""
    if account_id is None:
        raise DomainError("Choose the account to review.", field="account")
    account = db.session.scalar(
        select(CustomerAccount).where(
            CustomerAccount.id == account_id, CustomerAccount.id.in_(managed_accounts(viewer))
        )
    )
    if account is None:
        raise DomainError("Choose one of the accounts you look after.", field="account")
    return account


# --- writing --------------------------------------------------------------------------------


def parse_period(raw_start: str | None, raw_end: str | None, today: date) -> tuple[date, date]:
    """A review period from two ISO dates; it must have begun, be in order and at most a year."""
    try:
        start = date.fromisoformat((raw_start or "").strip())
    except ValueError:
        raise DomainError("Enter the first day as a date (YYYY-MM-DD).", field="start") from None
    try:
        end = date.fromisoformat((raw_end or "").strip())
    except ValueError:
        raise DomainError("Enter the last day as a date (YYYY-MM-DD).", field="end") from None
    if start.year < 2000:
        raise DomainError("The period starts in 2000 at the earliest.", field="start")
    if end < start:
        raise DomainError("The last day comes before the first.", field="end")
    if start >= today:
        raise DomainError("A review looks back: the period must have begun.", field="start")
    if (end - start).days + 1 > LONGEST_PERIOD_DAYS:
        raise DomainError("Review at most a year at a time.", field="end")
    return start, end


def create(user: User, account_id: int | None, start: date, end: date) -> RelationshipReview:
    """Start a review of the account over start..end; the caller commits."""
    account = account_for_review(user, account_id)
    duplicate = db.session.scalar(
        select(RelationshipReview.id).where(
            RelationshipReview.account_id == account.id,
            RelationshipReview.period_start == start,
            RelationshipReview.period_end == end,
        )
    )
    if duplicate is not None:
        raise DomainError(
            f"{account.name} already has a review of this period (review {duplicate}).",
            field="start",
        )
    review = RelationshipReview(
        account_id=account.id, period_start=start, period_end=end, created_by_id=user.id
    )
    db.session.add(review)
    db.session.flush()
    return review


def _text(raw: str | None, name: str, label: str) -> str:
    value = (raw or "").strip()
    if len(value) > TEXT_MAX:
        raise DomainError(f"Keep {label} under {TEXT_MAX} characters.", field=name)
    return value


def assess(
    user: User,
    review: RelationshipReview,
    *,
    trend: str | None,
    neglected: str | None,
    comparison: str | None,
    actions: str | None,
) -> RelationshipReview:
    """The account manager's assessment; the caller commits."""
    review_for(user, review.id)  # a vendor viewer who keeps this account's reviews
    if trend not in TRENDS:
        raise DomainError(
            "Say whether the relationship is improving, stable or deteriorating.", field="trend"
        )
    review.trend = trend
    review.neglected = _text(neglected, "neglected", "what was neglected")
    review.comparison = _text(comparison, "comparison", "the comparison")
    review.actions = _text(actions, "actions", "the agreed actions")
    review.assessed_by_id = user.id
    review.assessed_at = utcnow()
    return review


def share(user: User, review: RelationshipReview) -> RelationshipReview:
    """Share the review with the customer's users, who are told; the caller commits."""
    from portal.notifications import service as notifications

    review_for(user, review.id)
    if review.trend is None:
        raise DomainError("Write the assessment before sharing the review.")
    if review.shared_at is not None:
        raise DomainError("This review is already shared.")
    review.shared_at = utcnow()
    review.shared_by_id = user.id
    customers = db.session.scalars(
        select(User).where(User.account_id == review.account_id, User.active.is_(True))
    )
    notifications.notify(
        customers,
        "review_shared",
        {"actor": user.name, "quarter": quarter_label(review.period_start, review.period_end)},
        f"/reviews/{review.id}",
        exclude=user,
    )
    return review


def comment(user: User, review: RelationshipReview, body: str | None) -> ReviewComment:
    """The customer comments on a review shared with it; the manager is told."""
    from portal.notifications import service as notifications

    if user.is_vendor_staff:
        raise Forbidden("Comments here are the customer's.")
    review_for(user, review.id)
    body = (body or "").strip()
    if not body:
        raise DomainError("Write a comment first.", field="body")
    if len(body) > COMMENT_MAX:
        raise DomainError(f"Keep the comment under {COMMENT_MAX} characters.", field="body")
    note = ReviewComment(
        review_id=review.id, account_id=review.account_id, author_id=user.id, body=body
    )
    db.session.add(note)
    manager = review.account.account_manager
    if manager is not None:
        notifications.notify(
            [manager],
            "review_commented",
            {
                "actor": user.name,
                "account": review.account.name,
                "quarter": quarter_label(review.period_start, review.period_end),
            },
            f"/reviews/{review.id}",
        )
    db.session.flush()
    return note


# --- reviews that fall due ------------------------------------------------------------------


def due_reviews(today: date, account_ids=None) -> list[tuple[CustomerAccount, date, date]]:
    """Accounts with a manager, that existed when the last complete quarter began, and
    no review overlapping it, with that quarter: the reviews that fell due. `today` is
    the vendor's (a schedule over every account); the quarter reviewed is the account's
    days, so it began at the account's midnight. One statement."""
    start, end = last_complete_quarter(today)
    reviewed = exists().where(
        RelationshipReview.account_id == CustomerAccount.id,
        RelationshipReview.period_start <= end,
        RelationshipReview.period_end >= start,
    )
    query = select(CustomerAccount).where(
        CustomerAccount.account_manager_id.is_not(None),
        # Every account's own midnight is at or before this; each is held to its own below.
        CustomerAccount.created_at < day_start(start, zone(LATEST_ZONE)),
        ~reviewed,
    )
    if account_ids is not None:
        query = query.where(CustomerAccount.id.in_(account_ids))
    return [
        (a, start, end)
        for a in db.session.scalars(query.order_by(CustomerAccount.name))
        if a.created_at < day_start(start, account_zone(a))
    ]


def remind_due_reviews(today: date) -> int:
    """Tell each account manager once about each review that fell due (daily job).

    A reminder row per account and quarter makes the second run, or a second worker
    running at the same moment, send nothing more. Returns the reminders sent."""
    from portal.notifications import service as notifications

    start, _ = last_complete_quarter(today)
    reminded = set(
        db.session.scalars(
            select(ReviewReminder.account_id).where(ReviewReminder.period_start == start)
        )
    )
    due = [(account, s, e) for account, s, e in due_reviews(today) if account.id not in reminded]
    sent = 0
    for account, s, e in due:
        try:
            with db.session.begin_nested():
                db.session.add(ReviewReminder(account_id=account.id, period_start=s))
        except IntegrityError:
            continue  # another run reminded a moment ago
        notifications.notify(
            [account.account_manager],
            "review_due",
            {"account": account.name, "quarter": quarter_label(s, e)},
            f"/reviews/new?account={account.id}&start={s.isoformat()}&end={e.isoformat()}",
        )
        sent += 1
    db.session.commit()
    return sent


def open_reviews_count(viewer: User) -> int:
    """Reviews of the viewer's accounts not yet assessed (for their lists)."""
    return db.session.scalar(
        select(func.count())
        .select_from(RelationshipReview)
        .where(
            RelationshipReview.account_id.in_(managed_accounts(viewer)),
            RelationshipReview.trend.is_(None),
        )
    )
