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

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.fulfilment import ledger
from portal.ideas import measures as idea_measures
from portal.service import measures as service_measures
from portal.service.models import KINDS, ServiceRequest

from . import ratings, scorecard
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
        f"{user.name} shared the relationship review of "
        f"{quarter_label(review.period_start, review.period_end)} with you.",
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
            f"{user.name} ({review.account.name}) commented on the review of "
            f"{quarter_label(review.period_start, review.period_end)}.",
            f"/reviews/{review.id}",
        )
    db.session.flush()
    return note


# --- the period's figures -------------------------------------------------------------------


@dataclass
class PeriodFigures:
    period: scorecard.Period
    promises: ledger.Figures
    suggestions: idea_measures.Measures
    service: service_measures.Measures
    complaints: int = 0
    requests: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    forecast: int | None = None  # forecast one month ahead for the months in the period
    ordered: int | None = None
    wape: float | None = None
    ratings: list = field(default_factory=list)

    @property
    def average_rating(self) -> float | None:
        scores = [r.score for r in self.ratings]
        return sum(scores) / len(scores) if scores else None


@dataclass
class Change:
    label: str
    now: str
    before: str
    direction: str  # better, worse, same, "" (not comparable)


def _requests(account_id: int, period: scorecard.Period) -> dict[str, int]:
    start = datetime.combine(period.start, time(), UTC)
    end = datetime.combine(period.end + timedelta(days=1), time(), UTC)
    return dict(
        db.session.execute(
            select(ServiceRequest.kind, func.count())
            .where(
                ServiceRequest.account_id == account_id,
                ServiceRequest.opened_at >= start,
                ServiceRequest.opened_at < end,
            )
            .group_by(ServiceRequest.kind)
        ).all()
    )


def _forecast_against_orders(viewer: User, account_id: int, period: scorecard.Period):
    """Forecast one month ahead against what was ordered, for the whole months of the
    period (from the forecasts area); None where the viewer may not see forecasts."""
    from portal.forecasts import planning

    try:
        report = planning.account_accuracy(viewer, account_id, period.end + timedelta(days=1))
    except (Forbidden, NotFound):
        return None
    forecast = ordered = error = 0
    found = False
    for (month, lag), figures in report.figures.by_month.items():
        if lag == 1 and period.start <= month and month <= period.end:
            forecast += figures.forecast
            ordered += figures.actual
            error += figures.absolute_error
            found = True
    if not found:
        return None
    return forecast, ordered, (error / ordered if ordered else None)


def period_figures(
    viewer: User, account_id: int, period: scorecard.Period, today: date, now: datetime
) -> PeriodFigures:
    by_kind = _requests(account_id, period)
    complaints = sum(n for kind, n in by_kind.items() if kind.startswith("complaint"))
    result = PeriodFigures(
        period,
        scorecard.promise_figures(account_id, period, today),
        scorecard.suggestion_figures(account_id, period, today),
        scorecard.service_figures(account_id, period, now),
        complaints=complaints,
        requests=sum(by_kind.values()) - complaints,
        by_kind={KINDS[k]: n for k, n in sorted(by_kind.items())},
        ratings=ratings.ratings_between(account_id, period.start, period.end),
    )
    compared = _forecast_against_orders(viewer, account_id, period)
    if compared is not None:
        result.forecast, result.ordered, result.wape = compared
    return result


@dataclass
class ReviewFigures:
    current: PeriodFigures
    previous: PeriodFigures
    changes: list[Change]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} days"


def _direction(now, before, higher_is_better: bool) -> str:
    if now is None or before is None:
        return ""
    if abs(now - before) < 1e-9:
        return "same"
    return "better" if (now > before) == higher_is_better else "worse"


def review_figures(
    viewer: User, review: RelationshipReview, today: date, now: datetime
) -> ReviewFigures:
    """The review period's figures beside the period before it: the quarter before a
    quarter, else as many days before."""
    current = scorecard.Period(review.period_start, review.period_end)
    if (current.start, current.end) == quarter_of(current.start):
        # A quarter beside the quarter before, whatever their lengths (Q1 has 90 days).
        previous = scorecard.Period(*quarter_of(current.start - timedelta(days=1)))
    else:
        length = timedelta(days=current.days)
        previous = scorecard.Period(current.start - length, current.start - timedelta(days=1))
    a = period_figures(viewer, review.account_id, current, today, now)
    b = period_figures(viewer, review.account_id, previous, today, now)
    otif = (a.promises.share("on_time_in_full"), b.promises.share("on_time_in_full"))
    late = (a.promises.average_days_late, b.promises.average_days_late)
    kept = (a.suggestions.share_within_promise, b.suggestions.share_within_promise)
    service = (a.service.kept_share, b.service.kept_share)
    changes = [
        Change("On time, in full", _pct(otif[0]), _pct(otif[1]), _direction(*otif, True)),
        Change(
            "Promised dates changed",
            str(a.promises.changes),
            str(b.promises.changes),
            _direction(a.promises.changes, b.promises.changes, False),
        ),
        Change(
            "Late lines arrived, on average",
            _days(late[0]),
            _days(late[1]),
            _direction(*late, False),
        ),
        Change(
            "Complaints",
            str(a.complaints),
            str(b.complaints),
            _direction(a.complaints, b.complaints, False),
        ),
        Change("Other service requests", str(a.requests), str(b.requests), ""),
        Change("Suggestions sent", str(a.suggestions.sent), str(b.suggestions.sent), ""),
        Change(
            "Suggestions answered within the promise",
            _pct(kept[0]),
            _pct(kept[1]),
            _direction(*kept, True),
        ),
        Change(
            "Service targets kept", _pct(service[0]), _pct(service[1]), _direction(*service, True)
        ),
    ]
    if a.wape is not None or b.wape is not None:
        changes.append(
            Change(
                "Forecast error one month ahead (WAPE)",
                _pct(a.wape),
                _pct(b.wape),
                _direction(a.wape, b.wape, False),
            )
        )
    return ReviewFigures(a, b, changes)


# --- reviews that fall due ------------------------------------------------------------------


def due_reviews(today: date, account_ids=None) -> list[tuple[CustomerAccount, date, date]]:
    """Accounts with a manager and no review overlapping the last complete quarter,
    with that quarter: the reviews that fell due. One statement."""
    start, end = last_complete_quarter(today)
    reviewed = exists().where(
        RelationshipReview.account_id == CustomerAccount.id,
        RelationshipReview.period_start <= end,
        RelationshipReview.period_end >= start,
    )
    query = select(CustomerAccount).where(
        CustomerAccount.account_manager_id.is_not(None),
        CustomerAccount.created_at < datetime.combine(start, time(), UTC),
        ~reviewed,
    )
    if account_ids is not None:
        query = query.where(CustomerAccount.id.in_(account_ids))
    return [(a, start, end) for a in db.session.scalars(query.order_by(CustomerAccount.name))]


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
            f"The relationship review of {account.name} for {quarter_label(s, e)} is due.",
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
