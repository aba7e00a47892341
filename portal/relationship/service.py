"""What the relationship pages read: who may see which accounts, the portfolio, one
account's health with its history and trend, the CSV/XLSX download, and the admins'
weights and thresholds. Vendor staff only: account managers see the accounts they
manage, vendor admins every account; anyone else is refused.

Extension points (append a function, no change elsewhere needed):
- `LAST_CONTACT_SOURCES`: `account_ids -> {account_id: datetime}` of contacts newer than
  the snapshot knows (the contact log's); the portfolio shows the latest.
- `FOLLOW_UP_COUNTERS`: `account_ids -> {account_id: open follow-ups}` (the contact log's
  follow-ups); the portfolio shows their sum.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.orm import aliased, selectinload

from portal import spreadsheets
from portal.accounts.models import CustomerAccount, User, UserRole
from portal.accounts.roles import Role
from portal.contacts import service as contacts
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db

from . import alerts, charts, phrases, signals, snapshots, stats
from .models import Episode, SignalSetting, Snapshot

READERS = (Role.ACCOUNT_MANAGER, Role.ADMIN)
STATUS_ORDER = {stats.RED: 0, stats.AMBER: 1, stats.GREEN: 2}


def _logged_contacts(account_ids: list[int]) -> dict[int, datetime]:
    return {
        account_id: datetime.combine(last.contacted_on, time(), tzinfo=UTC)
        for account_id, last in contacts.last_contacts(account_ids).items()
    }


def _open_follow_ups(account_ids: list[int]) -> dict[int, int]:
    found = contacts.open_follow_ups(account_ids)
    return {account_id: follow_ups.open for account_id, follow_ups in found.items()}


LAST_CONTACT_SOURCES: list[Callable[[list[int]], dict[int, datetime]]] = [_logged_contacts]
FOLLOW_UP_COUNTERS: list[Callable[[list[int]], dict[int, int]]] = [_open_follow_ups]


# --- who sees what ---------------------------------------------------------------------


def _check_reader(viewer: User) -> None:
    if not viewer.is_vendor_staff or not viewer.has_role(*READERS):
        raise Forbidden("Relationship health is for account managers and vendor admins.")


def readable_accounts(viewer: User) -> Select:
    """A select of the ids of the accounts whose health `viewer` may read."""
    _check_reader(viewer)
    query = select(CustomerAccount.id)
    if not viewer.has_role(Role.ADMIN):
        query = query.where(CustomerAccount.account_manager_id == viewer.id)
    return query


def account_for(viewer: User, number: str) -> CustomerAccount:
    """The account with this number, if the viewer may read its health (else NotFound)."""
    account = db.session.scalar(
        select(CustomerAccount)
        .options(selectinload(CustomerAccount.account_manager))
        .where(
            CustomerAccount.number == number[:20], CustomerAccount.id.in_(readable_accounts(viewer))
        )
    )
    if account is None:
        raise NotFound()
    return account


def managers() -> list[User]:
    """Vendor staff holding the account manager role, for the admins' filter."""
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ACCOUNT_MANAGER.value, User.account_id.is_(None))
            .order_by(User.name)
        )
    )


# --- the portfolio -----------------------------------------------------------------------


# A status and a trend in the reader's words (the snapshot keeps the codes).
STATUS_LABELS = {stats.RED: _l("Red"), stats.AMBER: _l("Amber"), stats.GREEN: _l("Green")}
TREND_LABELS = {
    "improving": _l("improving"),
    "stable": _l("stable"),
    "deteriorating": _l("deteriorating"),
}
PAGE_SIZE = 100  # rows of the portfolio page; the download has every row
FILTER_STATUSES = (stats.RED, stats.AMBER, stats.GREEN)
LABELS = {s.key: s.label for s in signals.SIGNALS}


@dataclass(frozen=True, slots=True)
class AccountShown:
    """What a short portfolio shows of an account (`with_managers` False)."""

    id: int
    name: str
    number: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What a short portfolio reads of a snapshot (`with_managers` False)."""

    day: date
    score: int
    status: str
    signals: dict


@dataclass
class PortfolioRow:
    account: CustomerAccount | AccountShown
    snapshot: Snapshot | Reading | None
    sparkline: str
    trend: str | None
    last_contact: str
    follow_ups: int | None
    # (label, status, sentence) of the red signals, then the amber ones: worked out once
    # here, not by the template (it read them twice per row).
    reasons: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def status(self) -> str | None:
        return self.snapshot.status if self.snapshot else None

    @property
    def score(self) -> int | None:
        return self.snapshot.score if self.snapshot else None


def _reasons(snapshot: Snapshot | None) -> list[tuple[str, str, str]]:
    if not snapshot:
        return []
    found = [
        # The reason written for this reader (a message) or as stored (older snapshots),
        # when it is shown: the pages show the first one or three of a row's reasons,
        # and writing a stored message costs more than the rest of the row.
        (LABELS.get(key, key), reading["status"], phrases.Shown(reading["reason"]))
        for key, reading in snapshot.signals.items()
        if reading.get("status") in (stats.RED, stats.AMBER)
    ]
    return sorted(found, key=lambda item: STATUS_ORDER[item[1]])


@dataclass
class Portfolio:
    rows: list[PortfolioRow]
    day: date | None
    counts: dict[str, int] = field(default_factory=dict)
    total: int = 0  # accounts the filter matches, on every page
    page: int = 1
    pages: int = 1
    status: str | None = None  # the status filter, None: every status


def portfolio(
    viewer: User,
    today: date,
    *,
    manager_id: int | None = None,
    status: str | None = None,
    page: int = 1,
    per_page: int | None = PAGE_SIZE,
    with_managers: bool = True,
    with_trends: bool = True,
) -> Portfolio:
    """The viewer's accounts (an admin's: all, or one manager's), worst first, one page
    of `per_page` (None: all of them, for the download), optionally only one `status`.
    `with_managers` False leaves each account's manager unread and reads the accounts
    and snapshots as the columns shown (`AccountShown`, `Reading`: no ORM objects, whose
    making was a third of the rows' statement), `with_trends` False each row's
    sparkline and trend (the home page's short portfolio shows neither: a statement
    less for each).

    The database sorts and counts on the newest snapshot's status and score; only the
    page's rows are read whole (their signals give the reasons) and get their sparkline,
    last contact and follow-ups. An admin's 500 accounts cost what 100 do."""
    if status not in FILTER_STATUSES:
        status = None
    _check_reader(viewer)
    every_account = viewer.has_role(Role.ADMIN)
    counts_statement, query = _portfolio_statements(
        every_account, manager_id is not None, status is not None, with_managers, bool(per_page)
    )
    values: dict = {"manager_id": manager_id, "status": status}
    if not every_account:
        values["viewer_id"] = viewer.id
    counts = {s: 0 for s in stats.STATUSES}
    unmeasured, day = 0, None
    # The counts on the session's connection: they need none of the ORM's handling.
    for found_status, count, newest_day in db.session.connection().execute(
        counts_statement, values
    ):
        if found_status is None:
            unmeasured += count
        else:
            counts[found_status] = counts.get(found_status, 0) + count
            day = max(day, newest_day) if day else newest_day
    total = counts[status] if status else sum(counts.values()) + unmeasured
    pages = max(1, -(-total // per_page)) if per_page else 1
    page = min(max(page, 1), pages)
    if per_page:
        values.update(limit=per_page, offset=(page - 1) * per_page)
    if with_managers:
        found = db.session.execute(query, values).all()
    else:
        found = [
            (
                AccountShown(row.id, row.name, row.number),
                None
                if row.snapshot_id is None
                else Reading(row.day, row.score, row.status, row.signals),
            )
            for row in db.session.connection().execute(query, values)
        ]
    account_ids = [account.id for account, _ in found]
    days = snapshots.sparkline_days(today) if with_trends else []
    earlier = (
        snapshots.scores_on(account_ids, [*days, today - timedelta(days=30)])
        if account_ids and with_trends
        else {}
    )
    live_contacts: dict[int, datetime] = {}
    follow_ups: dict[int, int] | None = None
    if account_ids:
        for source in LAST_CONTACT_SOURCES:
            for account_id, at in source(account_ids).items():
                if account_id not in live_contacts or at > live_contacts[account_id]:
                    live_contacts[account_id] = at
    if FOLLOW_UP_COUNTERS:
        follow_ups = {}
        for counter in FOLLOW_UP_COUNTERS if account_ids else []:
            for account_id, count in counter(account_ids).items():
                follow_ups[account_id] = follow_ups.get(account_id, 0) + count
    rows = []
    for account, snapshot in found:
        history = earlier.get(account.id, {})
        spark = charts.sparkline([history.get(d, (None,))[0] for d in days])
        month_ago = history.get(today - timedelta(days=30))
        trend = stats.trend(snapshot.score, month_ago[0]) if snapshot and month_ago else None
        rows.append(
            PortfolioRow(
                account,
                snapshot,
                spark,
                trend,
                _last_contact(snapshot, live_contacts.get(account.id), today),
                None if follow_ups is None else follow_ups.get(account.id, 0),
                _reasons(snapshot),
            )
        )
    return Portfolio(rows, day, counts, total, page, pages, status)


@cache
def _portfolio_statements(
    every_account: bool, by_manager: bool, by_status: bool, with_managers: bool, paged: bool
) -> tuple[Select, Select]:
    """The portfolio's counts by status and its rows, worst first: built once per
    process for each kind of call (the home page of every account manager and admin
    runs them), the viewer, manager, status and page bound per call."""
    readable = select(CustomerAccount.id)
    if not every_account:
        readable = readable.where(CustomerAccount.account_manager_id == bindparam("viewer_id"))
    # Each account's newest day, looked up for each account from the (account, day)
    # key: grouping every snapshot of the readable accounts first read all their days
    # (a year of 5 accounts': 96 µs of SQLite for each of the two statements, now 15).
    latest = aliased(Snapshot)
    newest_day = (
        select(func.max(latest.day)).where(latest.account_id == CustomerAccount.id)
    ).scalar_subquery()
    base = (
        select(CustomerAccount)
        .outerjoin(
            Snapshot,
            (Snapshot.account_id == CustomerAccount.id) & (Snapshot.day == newest_day),
        )
        .where(CustomerAccount.id.in_(readable), CustomerAccount.status != "closed")
    )
    if by_manager:
        base = base.where(CustomerAccount.account_manager_id == bindparam("manager_id"))
    counts = base.with_only_columns(Snapshot.status, func.count(), func.max(Snapshot.day)).group_by(
        Snapshot.status
    )
    shown = (
        base.add_columns(Snapshot)
        if with_managers
        else base.with_only_columns(
            CustomerAccount.id,
            CustomerAccount.name,
            CustomerAccount.number,
            Snapshot.id.label("snapshot_id"),
            Snapshot.day,
            Snapshot.score,
            Snapshot.status,
            Snapshot.signals,
        )
    )
    query = shown.order_by(
        case(
            *((Snapshot.status == s, n) for s, n in STATUS_ORDER.items()),
            else_=len(STATUS_ORDER),
        ),
        func.coalesce(Snapshot.score, 101),
        func.lower(CustomerAccount.name),
        CustomerAccount.id,
    )
    if by_status:
        query = query.where(Snapshot.status == bindparam("status"))
    if with_managers:
        query = query.options(selectinload(CustomerAccount.account_manager))
    if paged:
        query = query.limit(bindparam("limit")).offset(bindparam("offset"))
    return counts, query


def _last_contact(snapshot: Snapshot | None, live: datetime | None, today: date) -> str:
    """'12 days ago' from the snapshot's vendor-contact figure or a newer live contact."""
    days = None
    if snapshot:
        reading = snapshot.signals.get("vendor_contact") or {}
        if reading.get("value") is not None:
            days = int(reading["value"]) + (today - snapshot.day).days
    if live is not None:
        live_days = (today - live.date()).days
        days = live_days if days is None else min(days, live_days)
    if days is None:
        return _("none in 24 months")
    if days == 0:
        return _("today")
    return ngettext("%(num)s day ago", "%(num)s days ago", days)


# The portfolio file's columns, headed in the reader's language (as every export).
EXPORT_COLUMNS = spreadsheets.Columns(
    spreadsheets.Column("account_number", _l("Account number")),
    spreadsheets.Column("name", _l("Name")),
    spreadsheets.Column("manager", _l("Manager")),
    spreadsheets.Column("status", _l("Status")),
    spreadsheets.Column("score", _l("Score")),
    spreadsheets.Column("reasons", _l("Reasons")),
)


def export_rows(result: Portfolio) -> list[list]:
    """The portfolio as rows for CSV/XLSX: reasons in one column, separated by ' | '."""
    return [
        [
            row.account.number,
            row.account.name,
            row.account.account_manager.name if row.account.account_manager else "",
            row.status or "",
            row.score if row.score is not None else "",
            " | ".join(f"{label}: {reason}" for label, _, reason in row.reasons),
        ]
        for row in result.rows
    ]


# --- one account -------------------------------------------------------------------------


@dataclass
class SignalView:
    key: str
    label: str
    reading: dict
    chart: charts.DayChart
    points: list[tuple[date, float | None]]

    # The stored phrases in the reader's language (plain strings of older snapshots as is).
    @property
    def figure(self) -> str:
        return phrases.shown(self.reading.get("figure"))

    @property
    def baseline(self) -> str:
        return phrases.shown(self.reading.get("baseline"))

    @property
    def reason(self) -> str:
        return phrases.shown(self.reading.get("reason"))


@dataclass
class AccountHealth:
    account: CustomerAccount
    snapshot: Snapshot | None
    score_chart: charts.DayChart | None
    score_points: list[tuple[date, int]]
    signals: list[SignalView]
    trends: dict[int, snapshots.Trend]
    episodes: list[Episode]
    table_days: list[Snapshot]


CHART_TOPS = {"%": None}


def account_health(account: CustomerAccount, today: date) -> AccountHealth:
    """The newest snapshot, twelve months of charts, the trend against 30 and 90 days
    ago and the open red episodes of an account the caller checked."""
    past = snapshots.history(account.id, today)
    current = past[-1] if past else None
    start = today - timedelta(days=snapshots.HISTORY_DAYS - 1)
    views = []
    if current:
        for s in signals.SIGNALS:
            reading = current.signals.get(s.key)
            if reading is None:
                continue
            points = [(snap.day, (snap.signals.get(s.key) or {}).get("value")) for snap in past]
            views.append(
                SignalView(s.key, s.label, reading, charts.day_chart(start, today, points), points)
            )
    score_points = [(snap.day, snap.score) for snap in past]
    trends = {back: snapshots.trend(current, past, back) for back in (30, 90)} if current else {}
    # The table under the charts: one row per month (the month's last snapshot).
    by_month: dict[tuple[int, int], Snapshot] = {}
    for snap in past:
        by_month[(snap.day.year, snap.day.month)] = snap
    return AccountHealth(
        account,
        current,
        charts.day_chart(start, today, score_points, top=100) if current else None,
        score_points,
        views,
        trends,
        alerts.open_episodes(account.id),
        list(by_month.values()),
    )


@dataclass
class PeriodCharts:
    """One account's score and some signals over a period (a review's), from the daily
    snapshots: for pages outside this area that show the period's health."""

    score: charts.DayChart | None
    signals: list[tuple[str, str, charts.DayChart]]  # (key, label, chart)
    days: int  # snapshots found in the period


def period_charts(account_id: int, start: date, end: date, keys: list[str]) -> PeriodCharts:
    """The score and the signals `keys` of an account from `start` to `end` as charts
    (one statement). Days without a snapshot are gaps; no snapshot at all gives no chart."""
    found = snapshots.between(account_id, start, end)
    if not found:
        return PeriodCharts(None, [], 0)
    known = signals.by_key()
    views = []
    for key in keys:
        if key not in known:
            continue
        points = [(snap.day, (snap.signals.get(key) or {}).get("value")) for snap in found]
        views.append((key, known[key].label, charts.day_chart(start, end, points)))
    score = charts.day_chart(start, end, [(snap.day, snap.score) for snap in found], top=100)
    return PeriodCharts(score, views, len(found))


# --- weights and thresholds -------------------------------------------------------------


@dataclass
class SettingRow:
    key: str
    label: str
    description: str
    unit: str
    weight: int
    amber: float
    red: float
    default: signals.Threshold


def settings_rows() -> list[SettingRow]:
    chosen = signals.thresholds()
    return [
        SettingRow(
            s.key,
            s.label,
            s.description,
            signals.UNIT_LABELS.get(s.unit, s.unit),
            chosen[s.key].weight,
            chosen[s.key].amber,
            chosen[s.key].red,
            s.default,
        )  # fmt: skip
        for s in [*signals.SIGNALS, signals.ACCOUNT]
    ]


def _number(raw, label: str, field_name: str, *, whole: bool = False) -> float:
    text = (raw or "").strip().replace(",", ".")
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        kind = "a whole number" if whole else "a number"
        raise DomainError(f"{label}: write {kind}.", field=field_name) from None
    if not (0 <= value <= 100_000) or value != value:
        raise DomainError(f"{label}: between 0 and 100,000.", field=field_name)
    return value


def save_settings(user: User, form: dict, now: datetime) -> None:
    """Keep each signal's weight (whole numbers adding up to 100) and thresholds. Every
    value is checked first; nothing is saved unless all are right."""
    if not user.is_vendor_staff or not user.has_role(Role.ADMIN):
        raise Forbidden("Only the vendor's admins keep the weights and thresholds.")
    parsed = {}
    errors = []
    for s in [*signals.SIGNALS, signals.ACCOUNT]:
        try:
            weight = (
                0
                if s.key == "account"
                else int(
                    _number(
                        form.get(f"{s.key}-weight"),
                        f"{s.label} weight",
                        f"{s.key}-weight",
                        whole=True,
                    )
                )
            )
            amber = _number(form.get(f"{s.key}-amber"), f"{s.label} amber", f"{s.key}-amber")
            red = _number(form.get(f"{s.key}-red"), f"{s.label} red", f"{s.key}-red")
        except DomainError as error:
            errors.append(error)
            continue
        if weight > 100:
            errors.append(DomainError(f"{s.label} weight: at most 100.", field=f"{s.key}-weight"))
        if s.unit == "percentile" and max(amber, red) > 100:
            errors.append(
                DomainError(f"{s.label}: a percentile is at most 100.", field=f"{s.key}-red")
            )
        if s.unit == "of 5" and not (1 <= red <= 5 and 1 <= amber <= 5):
            errors.append(DomainError(f"{s.label}: a rating is from 1 to 5.", field=f"{s.key}-red"))
        if (s.lower_is_worse and red > amber) or (not s.lower_is_worse and red < amber):
            errors.append(
                DomainError(
                    f"{s.label}: the red threshold must be "
                    f"{'at or below' if s.lower_is_worse else 'at or above'} the amber one.",
                    field=f"{s.key}-red",
                )
            )
        parsed[s.key] = (weight, amber, red)
    if not errors and sum(w for w, _, _ in parsed.values()) != 100:
        total = sum(w for w, _, _ in parsed.values())
        errors.append(DomainError(f"The weights add up to {total}; they must add up to 100."))
    if errors:
        raise SettingsRefused(errors)
    existing = {row.signal: row for row in db.session.scalars(select(SignalSetting))}
    for key, (weight, amber, red) in parsed.items():
        row = existing.get(key) or SignalSetting(signal=key)
        row.weight, row.amber, row.red = weight, amber, red
        row.updated_by_id, row.updated_at = user.id, now
        db.session.add(row)
    db.session.commit()


class SettingsRefused(DomainError):
    def __init__(self, errors: list[DomainError]):
        super().__init__(" ".join(str(e.message) for e in errors))
        self.errors = errors
