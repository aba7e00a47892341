"""How well the vendor keeps its service promises, per account and overall.

`measure` is one function over plain records, so every figure can be checked
on a hand-worked example; `measures_for` reads the records for a viewer (the
working times come from the promise clock over the events). Definitions, for
requests opened in the period:

- first response and resolution time: working hours counted by the promise
  clock (pauses left out), median and 90th percentile (nearest rank: the
  smallest value with at least 90 % of the values at or below it), over the
  requests that got one;
- kept: share of the promises that fell due in the period which were kept; a
  promise counts once it is met, or once it is breached (answered late, or
  not yet answered past its time); a promise still running counts not at all;
- open and overdue: requests not yet resolved, and those of them with a
  breached promise;
- satisfied: share of the customers' answers on closing that were "satisfied";
- complaints per 100 order lines: complaints (about a delivery, quality, an
  invoice or other) opened in the period per 100 lines of the orders placed in
  it (orders neither rejected nor cancelled, replacement orders left out); the
  overall figure is the sum of complaints over the sum of lines, not an average
  of the accounts' figures.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Select, case, func, select

from portal.accounts.models import CustomerAccount
from portal.extensions import db

from . import promises
from .models import COMPLAINT_KINDS, OPEN_STATUSES, ReplacementOrder, ServiceRequest

HOUR = 3600


class Record(NamedTuple):
    """What the measures need of one request. A tuple: `measure` unpacks it by position,
    and a row read in the same order (see KEPT) becomes one without a name lookup."""

    response_state: str  # met, breached, due, paused
    response_seconds: float | None  # working time to the first response, if given
    resolution_state: str
    resolution_seconds: float | None  # working time to the (last) resolution, if resolved
    is_open: bool
    satisfied: bool | None = None


def percentile(values: list[float], share: float) -> float | None:
    """Nearest rank: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


@dataclass
class Measures:
    requests: int = 0
    response_hours: list[float] = field(default_factory=list)
    resolution_hours: list[float] = field(default_factory=list)
    promises_due: int = 0  # response and resolution promises that met or breached
    promises_kept: int = 0
    responses_due: int = 0
    responses_kept: int = 0
    open: int = 0
    overdue: int = 0
    rated: int = 0
    satisfied: int = 0

    @property
    def response_median(self) -> float | None:
        return statistics.median(self.response_hours) if self.response_hours else None

    @property
    def response_p90(self) -> float | None:
        return percentile(self.response_hours, 0.9)

    @property
    def resolution_median(self) -> float | None:
        return statistics.median(self.resolution_hours) if self.resolution_hours else None

    @property
    def resolution_p90(self) -> float | None:
        return percentile(self.resolution_hours, 0.9)

    @property
    def kept_share(self) -> float | None:
        return self.promises_kept / self.promises_due if self.promises_due else None

    @property
    def response_kept_share(self) -> float | None:
        return self.responses_kept / self.responses_due if self.responses_due else None

    @property
    def satisfied_share(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


def combined(parts: Iterable[Measures]) -> Measures:
    """The figures over the records of all `parts` (each `measure` of some of them): the
    same as measuring them all again, without a second pass over the records."""
    total = Measures()
    for part in parts:
        total.requests += part.requests
        total.response_hours.extend(part.response_hours)
        total.resolution_hours.extend(part.resolution_hours)
        total.promises_due += part.promises_due
        total.promises_kept += part.promises_kept
        total.responses_due += part.responses_due
        total.responses_kept += part.responses_kept
        total.open += part.open
        total.overdue += part.overdue
        total.rated += part.rated
        total.satisfied += part.satisfied
    return total


class _Tally:
    """Requests counted by their combination of states (response, resolution, open,
    satisfied), with their hours: what the figures are made of. The one place that says
    how a request counts (`add_to`); `measure` tallies Records through it, and the
    measures of many requests tally their kept answers straight from the rows."""

    __slots__ = ("states", "response_hours", "resolution_hours", "ids")

    def __init__(self) -> None:
        self.states: dict[tuple, int] = defaultdict(int)
        self.response_hours: list[float] = []
        self.resolution_hours: list[float] = []
        self.ids: list[int] = []  # the requests tallied, where the caller keeps them

    def add(self, response, response_seconds, resolution, resolution_seconds, is_open, satisfied):
        self.states[(response, resolution, is_open, satisfied)] += 1
        if response_seconds is not None:
            self.response_hours.append(round(response_seconds / HOUR, 2))
        if resolution_seconds is not None:
            self.resolution_hours.append(round(resolution_seconds / HOUR, 2))

    def add_to(self, m: Measures) -> None:
        m.response_hours.extend(self.response_hours)
        m.resolution_hours.extend(self.resolution_hours)
        for (response, resolution, is_open, satisfied), n in self.states.items():
            m.requests += n
            # A promise counts once it is met or breached; one still running not at all.
            if response in ("met", "breached"):
                m.responses_due += n
                m.promises_due += n
                if response == "met":
                    m.responses_kept += n
                    m.promises_kept += n
            if resolution in ("met", "breached"):
                m.promises_due += n
                if resolution == "met":
                    m.promises_kept += n
            if is_open:
                m.open += n
                if response == "breached" or resolution == "breached":
                    m.overdue += n
            if satisfied is not None:
                m.rated += n
                m.satisfied += n * satisfied


def measure(records: Iterable[Record]) -> Measures:
    """The figures over `records` (see the module's definitions)."""
    tally = _Tally()
    for record in records:
        tally.add(*record)
    result = Measures()
    tally.add_to(result)
    return result


def record_of(request: ServiceRequest, promise: promises.Promise) -> Record:
    """What the measures need of one request and its promise."""
    return clock_record(promise, request.status in OPEN_STATUSES, request.satisfied)


def clock_record(promise: promises.Promise, is_open: bool, satisfied: bool | None) -> Record:
    """The Record of a promise as the clock computed it."""
    return Record(
        response_state=promise.response.state,
        response_seconds=promise.response.spent_seconds if promise.response.is_done else None,
        resolution_state=promise.resolution.state,
        resolution_seconds=(
            promise.resolution.spent_seconds if promise.resolution.is_done else None
        ),
        is_open=is_open,
        satisfied=satisfied,
    )


# What the measures need of a request, read as plain rows (`columns` adds `is_open`,
# `satisfied` and `clock_kept`). Without `opened_at`, which only the requests whose
# clock runs need (`_clocked` reads it for them): converting 100,000 timestamps cost
# more than the rest of the read.
KEPT = (
    ServiceRequest.id,
    ServiceRequest.account_id,
    ServiceRequest.priority,
    ServiceRequest.outcome_version,
    ServiceRequest.response_outcome.label("response_state"),
    ServiceRequest.response_seconds,
    ServiceRequest.resolution_outcome.label("resolution_state"),
    ServiceRequest.resolution_seconds,
)


def columns(now: datetime) -> tuple:
    """The KEPT columns, `is_open`, `satisfied`, and `clock_kept`: whether an open
    request's kept answer is its clock's as of `now` (promises.kept_clock_current: its
    span and its count of clock events, compared within the row). All of them are in
    ix_service_request_measures, so the read needs no row of the table."""
    is_open = ServiceRequest.status.in_(OPEN_STATUSES)
    current = case((is_open, promises.kept_clock_current(now)), else_=False)
    return (*KEPT, is_open.label("is_open"), ServiceRequest.satisfied, current.label("clock_kept"))


@dataclass(frozen=True)
class _Running:
    """What the promise clock needs of a request whose row came without `opened_at`."""

    id: int
    account_id: int
    priority: str
    opened_at: datetime


def _clocked(running: list, now: datetime, cal) -> dict[int, Record]:
    """The promise clock's Record of each of `running` (rows of `columns(now)`, or any
    with id, account_id, priority, is_open and satisfied), by id; `opened_at` is read
    here (see KEPT)."""
    if not running:
        return {}
    opened = {}
    for batch in promises.in_batches([row.id for row in running]):
        opened.update(
            db.session.execute(
                select(ServiceRequest.id, ServiceRequest.opened_at).where(
                    ServiceRequest.id.in_(batch)
                )
            ).all()
        )
    clocked = [_Running(r.id, r.account_id, r.priority, opened[r.id]) for r in running]
    states = promises.promises_for(clocked, now, cal)
    return {row.id: clock_record(states[row.id], row.is_open, row.satisfied) for row in running}


def measures_by_account(requests: Select, now: datetime) -> dict[int, Measures]:
    """Each account's figures (by id) over the requests of `requests` (a query of
    ServiceRequest), each with its kept answer where there is one to read, else the
    promise clock's as of `now`; a fixed number of statements whatever the number of
    requests.

    A kept answer is read where it is a resolved or closed request's final one (its
    resolution done) or an open one's still current (`clock_kept`, see `columns`), and
    was computed with the calendar and targets in force (its `outcome_version`). At
    30,000 requests keeping their rows cost more than reading them: every row and
    Record kept is an object the garbage collector walks, and the collections that set
    off took a third of the time. So the rows are plain Core rows consumed as they come:
    a kept answer is tallied under its account, priority and fingerprint (`_Tally`), and
    only the rows whose clock runs are kept. The fingerprints are compared per tally
    afterwards; a tally computed with other settings (between a change of the calendar
    or targets and the job that rewrites the answers) goes to the clock by its ids."""
    # On the session's connection, not through the ORM's loading, which copies every
    # row into a list first; flushed first as Session.execute would. (The query is
    # plain SQL: the viewer's scope is in its WHERE clause, see portal.security.scoped.)
    if db.session.autoflush:
        db.session.flush()
    rows = db.session.connection().execute(requests.with_only_columns(*columns(now)))
    tallies: dict[tuple[int, str, str], _Tally] = {}
    running = []
    for row in rows:
        (_, account_id, priority, version, response, response_seconds, resolution,
         resolution_seconds, is_open, satisfied, current) = row  # fmt: skip
        # A final answer (its resolution done), or an open one while it is current.
        if resolution is None or not (current if is_open else resolution_seconds is not None):
            running.append(row)
            continue
        tally = tallies.get((account_id, priority, version))
        if tally is None:
            tally = tallies[(account_id, priority, version)] = _Tally()
        tally.add(response, response_seconds, resolution, resolution_seconds, is_open, satisfied)
        tally.ids.append(row[0])
    cal = promises.calendar()
    cal_key = promises.calendar_key(cal)
    targets = promises.targets_for(
        {key[0] for key in tallies} | {row.account_id for row in running}
    )
    measured: dict[int, Measures] = defaultdict(Measures)
    stale: list[int] = []
    for (account_id, priority, version), tally in tallies.items():
        if version == promises.outcome_version(cal_key, targets[account_id][priority]):
            tally.add_to(measured[account_id])
        else:  # computed with other settings; the rewrite has not run yet
            stale.extend(tally.ids)
    for batch in promises.in_batches(stale):
        running.extend(
            db.session.execute(
                select(*KEPT[:3], ServiceRequest.status.in_(OPEN_STATUSES).label("is_open"),
                       ServiceRequest.satisfied).where(ServiceRequest.id.in_(batch))
            ).all()
        )  # fmt: skip
    if running:
        records = _clocked(running, now, cal)
        per_account: dict[int, list[Record]] = defaultdict(list)
        for row in running:
            per_account[row.account_id].append(records[row.id])
        for account_id, listed in per_account.items():
            measured[account_id] = combined([measured[account_id], measure(listed)])
    return dict(measured)


@dataclass
class Report:
    total: Measures
    by_account: list[tuple[CustomerAccount, Measures]]


def measures_for(visible: Select, start: datetime, now: datetime) -> Report:
    """The figures over the requests of `visible` (a query of ServiceRequest the
    viewer may see) opened since `start`, in total and per account."""
    measured = measures_by_account(visible.where(ServiceRequest.opened_at >= start), now)
    accounts = {
        a.id: a
        for a in db.session.scalars(
            select(CustomerAccount).where(CustomerAccount.id.in_(list(measured)))
        )
    }
    return Report(
        combined(measured.values()),
        sorted(
            ((accounts[k], m) for k, m in measured.items()),
            key=lambda item: item[0].name.lower(),
        ),
    )


# --- complaints per 100 order lines --------------------------------------------------------------


@dataclass(frozen=True)
class ComplaintCount:
    """What the complaint rate needs of one account for a period."""

    account_id: int
    complaints: int
    order_lines: int


@dataclass(frozen=True)
class ComplaintRate:
    complaints: int = 0
    order_lines: int = 0

    @property
    def per_100_lines(self) -> float | None:
        return self.complaints * 100 / self.order_lines if self.order_lines else None


def complaint_rates(
    counts: Iterable[ComplaintCount],
) -> tuple[ComplaintRate, dict[int, ComplaintRate]]:
    """Complaints per 100 order lines overall and per account (see the module's definitions)."""
    per_account: dict[int, ComplaintRate] = {}
    complaints = lines = 0
    for count in counts:
        before = per_account.get(count.account_id, ComplaintRate())
        per_account[count.account_id] = ComplaintRate(
            before.complaints + count.complaints, before.order_lines + count.order_lines
        )
        complaints += count.complaints
        lines += count.order_lines
    return ComplaintRate(complaints, lines), per_account


def complaint_counts(
    account_ids: Iterable[int] | None, start: datetime, end: datetime
) -> list[ComplaintCount]:
    """Each account's complaints and order lines for [start, end) (two grouped statements);
    `account_ids` None: every account."""
    from portal.ordering.models import Order

    complaints_query = (
        select(ServiceRequest.account_id, func.count())
        .where(
            ServiceRequest.kind.in_(COMPLAINT_KINDS),
            ServiceRequest.opened_at >= start,
            ServiceRequest.opened_at < end,
        )
        .group_by(ServiceRequest.account_id)
    )
    # The lines as each order counts them (kept by the database), not joined: at a
    # million lines the join cost more than the rest of the measures page.
    lines_query = (
        select(Order.account_id, func.sum(Order.line_count))
        .where(
            Order.placed_at >= start,
            Order.placed_at < end,
            Order.status.not_in(("rejected", "cancelled")),
            Order.id.not_in(select(ReplacementOrder.order_id)),
        )
        .group_by(Order.account_id)
    )
    if account_ids is not None:
        ids = sorted(set(account_ids))
        complaints_query = complaints_query.where(ServiceRequest.account_id.in_(ids))
        lines_query = lines_query.where(Order.account_id.in_(ids))
    complaints = dict(db.session.execute(complaints_query).all())
    lines = dict(db.session.execute(lines_query).all())
    return [
        ComplaintCount(account_id, complaints.get(account_id, 0), lines.get(account_id, 0))
        for account_id in sorted(set(complaints) | set(lines))
    ]
