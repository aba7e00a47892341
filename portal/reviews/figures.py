"""A relationship review's figures: the period's promises kept, complaints and
requests, suggestions, forecast against orders and ratings, beside the period before
(the quarter before a quarter, else as many days), each read from the owning area's
public function."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.accounts.models import User
from portal.days import account_zone
from portal.errors import Forbidden, NotFound
from portal.extensions import db
from portal.fulfilment import ledger
from portal.ideas import measures as idea_measures
from portal.service import measures as service_measures
from portal.service.models import KINDS, ServiceRequest

from . import ratings, scorecard
from .models import RelationshipReview
from .reviews import quarter_of


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
    # (month, forecast one month ahead, ordered) for the whole months of the period.
    months: list[tuple[date, int, int]] = field(default_factory=list)

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


def _requests(account_id: int, period: scorecard.Period, where: tzinfo) -> dict[str, int]:
    start, end = period.instants(where)
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


def _accuracy(viewer: User, account_id: int, period: scorecard.Period):
    """The forecasts area's accuracy report for the 12 months up to the period's end;
    None where the viewer may not see the account's forecasts."""
    from portal.forecasts import planning

    try:
        return planning.account_accuracy(viewer, account_id, period.end + timedelta(days=1))
    except (Forbidden, NotFound):
        return None


def _forecast_against_orders(report, period: scorecard.Period):
    """Forecast one month ahead against what was ordered, for the whole months of the
    period; None without a report or without a forecast for those months."""
    if report is None:
        return None
    forecast = ordered = error = 0
    months = []
    for (month, lag), figures in sorted(report.figures.by_month.items()):
        if lag == 1 and period.start <= month and month <= period.end:
            forecast += figures.forecast
            ordered += figures.actual
            error += figures.absolute_error
            months.append((month, figures.forecast, figures.actual))
    if not months:
        return None
    return forecast, ordered, (error / ordered if ordered else None), months


def period_figures(
    viewer: User,
    account_id: int,
    period: scorecard.Period,
    today: date,
    now: datetime,
    accuracy=None,
    *,
    where: tzinfo,
) -> PeriodFigures:
    """The figures of one account over one period, its days in `where` (the account's
    zone) and `today` its day (`accuracy`: a report already read that covers the period,
    else it is read here)."""
    by_kind = _requests(account_id, period, where)
    complaints = sum(n for kind, n in by_kind.items() if kind.startswith("complaint"))
    result = PeriodFigures(
        period,
        scorecard.promise_figures(account_id, period, today),
        scorecard.suggestion_figures(account_id, period, now, where),
        scorecard.service_figures(account_id, period, now, where),
        complaints=complaints,
        requests=sum(by_kind.values()) - complaints,
        by_kind={KINDS[k]: n for k, n in sorted(by_kind.items())},
        ratings=ratings.ratings_between(account_id, period.start, period.end, where),
    )
    if accuracy is None:
        accuracy = _accuracy(viewer, account_id, period)
    compared = _forecast_against_orders(accuracy, period)
    if compared is not None:
        result.forecast, result.ordered, result.wape, result.months = compared
    return result


@dataclass
class ReviewFigures:
    current: PeriodFigures
    previous: PeriodFigures
    changes: list[Change]


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _days(value: float | None) -> str:
    return "—" if value is None else _("%(num)s days", num=f"{value:.1f}")


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
    quarter, else as many days before. The periods are the account's days (portal.days:
    the review is of the vendor's promises to it), `today` its day."""
    where = account_zone(review.account)
    current = scorecard.Period(review.period_start, review.period_end)
    if (current.start, current.end) == quarter_of(current.start):
        # A quarter beside the quarter before, whatever their lengths (Q1 has 90 days).
        previous = scorecard.Period(*quarter_of(current.start - timedelta(days=1)))
    else:
        length = timedelta(days=current.days)
        previous = scorecard.Period(current.start - length, current.start - timedelta(days=1))
    # One read of forecast accuracy (12 months) serves both periods when it reaches back.
    accuracy = _accuracy(viewer, review.account_id, current)
    covers = accuracy is not None and accuracy.months and accuracy.months[0] <= previous.start
    a = period_figures(viewer, review.account_id, current, today, now, accuracy, where=where)
    b = period_figures(
        viewer, review.account_id, previous, today, now, accuracy if covers else None, where=where
    )
    otif = (a.promises.share("on_time_in_full"), b.promises.share("on_time_in_full"))
    late = (a.promises.average_days_late, b.promises.average_days_late)
    kept = (a.suggestions.share_within_promise, b.suggestions.share_within_promise)
    service = (a.service.kept_share, b.service.kept_share)
    changes = [
        Change(_l("On time, in full"), _pct(otif[0]), _pct(otif[1]), _direction(*otif, True)),
        Change(
            _l("Promised dates changed"),
            str(a.promises.changes),
            str(b.promises.changes),
            _direction(a.promises.changes, b.promises.changes, False),
        ),
        Change(
            _l("Late lines arrived, on average"),
            _days(late[0]),
            _days(late[1]),
            _direction(*late, False),
        ),
        Change(
            _l("Complaints"),
            str(a.complaints),
            str(b.complaints),
            _direction(a.complaints, b.complaints, False),
        ),
        Change(_l("Other service requests"), str(a.requests), str(b.requests), ""),
        Change(_l("Suggestions sent"), str(a.suggestions.sent), str(b.suggestions.sent), ""),
        Change(
            _l("Suggestions answered within the promise"),
            _pct(kept[0]),
            _pct(kept[1]),
            _direction(*kept, True),
        ),
        Change(
            _l("Service targets kept"),
            _pct(service[0]),
            _pct(service[1]),
            _direction(*service, True),
        ),
    ]
    if a.wape is not None or b.wape is not None:
        changes.append(
            Change(
                _l("Forecast error one month ahead (WAPE)"),
                _pct(a.wape),
                _pct(b.wape),
                _direction(a.wape, b.wape, False),
            )
        )
    return ReviewFigures(a, b, changes)


# The health signals charted on a review: for the vendor, the account's own rhythm and
# volume beside the vendor's promises; for the customer only what is about the vendor's
# own promises to it (the scorecard's side) — never its order rhythm or silence, and
# never the score, which weighs those in.
VENDOR_SIGNALS = ["promises", "volume", "order_rhythm", "silence"]
CUSTOMER_SIGNALS = ["promises", "responsiveness"]


@dataclass
class ReviewCharts:
    score: object | None  # relationship.charts.DayChart, vendor only
    signals: list  # (key, label, DayChart)
    orders: object | None  # relationship.charts.BarChart: forecast and ordered per month
    months: list[tuple[date, int, int]]


def review_charts(review: RelationshipReview, current: PeriodFigures, vendor_view: bool):
    """The period's charts, drawn by the relationship area's chart geometry: the daily
    score and key signals from its snapshots, and orders against forecast per month."""
    from portal.relationship import charts
    from portal.relationship import service as relationship

    found = relationship.period_charts(
        review.account_id,
        review.period_start,
        review.period_end,
        VENDOR_SIGNALS if vendor_view else CUSTOMER_SIGNALS,
    )
    orders = (
        charts.paired_bars([(m.strftime("%b %Y"), f, o) for m, f, o in current.months])
        if current.months
        else None
    )
    return ReviewCharts(
        found.score if vendor_view else None,
        [view for view in found.signals if not view[2].empty],
        orders,
        current.months,
    )
