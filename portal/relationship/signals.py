"""The signals: for every account at once, as of a given day, each signal's value,
the account's own baseline, a status and one plain sentence.

Each signal is one function decorated with `@signal(...)`: it receives a
`Context` (the day, the accounts, the thresholds) and returns a `Reading` per
account id. Every function reads all accounts with a fixed number of set-based
statements (never a query per account), and only events up to the end of the
`as_of` day, so a past day's health can be rebuilt the same way.

Adding a signal is one more decorated function here (its key, label, default
weight and thresholds); the settings page, the snapshot, the charts and the
portfolio pick it up from `SIGNALS`. Weights are normalised over the signals
that have something to judge, so the score stays 0–100 while admins rebalance.

Extension points for other areas (append a function; no change here needed):
- `CUSTOMER_SOURCES`: things the customer raised, `(start, end) -> Select of
  (account_id, at)`;
- `VENDOR_SOURCES`: times the vendor spoke with the customer (the contact log
  adds its calls and visits here), same shape.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from sqlalchemy import Date, Integer, and_, case, cast, func, literal_column, select, union_all

from portal.accounts.models import CustomerAccount, User
from portal.days import day_start, local_day, utc_offsets, vendor_zone, zone_of_account
from portal.extensions import db, utcnow

from . import stats
from .phrases import Joined, Phrase, amount, number, pct, stored
from .phrases import days as days_text

HISTORY_DAYS = 730  # rhythms are read over the last 24 months
WINDOW_DAYS = 90  # volume, promises and responsiveness look at the last 90 days


@dataclass(frozen=True)
class Threshold:
    weight: int
    amber: float
    red: float


@dataclass
class Reading:
    """One signal of one account on one day."""

    # figure, baseline and reason are Phrases (read as English here, stored as message
    # ids with parameters, written in each reader's language when shown), or "—".
    value: float | None  # the number charted over time (days, %, …)
    figure: Phrase | str  # the value as people read it ("47 days")
    baseline: Phrase | str  # the account's own yardstick ("usually every 12 days")
    status: str | None  # green / amber / red; None: nothing to judge
    reason: Phrase | str  # one plain sentence

    def as_dict(self) -> dict:
        return {
            "value": self.value,
            "figure": stored(self.figure),
            "baseline": stored(self.baseline),
            "status": self.status,
            "reason": stored(self.reason),
        }


@dataclass
class Context:
    as_of: date
    account_ids: list[int]
    thresholds: dict[str, Threshold]
    # True when computing today (not rebuilding history): figures that exist only
    # as current state (lines late now) are read then.
    is_today: bool = True
    # The clock the refresh runs by; current state is judged at `judged_at`.
    now: datetime = field(default_factory=utcnow)
    cache: dict = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        """The snapshot's day is the vendor's (a schedule over every account, portal.days):
        its days begin and end at the vendor's midnight, and events count on its days."""
        return vendor_zone()

    def day_start(self, day: date) -> datetime:
        """The instant (UTC) `day` begins in the vendor's zone."""
        return day_start(day, self.zone)

    @property
    def end(self) -> datetime:
        """Events before this instant count: the end of the as-of day in the vendor's zone
        (at 20:00 UTC a Jakarta-zoned vendor's day has ended already)."""
        return self.day_start(self.as_of + timedelta(days=1))

    def since(self, days: int) -> datetime:
        """The start of the window of `days` days that ends with the as-of day."""
        return self.day_start(self.as_of - timedelta(days=days - 1))

    @property
    def judged_at(self) -> datetime:
        """When current state (lines late now, open service clocks) is judged: now, or the
        end of the as-of day if that came first."""
        return min(self.end, self.now)

    @property
    def last_instant(self) -> datetime:
        """The snapshot's moment for what is counted on an account's own day: now, or the
        last instant of the as-of day if that came first (the vendor's day is `as_of` then)."""
        return min(self.now, self.end - timedelta(microseconds=1))

    def account_day(self, timezone: str | None) -> date:
        """The day then of an account whose zone setting is `timezone` (portal.days: its
        forecast months are its own)."""
        return local_day(self.last_instant, zone_of_account(timezone))


@dataclass(frozen=True)
class Signal:
    key: str
    label: str
    description: str  # what the thresholds mean, for the settings page
    unit: str  # of the thresholds: "percentile", "%", "days"
    default: Threshold
    compute: Callable[[Context, Threshold], dict[int, Reading]]
    # Which way the figure falls when things go wrong: a share kept or a rating falls
    # (red at or below amber), days or a percentile of silence rise (red at or above).
    # Said here, not read from the unit: "% WAPE" is a percentage that rises.
    lower_is_worse: bool = False


SIGNALS: list[Signal] = []
# The thresholds' units in the reader's words (`Signal.unit` stays the code that
# the settings' checks compare).
UNIT_LABELS = {
    "percentile": _l("percentile"),
    "%": "%",
    "days": _l("days"),
    "% WAPE": _l("% WAPE"),
    "of 5": _l("of 5"),
    "score": _l("score"),
}


def signal(key: str, label: str, description: str, unit: str, *, weight: int, amber: float,
           red: float, lower_is_worse: bool):  # fmt: skip
    """Register a signal function under `key` with its default weight and thresholds."""

    def register(compute):
        SIGNALS.append(
            Signal(
                key,
                label,
                description,
                unit,
                Threshold(weight, amber, red),
                compute,
                lower_is_worse,
            )
        )
        return compute

    return register


def by_key() -> dict[str, Signal]:
    return {s.key: s for s in SIGNALS}


# --- helpers ---------------------------------------------------------------------------------


# julianday('0001-01-01') − 1: SQLite's day number less this is Python's date.toordinal().
_JULIAN_ORDINAL = 1721424.5


def day_number_in(column, where: ZoneInfo, start: datetime, end: datetime):
    """The day of a timestamp in `where` as Python's ordinal (date.toordinal()), computed by
    the database: hundreds of thousands of days come back as plain integers, not dates to
    parse. A date column (the contact log's) is its own day. PostgreSQL knows the zones;
    SQLite is told the zone's UTC offsets between `start` and `end`, the only instants the
    column holds here (one offset a span: a CASE of a few arms for a zone with summer time)."""
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    ordinal_of = literal_column("DATE '0001-01-01'")
    if isinstance(column.type, Date):
        if sqlite:
            return cast(func.julianday(column) - _JULIAN_ORDINAL, Integer)
        return column - ordinal_of + 1
    if not sqlite:
        return cast(func.timezone(where.key, column), Date) - ordinal_of + 1
    spans = utc_offsets(where, start, end)
    shifts = [f"{minutes:+d} minutes" for _, minutes in spans]
    if len(spans) == 1:
        local = func.julianday(column, shifts[0]) if spans[0][1] else func.julianday(column)
    else:
        # Before the second span begins, the first span's shift; and so on.
        arms = [(column < spans[n + 1][0], shifts[n]) for n in range(len(spans) - 1)]
        local = func.julianday(column, case(*arms, else_=shifts[-1]))
    # The Julian day of the local time, less the ordinal's origin, cut to whole days
    # (SQLite keeps it in whole milliseconds: a midnight is exact). No date() between:
    # formatting a date per row cost a fifth more than the UTC days did.
    return cast(local - _JULIAN_ORDINAL, Integer)


def _as_date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def days_per_account(
    sources: list, start: datetime, end: datetime, where: ZoneInfo
) -> dict[int, list[date]]:
    """The distinct days (in `where`) on which each account had one of the sources'
    events, oldest first, in one statement (a UNION ALL of the sources, grouped)."""
    parts = []
    for source in sources:
        query = source(start, end).subquery()
        day = day_number_in(query.c.at, where, start, end)
        parts.append(select(query.c.account_id, day.label("day")))
    union = union_all(*parts).subquery()
    # Core, not the ORM: plain tuples are all this needs, and many of them.
    rows = db.session.connection().execute(
        select(union.c.account_id, union.c.day)
        .group_by(union.c.account_id, union.c.day)
        .order_by(union.c.account_id, union.c.day)
    )
    days: dict[int, list[date]] = defaultdict(list)
    fromordinal = date.fromordinal
    for account_id, day in rows:
        days[account_id].append(fromordinal(day))
    return days


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


_pct = pct

# (verb, pooled) -> how an account's rhythm is said.
_RHYTHM = {
    ("orders", False): _l(
        "it usually orders every %(median)s, %(red)s %% of the gaps are at most %(p_red)s"
    ),
    ("orders", True): _l(
        "all accounts together usually orders every %(median)s, %(red)s %% of the gaps are at "
        "most %(p_red)s"
    ),
    ("raises", False): _l(
        "it usually raises something every %(median)s, %(red)s %% of the gaps are at most %(p_red)s"
    ),
    ("raises", True): _l(
        "all accounts together usually raises something every %(median)s, %(red)s %% of the "
        "gaps are at most %(p_red)s"
    ),
}


def _rhythm_sentence(usual: stats.Rhythm, verb: str, threshold: Threshold) -> Phrase:
    return Phrase(
        _RHYTHM[verb, usual.pooled],
        median=days_text(usual.median),
        red=number(threshold.red),
        p_red=days_text(usual.p_red),
    )


def _every(usual: stats.Rhythm) -> Phrase:
    """The baseline of a rhythm: "every 12 days", "every 11 days — all accounts"."""
    if usual.pooled:
        return Phrase(_l("every %(days)s — all accounts"), days=days_text(usual.median))
    return Phrase(_l("every %(days)s"), days=days_text(usual.median))


def _pooled_gaps(days: dict[int, list[date]]) -> list[int]:
    return [gap for listed in days.values() for gap in stats.gaps_of(listed)]


# --- the signals ---------------------------------------------------------------------------


def _orders(start: datetime, end: datetime):
    from portal.ordering.models import Order

    return select(Order.account_id.label("account_id"), Order.placed_at.label("at")).where(
        Order.placed_at >= start, Order.placed_at < end, Order.status != "rejected"
    )


def order_days(ctx: Context) -> dict[int, list[date]]:
    """Each account's distinct order days over the last 24 months (shared by two signals)."""
    if "order_days" not in ctx.cache:
        ctx.cache["order_days"] = days_per_account(
            [_orders], ctx.since(HISTORY_DAYS), ctx.end, ctx.zone
        )
    return ctx.cache["order_days"]


@signal(
    "order_rhythm",
    _l("Order rhythm"),
    _l(
        "Days since the last order against the account's own gaps between orders over 24 "
        "months: amber past this percentile of its gaps, red past the second."
    ),
    "percentile",
    weight=25,
    amber=75,
    red=90,
    lower_is_worse=False,
)
def order_rhythm(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    days = order_days(ctx)
    pooled = _pooled_gaps(days)
    readings = {}
    for account_id in ctx.account_ids:
        listed = days.get(account_id, [])
        usual = stats.rhythm(
            stats.gaps_of(listed), pooled, amber=threshold.amber, red=threshold.red
        )
        baseline = (
            Phrase(
                _l("every %(median)s (p%(amber)s %(p_amber)s, p%(red)s %(p_red)s)")
                if not usual.pooled
                else _l(
                    "every %(median)s (p%(amber)s %(p_amber)s, p%(red)s %(p_red)s) — all accounts"
                ),
                median=days_text(usual.median),
                amber=number(threshold.amber),
                p_amber=days_text(usual.p_amber),
                red=number(threshold.red),
                p_red=days_text(usual.p_red),
            )
            if usual.known
            else Phrase(_l("no rhythm yet"))
        )
        if not listed:
            readings[account_id] = Reading(
                None, Phrase(_l("no order")), baseline, stats.RED if usual.known else None,
                Phrase(_l("no order in the last 24 months")),
            )  # fmt: skip
            continue
        since_last = (ctx.as_of - listed[-1]).days
        parts = [Phrase(_l("no order for %(days)s"), days=days_text(since_last))]
        if usual.known:
            parts.append(_rhythm_sentence(usual, "orders", threshold))
        if usual.pooled:
            parts[-1] = Phrase(
                _l("%(sentence)s (it placed orders on only %(count)s days in 24 months)"),
                sentence=parts[-1],
                count=len(listed),
            )
        readings[account_id] = Reading(
            since_last,
            days_text(since_last),
            baseline,
            stats.overdue_status(since_last, usual),
            Joined(parts),
        )
    return readings


@signal(
    "volume",
    _l("Volume"),
    _l(
        "Order value of the last 90 days as a share of the same 90 days a year before, and the "
        "quantity ordered as a share of its latest forecast for those months; the lower of the "
        "two decides: amber below the first share, red below the second."
    ),
    "%",
    weight=15,
    amber=80,
    red=50,
    lower_is_worse=True,
)
def volume(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    from portal.ordering.models import Order

    recent_start, recent_end = ctx.since(WINDOW_DAYS), ctx.end
    a_year = timedelta(days=365)
    year_start = ctx.day_start(ctx.as_of - timedelta(days=WINDOW_DAYS - 1) - a_year)
    year_end = ctx.day_start(ctx.as_of + timedelta(days=1) - a_year)
    in_recent = and_(Order.placed_at >= recent_start, Order.placed_at < recent_end)
    in_year = and_(Order.placed_at >= year_start, Order.placed_at < year_end)
    rows = db.session.execute(
        select(
            Order.account_id,
            func.sum(case((in_recent, Order.total), else_=0)),
            func.sum(case((in_year, Order.total), else_=0)),
        )
        .where(
            Order.placed_at >= year_start,
            Order.placed_at < recent_end,
            Order.status.not_in(("rejected", "cancelled")),
        )
        .group_by(Order.account_id)
    )
    values = {account_id: (recent or 0, before or 0) for account_id, recent, before in rows}
    against_forecast = _volume_against_forecast(ctx)
    readings = {}
    for account_id in ctx.account_ids:
        recent, before = values.get(account_id, (0, 0))
        year_share = round(100 * float(recent) / float(before), 1) if before else None
        forecast_share = against_forecast.get(account_id)
        if year_share is None and forecast_share is None:
            readings[account_id] = Reading(
                None, amount(recent),
                Phrase(_l("nothing to compare")), None,
                Phrase(
                    _l(
                        "ordered %(amount)s in the last 90 days; no orders a year before and "
                        "no forecast to compare with"
                    ),
                    amount=amount(recent),
                ),
            )  # fmt: skip
            continue
        # The first two said as one clause ("ordered …, 95 % of …"), the rest after "; ".
        if year_share is not None:
            first = Phrase(
                _l(
                    "ordered %(amount)s in the last 90 days, %(share)s of the same days a year "
                    "before (%(before)s)"
                ),
                amount=amount(recent),
                share=_pct(year_share),
                before=amount(before),
            )
        else:
            first = Phrase(
                _l("ordered %(amount)s in the last 90 days, nothing a year before to compare"),
                amount=amount(recent),
            )
        parts = [first]
        if forecast_share is not None:
            parts.append(
                Phrase(
                    _l("%(share)s of what its latest forecast said for those months"),
                    share=_pct(forecast_share),
                )
            )
        # The worse of the two comparisons decides, on the same thresholds: an account
        # that orders like last year but far below what it forecast is short all the same.
        on_forecast = year_share is None or (
            forecast_share is not None and forecast_share < year_share
        )
        share = forecast_share if on_forecast else year_share
        status = stats.below_status(share, threshold.amber, threshold.red)
        if year_share is not None and forecast_share is not None and status != stats.GREEN:
            parts.append(
                Phrase(_l("judged on its forecast, the lower of the two"))
                if on_forecast
                else Phrase(_l("judged on the year before, the lower of the two"))
            )
        readings[account_id] = Reading(
            share,
            _pct(share),
            Phrase(_l("its forecast"))
            if on_forecast
            else Phrase(_l("%(amount)s a year before"), amount=amount(before)),
            status,
            Joined(parts),
        )
    return readings


def _volume_against_forecast(ctx: Context) -> dict[int, float]:
    """Quantity ordered in the last 90 days as a % of the quantity forecast for those
    days (each month's forecast from the latest version that covers it, prorated by the
    month's days in the window); only accounts with such a forecast."""
    from portal.forecasts.models import DRAFT_NUMBER, ForecastCell, ForecastVersion
    from portal.forecasts.months import add_months, first_of_month
    from portal.ordering.models import Order, OrderLine

    start_day = ctx.as_of - timedelta(days=WINDOW_DAYS - 1)
    first, last = first_of_month(start_day), first_of_month(ctx.as_of)
    rows = db.session.execute(
        select(
            ForecastVersion.account_id,
            ForecastVersion.published_at,
            ForecastCell.month,
            func.sum(ForecastCell.quantity),
        )
        .join(ForecastCell, ForecastCell.version_id == ForecastVersion.id)
        .where(
            ForecastVersion.number > DRAFT_NUMBER,
            ForecastVersion.published_at < ctx.end,
            ForecastCell.month >= first,
            ForecastCell.month <= last,
        )
        .group_by(
            ForecastVersion.id,
            ForecastVersion.account_id,
            ForecastVersion.published_at,
            ForecastCell.month,
        )  # fmt: skip
    )
    latest: dict[tuple[int, date], tuple[datetime, int]] = {}
    for account_id, published_at, month, quantity in rows:
        key = (account_id, _as_date(month))
        if key not in latest or published_at > latest[key][0]:
            latest[key] = (published_at, quantity or 0)
    if not latest:
        return {}
    forecast: dict[int, float] = defaultdict(float)
    for (account_id, month), (_, quantity) in latest.items():
        month_end = add_months(month, 1) - timedelta(days=1)
        inside = (min(month_end, ctx.as_of) - max(month, start_day)).days + 1
        forecast[account_id] += quantity * max(inside, 0) / month_end.day
    ordered = dict(
        db.session.execute(
            select(Order.account_id, func.sum(OrderLine.quantity))
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(
                Order.account_id.in_(list(forecast)),
                Order.placed_at >= ctx.since(WINDOW_DAYS),
                Order.placed_at < ctx.end,
                Order.status != "rejected",
            )
            .group_by(Order.account_id)
        ).all()
    )
    return {
        account_id: round(100 * (ordered.get(account_id) or 0) / quantity, 1)
        for account_id, quantity in forecast.items()
        if quantity > 0
    }


def _service_requests(start, end):
    from portal.service.models import ServiceRequest

    return select(
        ServiceRequest.account_id.label("account_id"), ServiceRequest.opened_at.label("at")
    ).where(ServiceRequest.opened_at >= start, ServiceRequest.opened_at < end)


def _suggestions(start, end):
    from portal.ideas.models import Idea

    return select(Idea.account_id.label("account_id"), Idea.submitted_at.label("at")).where(
        Idea.direction == "customer", Idea.submitted_at >= start, Idea.submitted_at < end
    )


def _vendor_staff():
    """The ids of vendor staff (few): messages are told apart by author with an IN list,
    which every planner reads once, instead of a join to every message's author."""
    return select(User.id).where(User.account_id.is_(None))


def _by_side(author_column, customer: bool):
    if customer:
        return author_column.is_not(None) & author_column.not_in(_vendor_staff())
    return author_column.in_(_vendor_staff())


def _idea_messages(customer: bool):
    def source(start, end):
        from portal.ideas.models import Idea, IdeaMessage

        return (
            select(Idea.account_id.label("account_id"), IdeaMessage.created_at.label("at"))
            .select_from(IdeaMessage)
            .join(Idea, Idea.id == IdeaMessage.idea_id)
            .where(
                _by_side(IdeaMessage.author_id, customer),
                IdeaMessage.internal.is_(False),
                IdeaMessage.created_at >= start,
                IdeaMessage.created_at < end,
            )
        )

    return source


def _service_messages(customer: bool):
    def source(start, end):
        from portal.service.models import ServiceMessage, ServiceRequest

        return (
            select(
                ServiceRequest.account_id.label("account_id"), ServiceMessage.created_at.label("at")
            )
            .select_from(ServiceMessage)
            .join(ServiceRequest, ServiceRequest.id == ServiceMessage.request_id)
            .where(
                _by_side(ServiceMessage.author_id, customer),
                ServiceMessage.internal.is_(False),
                ServiceMessage.created_at >= start,
                ServiceMessage.created_at < end,
            )
        )

    return source


def _forecasts(start, end):
    from portal.forecasts.models import DRAFT_NUMBER, ForecastVersion

    return select(
        ForecastVersion.account_id.label("account_id"), ForecastVersion.published_at.label("at")
    ).where(
        ForecastVersion.number > DRAFT_NUMBER,
        ForecastVersion.published_at >= start,
        ForecastVersion.published_at < end,
    )


def _customer_plans(start, end):
    from portal.plans.models import Plan, PlanRevision

    return (
        select(Plan.account_id.label("account_id"), PlanRevision.created_at.label("at"))
        .select_from(PlanRevision)
        .join(Plan, Plan.id == PlanRevision.plan_id)
        .where(
            Plan.side == "customer", PlanRevision.created_at >= start, PlanRevision.created_at < end
        )
    )


# What the customer raised: a request or complaint, a suggestion, a message, a forecast,
# a plan. Orders are the order rhythm's, not silence's.
CUSTOMER_SOURCES: list = [
    _service_requests,
    _suggestions,
    _idea_messages(customer=True),
    _service_messages(customer=True),
    _forecasts,
    _customer_plans,
]


def _logged_contacts(start, end):
    """Calls, visits, meetings and e-mails vendor staff logged, on the day they happened
    (a date, no time: read it as a day, never beside instants, see last_vendor_contact)."""
    from portal.contacts.models import ContactEntry

    # The bounds are the vendor's midnights (Context.day_start), the staff's days.
    first, after = local_day(start, vendor_zone()), local_day(end, vendor_zone())
    return select(
        ContactEntry.account_id.label("account_id"), ContactEntry.contacted_on.label("at")
    ).where(ContactEntry.contacted_on >= first, ContactEntry.contacted_on < after)


# When the vendor spoke with the customer: answers on suggestions and service requests,
# and the contact log (calls, visits, meetings, e-mails).
VENDOR_SOURCES: list = [
    _idea_messages(customer=False),
    _service_messages(customer=False),
    _logged_contacts,
]


# No request or complaint for this long while orders go on is a signal in itself:
# amber after the first number of days, red after the second (or none in 24 months).
QUIET_ON_REQUESTS_DAYS = (180, 365)


@signal(
    "silence",
    _l("Silence"),
    _l(
        "Days since the account last raised anything (a request or complaint, a suggestion, a "
        "message, a forecast, a plan) against its own usual interval: amber past this "
        "percentile of its gaps, red past the second. Nothing raised in 24 months is red, and so "
        "is no request or complaint for a year while it kept ordering (amber after 180 days)."
    ),
    "percentile",
    weight=20,
    amber=75,
    red=90,
    lower_is_worse=False,
)
def silence(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    start = ctx.since(HISTORY_DAYS)
    days = days_per_account(CUSTOMER_SOURCES, start, ctx.end, ctx.zone)
    requests = days_per_account([_service_requests], start, ctx.end, ctx.zone)
    pooled = _pooled_gaps(days)
    orders = order_days(ctx)
    readings = {}
    for account_id in ctx.account_ids:
        listed = days.get(account_id, [])
        quiet_status, quiet_text = _quiet_on_requests(
            ctx.as_of, requests.get(account_id, []), orders.get(account_id, [])
        )
        if not listed:
            ordered = len(orders.get(account_id, []))
            readings[account_id] = Reading(
                None,
                Phrase(_l("nothing raised")),
                Phrase(_l("nothing in 24 months")),
                stats.RED,
                Phrase(
                    _l(
                        "nothing raised in 24 months — no request, complaint, suggestion, "
                        "message, forecast or plan — while it ordered on %(count)s days"
                    ),
                    count=ordered,
                )
                if ordered
                else Phrase(
                    _l(
                        "nothing raised in 24 months — no request, complaint, suggestion, "
                        "message, forecast or plan"
                    )
                ),
            )
            continue
        usual = stats.rhythm(
            stats.gaps_of(listed), pooled, amber=threshold.amber, red=threshold.red
        )
        since_last = (ctx.as_of - listed[-1]).days
        parts = [Phrase(_l("nothing raised for %(days)s"), days=days_text(since_last))]
        if usual.known:
            parts.append(_rhythm_sentence(usual, "raises", threshold))
        if usual.pooled:
            parts[-1] = Phrase(
                _l("%(sentence)s (it raised something on only %(count)s days in 24 months)"),
                sentence=parts[-1],
                count=len(listed),
            )
        if quiet_text:
            parts.append(quiet_text)
        readings[account_id] = Reading(
            since_last,
            days_text(since_last),
            _every(usual) if usual.known else Phrase(_l("no rhythm yet")),
            stats.worst(stats.overdue_status(since_last, usual), quiet_status),
            Joined(parts),
        )
    return readings


def _quiet_on_requests(as_of: date, requests: list[date], orders: list[date]):
    """(status, sentence) for an account that raised no request or complaint for long
    while it kept ordering; (None, "") when that is not the case."""
    last_request = requests[-1] if requests else None
    since = (as_of - last_request).days if last_request else None
    ordered_since = [d for d in orders if last_request is None or d > last_request]
    if not ordered_since:
        return None, ""
    amber, red = QUIET_ON_REQUESTS_DAYS
    if since is None:
        return stats.RED, Phrase(
            _l(
                "no request or complaint in 24 months while it ordered on %(count)s days — "
                "silence is not health"
            ),
            count=len(ordered_since),
        )
    if since > red:
        status = stats.RED
    elif since > amber:
        status = stats.AMBER
    else:
        return None, ""
    return status, Phrase(
        _l("no request or complaint for %(days)s while it ordered on %(count)s days"),
        days=days_text(since),
        count=len(ordered_since),
    )


def _at_most(threshold: Threshold) -> Phrase:
    return Phrase(_l("at most %(days)s"), days=days_text(threshold.amber))


def last_vendor_contact(
    account_ids: list[int] | None, start: datetime, end: datetime
) -> dict[int, date]:
    """The vendor's day (portal.days) on which it last spoke with each account between
    `start` and `end`: answers, and the contact log's entries, in one statement.

    Compared as days, not instants: a logged contact has a date, no time, and a date set
    beside timestamps (a UNION) became midnight in the database session's zone (UTC),
    which is the day before in a vendor's zone west of UTC. Each source's latest instant
    per account is turned into its day in the vendor's zone first (a day only moves
    forward with the instant, so the day of the latest is the latest day), then the
    latest day of the sources is taken."""
    where = vendor_zone()
    parts = []
    for source in VENDOR_SOURCES:
        query = source(start, end).subquery()
        latest = (
            select(query.c.account_id, func.max(query.c.at).label("at"))
            .group_by(query.c.account_id)
            .subquery()
        )
        day = day_number_in(latest.c.at, where, start, end)
        parts.append(select(latest.c.account_id, day.label("day")))
    union = union_all(*parts).subquery()
    query = select(union.c.account_id, func.max(union.c.day)).group_by(union.c.account_id)
    if account_ids is not None:
        query = query.where(union.c.account_id.in_(account_ids))
    return {
        account_id: date.fromordinal(day)
        for account_id, day in db.session.connection().execute(query)
    }


@signal(
    "vendor_contact",
    _l("Vendor contact"),
    _l(
        "Days since the vendor last spoke with the account (an answer on a suggestion or a "
        "service request, a logged contact): amber after the first number of days, red after "
        "the second."
    ),
    "days",
    weight=10,
    amber=30,
    red=60,
    lower_is_worse=False,
)
def vendor_contact(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    last = last_vendor_contact(None, ctx.since(HISTORY_DAYS), ctx.end)
    readings = {}
    for account_id in ctx.account_ids:
        day = last.get(account_id)
        if day is None:
            readings[account_id] = Reading(
                None, Phrase(_l("never")), _at_most(threshold), stats.RED,
                Phrase(
                    _l(
                        "the vendor has not spoken with it in 24 months (no answer, no logged "
                        "contact)"
                    )
                ),
            )  # fmt: skip
            continue
        days = (ctx.as_of - day).days
        readings[account_id] = Reading(
            days,
            days_text(days),
            _at_most(threshold),
            stats.above_status(days, threshold.amber, threshold.red),
            Phrase(_l("the vendor last spoke with it %(days)s ago"), days=days_text(days)),
        )
    return readings


@signal(
    "promises",
    _l("Promises"),
    _l(
        "On time in full over the last 90 days (promise dates up to yesterday, from the promise "
        "ledger): amber below the first share, red below the second."
    ),
    "%",
    weight=15,
    amber=90,
    red=75,
    lower_is_worse=True,
)
def promises(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    from portal.fulfilment import ledger

    accounts = select(CustomerAccount.id)
    recent = ledger.ledger(
        accounts,
        start=ctx.as_of - timedelta(days=WINDOW_DAYS),
        end=ctx.as_of - timedelta(days=1),
        today=ctx.as_of,
    )
    before = ledger.ledger(
        accounts,
        start=ctx.as_of - timedelta(days=2 * WINDOW_DAYS),
        end=ctx.as_of - timedelta(days=WINDOW_DAYS + 1),
        today=ctx.as_of,
    )
    now = {account.id: figures for account, figures in recent.by_account}
    then = {account.id: figures for account, figures in before.by_account}
    late = _late_lines(ctx) if ctx.is_today else {}
    readings = {}
    for account_id in ctx.account_ids:
        figures, previous = now.get(account_id), then.get(account_id)
        share = _share(figures.on_time_in_full, figures.lines) if figures else None
        earlier = _share(previous.on_time_in_full, previous.lines) if previous else None
        parts = []
        if figures:
            parts.append(
                Phrase(
                    _l(
                        "%(share)s on time in full over the last 90 days (%(kept)s of %(lines)s "
                        "lines)"
                    ),
                    share=_pct(share),
                    kept=figures.on_time_in_full,
                    lines=figures.lines,
                )
            )
        else:
            parts.append(Phrase(_l("no promise fell due in the last 90 days")))
        if earlier is not None:
            parts.append(Phrase(_l("%(share)s in the 90 days before"), share=_pct(earlier)))
        if figures and figures.changes:
            n = figures.changes
            parts.append(
                Phrase(
                    lazy_ngettext("%(num)s promise change", "%(num)s promise changes", n),
                    num=n,
                )
            )
        if n := late.get(account_id):
            parts.append(
                Phrase(lazy_ngettext("%(num)s line late now", "%(num)s lines late now", n), num=n)
            )
        status = stats.below_status(share, threshold.amber, threshold.red)
        if status is None and late.get(account_id):
            status = stats.AMBER
        readings[account_id] = Reading(
            share,
            _pct(share),
            Phrase(_l("%(share)s the 90 days before"), share=_pct(earlier))
            if earlier is not None
            else "—",
            status,
            Joined(parts),
        )
    return readings


def _late_lines(ctx: Context) -> dict[int, int]:
    """Lines whose promised date has passed with their due quantity not yet done (shipped
    or delivered, by the account's terms): today's state, so only for today. Whether a
    promised day has passed is the account's matter, judged on its own day (portal.days):
    at 23:30 UTC a line promised for that day is late in Berlin and not in Chicago. Two
    statements whatever the number of accounts or zones: the lines still due (read from
    the partial index ix_order_line_still_due, a few among millions) promised before the
    latest day anywhere, then their orders' accounts, terms and zones."""
    from portal.ordering.models import Order, OrderLine

    # No zone's day is later than UTC+14's: the lines promised before it, and each is
    # then held against its own account's day.
    latest_day_anywhere = (ctx.judged_at + timedelta(hours=14)).date()
    lines = db.session.execute(
        select(
            OrderLine.order_id,
            OrderLine.promised_on,
            OrderLine.quantity - OrderLine.cancelled_quantity,
            OrderLine.shipped_quantity,
            OrderLine.delivered_quantity,
        ).where(
            # Written out, not bound: SQLite uses a partial index only for the same terms.
            OrderLine.status == literal_column("'confirmed'"),
            OrderLine.delivered_quantity < OrderLine.quantity,
            OrderLine.promised_on < latest_day_anywhere,
        )
    ).all()
    if not lines:
        return {}
    orders = {
        order_id: (account_id, basis, timezone)
        for order_id, account_id, basis, timezone in db.session.execute(
            select(
                Order.id, Order.account_id, CustomerAccount.promise_basis, CustomerAccount.timezone
            )
            .join(CustomerAccount, CustomerAccount.id == Order.account_id)
            .where(Order.id.in_(sorted({line[0] for line in lines})))
        )
    }
    today_in: dict[str | None, date] = {}  # a few zones among all the accounts
    late: dict[int, int] = defaultdict(int)
    for order_id, promised_on, due, shipped, delivered in lines:
        account_id, basis, timezone = orders[order_id]
        if timezone not in today_in:
            today_in[timezone] = local_day(ctx.judged_at, zone_of_account(timezone))
        if promised_on < today_in[timezone] and (
            (shipped if basis == "shipment" else delivered) < due
        ):
            late[account_id] += 1
    return late


@signal(
    "responsiveness",
    _l("Responsiveness"),
    _l(
        "The vendor's answers over the last 90 days — suggestions answered within the promised "
        "time, service promises kept (first response and resolution), the customer's plans "
        "acknowledged — each counted once: amber below the first share, red below the second."
    ),
    "%",
    weight=5,
    amber=90,
    red=75,
    lower_is_worse=True,
)
def responsiveness(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    from portal.ideas import measures as idea_measures
    from portal.ideas.models import Idea

    # The suggestions sent in the window's vendor days: from ctx.since(WINDOW_DAYS) to
    # ctx.end, as the other signals read; each promise judged on its account's day then.
    start_day = ctx.as_of - timedelta(days=WINDOW_DAYS - 1)
    ideas = idea_measures.measures_for(
        select(Idea), start_day, ctx.as_of, ctx.last_instant, where=ctx.zone
    )
    idea_by = {account.id: m for account, m in ideas.by_account}
    service_by = _service_measures(ctx)
    plans = _plans_acknowledged(ctx)
    readings = {}
    for account_id in ctx.account_ids:
        parts, kept, due = [], 0, 0
        if (m := idea_by.get(account_id)) and m.due:
            kept, due = kept + m.within_promise, due + m.due
            parts.append(
                Phrase(
                    _l("suggestions answered within the promise %(kept)s of %(due)s"),
                    kept=m.within_promise,
                    due=m.due,
                )
            )
        if (m := service_by.get(account_id)) and m.promises_due:
            kept, due = kept + m.promises_kept, due + m.promises_due
            parts.append(
                Phrase(
                    _l("service promises kept %(kept)s of %(due)s"),
                    kept=m.promises_kept,
                    due=m.promises_due,
                )
            )
        if account_id in plans:
            acknowledged, published = plans[account_id]
            kept, due = kept + acknowledged, due + published
            parts.append(
                Phrase(
                    _l("plans acknowledged %(kept)s of %(due)s"), kept=acknowledged, due=published
                )
            )
        if not due:
            readings[account_id] = Reading(
                None, "—", Phrase(_l("nothing due")), None,
                Phrase(_l("nothing the vendor had to answer fell due in the last 90 days")),
            )  # fmt: skip
            continue
        share = _share(kept, due)
        readings[account_id] = Reading(
            share,
            _pct(share),
            Phrase(_l("every answer in time")),
            stats.below_status(share, threshold.amber, threshold.red),
            Phrase(
                _l("%(share)s of what fell due was answered in time: %(parts)s"),
                share=_pct(share),
                parts=Joined(parts),
            ),
        )
    return readings


def _service_measures(ctx: Context) -> dict:
    """The service measures (portal.service.measures) per account over the requests opened
    in the last 90 days, read lean: only the columns the promise clock and the measures
    need, not whole requests."""
    from portal.service import measures
    from portal.service.models import ServiceRequest

    now = ctx.judged_at
    # Requests give their kept answer where it is current; the clock runs for the rest.
    return measures.measures_by_account(
        select(ServiceRequest).where(
            ServiceRequest.opened_at >= ctx.since(WINDOW_DAYS),
            ServiceRequest.opened_at < ctx.end,
        ),
        now,
    )


def _plans_acknowledged(ctx: Context) -> dict[int, tuple[int, int]]:
    """Per account: its plan revisions of the last 90 days that vendor staff
    acknowledged, and all of them."""
    from portal.plans.models import Plan, PlanAcknowledgement, PlanRevision

    by_vendor = (
        select(PlanAcknowledgement.id)
        .join(User, User.id == PlanAcknowledgement.user_id)
        .where(
            PlanAcknowledgement.revision_id == PlanRevision.id,
            User.account_id.is_(None),
            PlanAcknowledgement.at < ctx.end,
        )
        .exists()
    )
    rows = db.session.execute(
        select(Plan.account_id, func.sum(case((by_vendor, 1), else_=0)), func.count())
        .select_from(PlanRevision)
        .join(Plan, Plan.id == PlanRevision.plan_id)
        .where(
            Plan.side == "customer",
            PlanRevision.created_at >= ctx.since(WINDOW_DAYS),
            PlanRevision.created_at < ctx.end,
        )
        .group_by(Plan.account_id)
    )
    return {account_id: (int(acked or 0), total) for account_id, acked, total in rows}


FORECAST_ACCURACY_MONTHS = 6


@signal(
    "forecast",
    _l("Forecast"),
    _l(
        "How the account shares its demand: days since its last published forecast against its "
        "usual cadence (amber past its 75th percentile, red past its 90th), and the error of its "
        "forecasts three months ahead (WAPE over the last six months): amber above the first "
        "%, red above the second. Commitments below its forecast make it amber at least."
    ),
    "% WAPE",
    weight=5,
    amber=40,
    red=80,
    lower_is_worse=False,
)
def forecast(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    days = days_per_account([_forecasts], ctx.since(HISTORY_DAYS), ctx.end, ctx.zone)
    pooled = _pooled_gaps(days)
    wape = _forecast_error(ctx, list(days))
    below = _commitments_below(ctx)
    readings = {}
    for account_id in ctx.account_ids:
        listed = days.get(account_id)
        if not listed:
            readings[account_id] = Reading(
                None, "—", Phrase(_l("no forecasts")), None, Phrase(_l("it shares no forecasts"))
            )
            continue
        usual = stats.rhythm(stats.gaps_of(listed), pooled)
        since_last = (ctx.as_of - listed[-1]).days
        error = wape.get(account_id)
        parts = [Phrase(_l("last forecast %(days)s ago"), days=days_text(since_last))]
        if usual.known:
            parts.append(
                Phrase(
                    _l("all accounts usually publish every %(days)s")
                    if usual.pooled
                    else _l("it usually publishes every %(days)s"),
                    days=days_text(usual.median),
                )
            )
        if error is not None:
            parts.append(
                Phrase(
                    _l("three months ahead its forecasts were off by %(share)s (WAPE)"),
                    share=_pct(error),
                )
            )
        if n := below.get(account_id):
            parts.append(
                Phrase(
                    lazy_ngettext(
                        "%(num)s commitment below its forecast",
                        "%(num)s commitments below its forecast",
                        n,
                    ),
                    num=n,
                )
            )
        status = stats.worst(
            stats.overdue_status(since_last, usual),
            stats.above_status(error, threshold.amber, threshold.red),
            stats.AMBER if below.get(account_id) else None,
        )
        readings[account_id] = Reading(
            error,  # charted: the error; None until three months of forecasts can be judged
            _pct(error) if error is not None else days_text(since_last),
            Phrase(_l("every %(days)s"), days=days_text(usual.median)) if usual.known else "—",
            status,
            Joined(parts),
        )
    return readings


def _forecast_error(ctx: Context, account_ids: list[int]) -> dict[int, float]:
    """WAPE three months ahead over the last six complete months, through the forecasts
    area's `accuracy` (the same definitions as its accuracy page), for all accounts. The
    months are each account's own (portal.days), as on its accuracy page: at 23:30 UTC on
    30 November November has ended in Berlin, not in Chicago. Accounts in the same month
    (a few groups: their zones) are measured together, from the same three statements."""
    if not account_ids:
        return {}
    from portal.forecasts import accuracy
    from portal.forecasts.models import DRAFT_NUMBER, ForecastCell, ForecastVersion
    from portal.forecasts.months import add_months, first_of_month
    from portal.forecasts.planning import ordered_lines

    stamps: dict[int, list] = defaultdict(list)
    this_month_in: dict[str | None, date] = {}
    months_of: dict[int, tuple[date, ...]] = {}
    zone_of: dict[int, ZoneInfo] = {}  # a version's day is its account's too
    for vid, account_id, timezone, at in db.session.execute(
        select(
            ForecastVersion.id,
            ForecastVersion.account_id,
            CustomerAccount.timezone,
            ForecastVersion.published_at,
        )
        .join(CustomerAccount, CustomerAccount.id == ForecastVersion.account_id)
        .where(ForecastVersion.number > DRAFT_NUMBER, ForecastVersion.published_at < ctx.end)
        .order_by(ForecastVersion.published_at)
    ):
        stamps[account_id].append((vid, at))
        if account_id not in months_of:
            zone_of[account_id] = zone_of_account(timezone)
            if timezone not in this_month_in:
                this_month_in[timezone] = first_of_month(ctx.account_day(timezone))
            this_month = this_month_in[timezone]
            months_of[account_id] = tuple(
                add_months(this_month, -n) for n in range(FORECAST_ACCURACY_MONTHS, 0, -1)
            )
    wanted = set()
    for account_id, history in stamps.items():
        wanted |= accuracy.versions_read(
            history, months_of[account_id], lags=(3,), where=zone_of[account_id]
        )
    if not wanted:
        return {}
    first = min(months[0] for months in months_of.values())
    last = max(months[-1] for months in months_of.values())
    quantities: dict[int, dict] = {vid: {} for vid in wanted}
    for vid, pid, month, quantity in db.session.execute(
        select(
            ForecastCell.version_id,
            ForecastCell.product_id,
            ForecastCell.month,
            ForecastCell.quantity,
        ).where(  # fmt: skip
            ForecastCell.version_id.in_(sorted(wanted)),
            ForecastCell.month >= first,
            ForecastCell.month <= last,
        )
    ):
        quantities[vid][(pid, _as_date(month))] = quantity
    versions = [
        accuracy.Version(account_id, at, quantities[vid], zone_of[account_id])
        for account_id, history in stamps.items()
        for vid, at in history
        if vid in wanted
    ]
    ordered = ordered_lines(sorted(stamps), first, add_months(last, 1))
    # One measurement per set of months; each reads only its accounts' versions and
    # orders (accuracy measures every account it is given on the months it is given).
    groups: dict[tuple[date, ...], set[int]] = defaultdict(set)
    for account_id, months in months_of.items():
        groups[months].add(account_id)
    wape = {}
    for months, ids in groups.items():
        figures = accuracy.accuracy(
            [v for v in versions if v.account_id in ids],
            [line for line in ordered if line.account_id in ids],
            months=months,
            lags=(3,),
        )
        wape.update(
            (account_id, round(100 * f.wape, 1))
            for (account_id, lag), f in figures.by_account.items()
            if f.wape is not None
        )
    return wape


def _commitments_below(ctx: Context) -> dict[int, int]:
    """Commitments in force for the account's month and later that promise less than the
    forecast. The month is the account's own (portal.days): at 23:30 UTC on 30 November it
    is December in Berlin and still November in Chicago. One statement whatever the zones:
    the commitments from the earliest month any zone can be in, each then held against its
    own account's month (a few zones among all the accounts)."""
    from portal.forecasts.models import ForecastCommit
    from portal.forecasts.months import first_of_month

    # No zone's day is earlier than UTC-12's.
    earliest_month_anywhere = first_of_month((ctx.last_instant - timedelta(hours=12)).date())
    newest = (
        select(func.max(ForecastCommit.id).label("id"))
        .where(
            ForecastCommit.month >= earliest_month_anywhere,
            ForecastCommit.committed_at < ctx.end,
        )
        .group_by(ForecastCommit.account_id, ForecastCommit.product_id, ForecastCommit.month)
    ).subquery()
    rows = db.session.execute(
        select(
            ForecastCommit.account_id, CustomerAccount.timezone, ForecastCommit.month, func.count()
        )
        .join(newest, newest.c.id == ForecastCommit.id)
        .join(CustomerAccount, CustomerAccount.id == ForecastCommit.account_id)
        .where(ForecastCommit.quantity < ForecastCommit.forecast_quantity)
        .group_by(ForecastCommit.account_id, CustomerAccount.timezone, ForecastCommit.month)
    )
    month_in: dict[str | None, date] = {}
    below: dict[int, int] = defaultdict(int)
    for account_id, timezone, month, count in rows:
        if timezone not in month_in:
            month_in[timezone] = first_of_month(ctx.account_day(timezone))
        if _as_date(month) >= month_in[timezone]:
            below[account_id] += count
    return dict(below)


# --- all signals --------------------------------------------------------------------------


def thresholds() -> dict[str, Threshold]:
    """Each signal's weight and thresholds: the admins' choice, else the default."""
    from .models import SignalSetting

    chosen = {row.signal: row for row in db.session.scalars(select(SignalSetting))}
    result = {}
    for s in [*SIGNALS, ACCOUNT]:
        row = chosen.get(s.key)
        result[s.key] = Threshold(row.weight, row.amber, row.red) if row else s.default
    return result


# The account's own status from its score: not a signal, but kept like one on the
# settings page (amber below the first score, red below the second).
ACCOUNT = Signal(
    "account",
    _l("Account"),
    _l(
        "The account's status from its score (0–100): amber below the first score or with one "
        "red signal, red below the second or with two red signals."
    ),
    "score",
    Threshold(0, 75, 50),
    lambda ctx, threshold: {},
    lower_is_worse=True,
)


@signal(
    "customer_word",
    _l("The customer's own word"),
    _l(
        "Its latest relationship rating (1–5, given by its people on the scorecard): amber at or "
        "below the first figure, red at or below the second; a rating older than a year is read "
        "as no rating."
    ),
    "of 5",
    weight=5,
    amber=3,
    red=2,
    lower_is_worse=True,
)
def customer_word(ctx: Context, threshold: Threshold) -> dict[int, Reading]:
    from portal.reviews.ratings import latest_ratings

    ratings = latest_ratings(ctx.account_ids, before=ctx.end)
    readings = {}
    for account_id in ctx.account_ids:
        rating = ratings.get(account_id)
        rated_on = local_day(rating.rated_at, ctx.zone) if rating is not None else None
        if rated_on is None or (ctx.as_of - rated_on).days > 365:
            readings[account_id] = Reading(
                None, "—", _above(threshold), None, Phrase(_l("it has not rated us this year"))
            )
            continue
        # Lower is worse, and a rating *at* a threshold counts: below_status is strict.
        status = stats.below_status(rating.score, threshold.amber + 1, threshold.red + 1)
        rated = {"score": rating.score, "date": rated_on}
        readings[account_id] = Reading(
            rating.score,
            Phrase(_l("%(score)s of 5"), score=rating.score),
            _above(threshold),
            status,
            # What the customer wrote stays in its own words.
            Phrase(_l("rated us %(score)s of 5 on %(date)s; it said: “%(comment)s”"),
                   comment=rating.comment, **rated)
            if rating.comment
            else Phrase(_l("rated us %(score)s of 5 on %(date)s"), **rated),
        )  # fmt: skip
    return readings


def _above(threshold: Threshold) -> Phrase:
    return Phrase(_l("above %(score)s of 5"), score=number(threshold.amber))


def compute(
    as_of: date,
    account_ids: list[int] | None = None,
    *,
    is_today: bool = True,
    chosen: dict[str, Threshold] | None = None,
    now: datetime | None = None,
) -> dict[int, dict[str, Reading]]:
    """Every signal of every account (or the given ones) as of the end of `as_of`, a day
    of the vendor's; what exists only as current state is judged at `now` (the clock)."""
    if account_ids is None:
        account_ids = list(
            db.session.scalars(select(CustomerAccount.id).order_by(CustomerAccount.id))
        )
    chosen = chosen or thresholds()
    ctx = Context(as_of, account_ids, chosen, is_today=is_today, now=now or utcnow())
    result: dict[int, dict[str, Reading]] = {account_id: {} for account_id in account_ids}
    for s in SIGNALS:
        for account_id, reading in s.compute(ctx, chosen[s.key]).items():
            if account_id in result:
                result[account_id][s.key] = reading
    return result
