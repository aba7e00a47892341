"""The vendor's scorecard for the customer: how the vendor keeps its own promises to
one account, this 90 days against the 90 before.

Only figures about the vendor's promises are here (dates kept, promises moved,
lateness, answers on suggestions, service targets, commitments against the
customer's forecast). Nothing the vendor concludes about the customer (its order
rhythm, silence, the relationship signals, an unshared assessment) is read, so
nothing of it can reach the page. Every figure comes from the owning area's
public function: the promise ledger, the suggestion and service measures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from portal.accounts.models import CustomerAccount
from portal.days import account_zone, day_start
from portal.extensions import db
from portal.forecasts import service as forecasts
from portal.forecasts.models import ForecastCell, ForecastCommit
from portal.fulfilment import ledger
from portal.ideas import measures as idea_measures
from portal.ideas.models import Idea
from portal.service import measures as service_measures
from portal.service import quality
from portal.service.models import ServiceRequest

WINDOW_DAYS = 90


@dataclass(frozen=True)
class Period:
    """Days of one account (portal.days: the figures are about promises to it), from
    its midnight that begins `start` to the one that ends `end`."""

    start: date
    end: date  # inclusive

    def instants(self, where: tzinfo) -> tuple[datetime, datetime]:
        """[start, end) as UTC instants, the days being `where`'s (the account's zone)."""
        return day_start(self.start, where), day_start(self.end + timedelta(days=1), where)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Measure:
    """One line of the scorecard: this period, the period before, and which way is better."""

    key: str
    label: str
    current: float | None
    previous: float | None
    unit: str  # "share", "days", "hours", "count", "ppm"
    higher_is_better: bool
    basis: str = ""  # what the current figure was counted over ("41 lines")

    @property
    def trend(self) -> str | None:
        """better, worse or same against the period before; None without both figures."""
        if self.current is None or self.previous is None:
            return None
        tolerance = 0.005 if self.unit == "share" else 0.05
        if abs(self.current - self.previous) <= tolerance:
            return "same"
        went_up = self.current > self.previous
        return "better" if went_up == self.higher_is_better else "worse"


@dataclass(frozen=True)
class Commitments:
    """The vendor's commitments in force against the customer's latest forecast,
    for the months from the current one on."""

    version_number: int
    published_at: datetime | None
    cells: int  # product-months forecast
    committed: int  # of them with a commitment in force
    below: int  # committed below the forecast
    forecast_quantity: int
    committed_quantity: int

    @property
    def committed_share(self) -> float | None:
        return self.committed / self.cells if self.cells else None


@dataclass
class Scorecard:
    account: CustomerAccount
    current: Period
    previous: Period
    measures: list[Measure]
    commitments: Commitments | None


def periods(today: date, days: int = WINDOW_DAYS) -> tuple[Period, Period]:
    """The last `days` days ending yesterday, and the same number of days before."""
    end = today - timedelta(days=1)
    current = Period(end - timedelta(days=days - 1), end)
    previous = Period(current.start - timedelta(days=days), current.start - timedelta(days=1))
    return current, previous


def defects_per_million(account_id: int, start: date, end: date) -> float | None:
    """Defects per million delivered units for the account over start..end (both
    days included): the quality record's figure (service.quality.defects_ppm), None
    when nothing was delivered in the period."""
    figures = quality.defects_ppm(
        start, end + timedelta(days=1), by="account", account_ids=[account_id]
    )
    found = figures.get(account_id)
    return None if found is None else found.ppm


def promise_figures(account_id: int, period: Period, today: date) -> ledger.Figures:
    """The promise ledger's figures of one account over a period."""
    accounts = select(CustomerAccount.id).where(CustomerAccount.id == account_id)
    return ledger.ledger(accounts, start=period.start, end=period.end, today=today).total


def suggestion_figures(
    account_id: int, period: Period, now: datetime, where: tzinfo
) -> idea_measures.Measures:
    """How the vendor answered the account's suggestions sent in the period (its days
    in `where`, the account's zone)."""
    visible = select(Idea).where(Idea.account_id == account_id)
    return idea_measures.measures_for(visible, period.start, period.end, now, where=where).total


def service_figures(
    account_id: int, period: Period, now: datetime, where: tzinfo
) -> service_measures.Measures:
    """How the vendor kept its service targets on the account's requests opened in the
    period (its days in `where`, the account's zone)."""
    start, end = period.instants(where)
    visible = select(ServiceRequest).where(
        ServiceRequest.account_id == account_id, ServiceRequest.opened_at < end
    )
    return service_measures.measures_for(visible, start, now).total


def commitments(account_id: int, today: date) -> Commitments | None:
    """The commitments in force against the latest published forecast (None without one)."""
    latest = forecasts.latest_published(account_id)
    if latest is None:
        return None
    this_month = date(today.year, today.month, 1)
    cells = dict(
        (((row.product_id, row.month), row.quantity))
        for row in db.session.execute(
            select(ForecastCell.product_id, ForecastCell.month, ForecastCell.quantity).where(
                ForecastCell.version_id == latest.id, ForecastCell.month >= this_month
            )
        )
    )
    newest = (
        select(func.max(ForecastCommit.id))
        .where(ForecastCommit.account_id == account_id, ForecastCommit.month >= this_month)
        .group_by(ForecastCommit.product_id, ForecastCommit.month)
    )
    committed = {
        (row.product_id, row.month): row.quantity
        for row in db.session.execute(
            select(ForecastCommit.product_id, ForecastCommit.month, ForecastCommit.quantity).where(
                ForecastCommit.id.in_(newest)
            )
        )
    }
    answered = [key for key in cells if key in committed]
    return Commitments(
        version_number=latest.number,
        published_at=latest.published_at,
        cells=len(cells),
        committed=len(answered),
        below=sum(1 for key in answered if committed[key] < cells[key]),
        forecast_quantity=sum(cells.values()),
        committed_quantity=sum(committed[key] for key in answered),
    )


def scorecard(account: CustomerAccount, today: date, now: datetime) -> Scorecard:
    """The scorecard of one account as its customer sees it (the caller checked access).
    Its days are the account's (portal.days: it is about the vendor's promises to the
    account), `today` too, also for vendor staff who look at it from elsewhere."""
    where = account_zone(account)
    current, previous = periods(today)
    promises = [promise_figures(account.id, p, today) for p in (current, previous)]
    ideas = [suggestion_figures(account.id, p, now, where) for p in (current, previous)]
    service = [service_figures(account.id, p, now, where) for p in (current, previous)]
    dpmo = [defects_per_million(account.id, p.start, p.end) for p in (current, previous)]
    now_p, before_p = promises
    measures = [
        Measure(
            "on_time_in_full",
            _l("Order lines on time, in full"),
            now_p.share("on_time_in_full"),
            before_p.share("on_time_in_full"),
            "share",
            True,
            ngettext("%(num)d line", "%(num)d lines", now_p.lines),
        ),
        Measure(
            "promise_changes",
            _l("Promised dates changed"),
            now_p.changes,
            before_p.changes,
            "count",
            False,
            ngettext("on %(num)d line", "on %(num)d lines", now_p.lines),
        ),
        Measure(
            "days_late",
            _l("Late lines arrived, on average"),
            now_p.average_days_late,
            before_p.average_days_late,
            "days",
            False,
            ngettext("%(num)d line late", "%(num)d lines late", now_p.late_lines),
        ),
        Measure(
            "suggestions_within_promise",
            _l("Suggestions answered within the promised time"),
            ideas[0].share_within_promise,
            ideas[1].share_within_promise,
            "share",
            True,
            ngettext("%(num)d suggestion", "%(num)d suggestions", ideas[0].due),
        ),
        Measure(
            "suggestion_answer_days",
            _l("Time to first answer on suggestions (median)"),
            ideas[0].median_days_to_answer,
            ideas[1].median_days_to_answer,
            "days",
            False,
            ngettext("%(num)d answer", "%(num)d answers", len(ideas[0].answer_days)),
        ),
        Measure(
            "service_targets_kept",
            _l("Service targets kept (response and resolution)"),
            service[0].kept_share,
            service[1].kept_share,
            "share",
            True,
            ngettext("%(num)d target", "%(num)d targets", service[0].promises_due),
        ),
        Measure(
            "defects_per_million",
            _l("Defects per million units delivered"),
            dpmo[0],
            dpmo[1],
            "ppm",
            False,
        ),
    ]
    return Scorecard(account, current, previous, measures, commitments(account.id, today))
