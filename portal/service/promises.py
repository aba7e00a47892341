"""Promised response times: the calendar and targets in force, and each request's
promise state computed from its events.

`evaluate` is pure: given the calendar, when the request was opened, its
status and first-response events, the targets and `now`, it says for the first
response and for the resolution whether the promise is met, breached, running
(due, with the due instant and the working time left) or paused (waiting for
the customer, or resolved and waiting for confirmation). Nothing is counted
in a column that could drift: the same events always give the same answer.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import ColumnElement, and_, bindparam, or_, select

from portal.extensions import db, utcnow

from .clock import Calendar, Interval, add_working_seconds, counted_seconds
from .models import (
    OPEN_STATUSES,
    PRIORITIES,
    ServiceCalendar,
    ServiceEvent,
    ServiceHoliday,
    ServiceRequest,
    ServiceTarget,
)

# The clock stands still in these statuses: the customer has the next move.
PAUSED = ("waiting", "resolved")
HOUR = 3600
# The events the clock reads; the other kinds (handovers, priority, ratings) leave it as it was.
CLOCK_EVENTS = ("status", "first_response")  # also in migration 0033's triggers


@dataclass(frozen=True)
class Target:
    response_hours: int
    resolution_hours: int


@dataclass(frozen=True)
class EventRecord:
    """What the clock needs of one event: a status change or the first response."""

    at: datetime
    kind: str  # "status" or "first_response"
    after: str | None = None


@dataclass(frozen=True)
class Clock:
    """One promise (first response or resolution) as of `now`."""

    state: str  # "met", "breached", "due", "paused"
    target_seconds: float
    spent_seconds: float  # working time counted so far (or until it was done)
    due_at: datetime | None  # while running: when it falls due
    done_at: datetime | None

    @property
    def left_seconds(self) -> float:
        return max(0.0, self.target_seconds - self.spent_seconds)

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def within(self) -> bool:
        return self.spent_seconds <= self.target_seconds


@dataclass(frozen=True)
class Promise:
    response: Clock
    resolution: Clock

    @property
    def breached(self) -> bool:
        return "breached" in (self.response.state, self.resolution.state)

    @property
    def next(self) -> tuple[str, Clock] | None:
        """The promise a person should look at: the first answer until given, then the fix."""
        if not self.response.is_done:
            return "first answer", self.response
        if not self.resolution.is_done:
            return "resolution", self.resolution
        return None


def pauses_of(events: Sequence[EventRecord]) -> list[Interval]:
    """The intervals spent in a paused status, from the status events in order."""
    intervals, started = [], None
    for event in events:
        if event.kind != "status":
            continue
        if event.after in PAUSED and started is None:
            started = event.at
        elif event.after not in PAUSED and started is not None:
            intervals.append(Interval(started, event.at))
            started = None
    if started is not None:
        intervals.append(Interval(started, None))
    return intervals


def _clock(
    calendar: Calendar,
    opened_at: datetime,
    pauses: list[Interval],
    target_hours: int,
    done_at: datetime | None,
    now: datetime,
    spent_until: dict[datetime, float] | None = None,
) -> Clock:
    target = target_hours * HOUR
    end = done_at or now
    # Both clocks of a request count from its opening: one not answered yet counts to
    # `now` twice, which `spent_until` (per request) keeps from being worked out twice.
    spent = None if spent_until is None else spent_until.get(end)
    if spent is None:
        spent = counted_seconds(calendar, pauses, opened_at, end)
        if spent_until is not None:
            spent_until[end] = spent
    if done_at is not None:
        return Clock("met" if spent <= target else "breached", target, spent, None, done_at)
    if spent > target:
        return Clock("breached", target, spent, None, None)
    if pauses and pauses[-1].end is None:
        return Clock("paused", target, spent, None, None)
    due = _whole_second(add_working_seconds(calendar, now, target - spent))
    return Clock("due", target, spent, due, None)


def _whole_second(instant: datetime) -> datetime:
    """The due instant to the nearest second: sums of float seconds may land a
    microsecond before 10:00:00, which a page would show as 09:59."""
    rounded = instant.replace(microsecond=0)
    return rounded + timedelta(seconds=1) if instant.microsecond >= 500_000 else rounded


def evaluate(
    calendar: Calendar,
    opened_at: datetime,
    events: Sequence[EventRecord],
    target: Target,
    now: datetime,
) -> Promise:
    """Both promises of one request as of `now`, from its events (oldest first)."""
    events = sorted(events, key=lambda e: e.at)
    pauses = pauses_of(events)
    responded = next((e.at for e in events if e.kind == "first_response"), None)
    statuses = [e for e in events if e.kind == "status"]
    resolved = None
    if statuses and statuses[-1].after in ("resolved", "closed"):
        # The last time it was resolved: a reopened request's clock ran on.
        resolved = next(e.at for e in reversed(statuses) if e.after == "resolved")
    # Time spent resolved before a reopening is paused too: the customer had the move.
    spent_until: dict[datetime, float] = {}
    return Promise(
        _clock(calendar, opened_at, pauses, target.response_hours, responded, now, spent_until),
        _clock(calendar, opened_at, pauses, target.resolution_hours, resolved, now, spent_until),
    )


# --- what is in force --------------------------------------------------------------------------


def _hours(raw: dict[str, list[str]]) -> tuple[tuple[time, time] | None, ...]:
    days = []
    for weekday in range(7):
        span = raw.get(str(weekday))
        days.append((time.fromisoformat(span[0]), time.fromisoformat(span[1])) if span else None)
    return tuple(days)


def calendar(bind=None) -> Calendar:
    """The vendor's service calendar: the kept one, else the configured defaults (two
    queries). `bind`: a connection to read through (a migration's), else the session."""
    bind = bind if bind is not None else db.session
    kept, days = _calendar_statements()
    row = bind.execute(kept).first()
    holidays = frozenset(bind.scalars(days))
    if row is None:
        zone, hours = (
            current_app.config["DEFAULT_TIMEZONE"],
            current_app.config["SERVICE_WORKING_HOURS"],
        )
    else:
        zone, hours = row.timezone, row.hours
        if isinstance(hours, str):  # a raw connection may give the JSON as text
            hours = json.loads(hours)
    return Calendar(ZoneInfo(zone), _hours(hours), holidays)


@cache
def _calendar_statements():
    """The kept calendar's and the holidays' statements, built once per process."""
    table = ServiceCalendar.__table__
    return (
        select(table.c.timezone, table.c.hours).where(table.c.id == 1),
        select(ServiceHoliday.__table__.c.day),
    )


def default_targets() -> dict[str, Target]:
    """The configured promise per priority, for accounts without their own."""
    configured = current_app.config["SERVICE_TARGETS"]
    return {p: Target(*configured[p]) for p in PRIORITIES}


def targets_for(account_ids: Iterable[int], bind=None) -> dict[int, dict[str, Target]]:
    """Each account's targets per priority: its own where it has them (one query)."""
    bind = bind if bind is not None else db.session
    defaults = default_targets()
    ids = sorted(set(account_ids))
    result = {account_id: dict(defaults) for account_id in ids}
    if ids:
        for row in bind.execute(_targets_statement(), {"account_ids": ids}):
            result[row.account_id][row.priority] = Target(row.response_hours, row.resolution_hours)
    return result


# The most ids bound in one IN list: psycopg refuses a statement with more than 65,535
# parameters, which the measures for all accounts over a year pass when every kept
# answer is stale (between a change of the calendar and the rewrite job).
IN_BATCH = 20_000


def in_batches(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    """`ids` in slices of at most IN_BATCH, one statement each."""
    for start in range(0, len(ids), IN_BATCH):
        yield ids[start : start + IN_BATCH]


def events_for(request_ids: Iterable[int], bind=None) -> dict[int, list[EventRecord]]:
    """The clock's events of many requests in one query (one per IN_BATCH requests),
    oldest first."""
    bind = bind if bind is not None else db.session
    ids = sorted(set(request_ids))
    grouped: dict[int, list[EventRecord]] = defaultdict(list)
    if not ids:
        return grouped
    rows = []
    for batch in in_batches(ids):
        rows.extend(bind.execute(_events_statement(), {"request_ids": batch}).all())
    rows.sort(key=lambda row: (row[0], row[1]))
    for request_id, _, at, kind, after in rows:
        grouped[request_id].append(EventRecord(_utc(at), kind, after))
    return grouped


# Built once per process, the ids bound per call: every page with a service clock reads
# these two, and building them (and their cache keys) cost more than running them.
@cache
def _targets_statement():
    table = ServiceTarget.__table__
    return select(
        table.c.account_id, table.c.priority, table.c.response_hours, table.c.resolution_hours
    ).where(table.c.account_id.in_(bindparam("account_ids", expanding=True)))


@cache
def _events_statement():
    table = ServiceEvent.__table__
    # No ORDER BY: the rows come from ix_service_event_clock alone; ordered by the caller.
    return select(table.c.request_id, table.c.id, table.c.at, table.c.kind, table.c.after).where(
        table.c.request_id.in_(bindparam("request_ids", expanding=True)),
        table.c.kind.in_(CLOCK_EVENTS),
    )


def _utc(at: datetime) -> datetime:
    # The session's UTCDateTime gives aware instants; a migration's raw table may not.
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def promises_for(requests: Sequence, now: datetime, cal: Calendar | None = None, bind=None) -> dict:
    """The promise of each request (by id), in a fixed number of queries whatever their
    number; `bind` as `calendar`'s."""
    cal = cal or calendar(bind)
    targets = targets_for((r.account_id for r in requests), bind)
    events = events_for((r.id for r in requests), bind)
    return {
        r.id: evaluate(cal, r.opened_at, events[r.id], targets[r.account_id][r.priority], now)
        for r in requests
    }


# --- the answer, kept ---------------------------------------------------------------------------

# A resolved or closed request's clock stands still: its promise no longer depends on
# `now`, so the answer can be kept on the row (see ServiceRequest.response_outcome).
FINAL = ("resolved", "closed")
OUTCOME_BATCH = 2_000
# An open request's answer is kept only this far (working seconds) from a change of its
# state: sums of float seconds differ by far less, so the clock as of any instant within
# the kept span gives the very state kept, never one rounded across the edge.
MARGIN = 60.0


def outcome_of(promise: Promise) -> dict:
    """The columns that keep a promise (what the measures read of it)."""
    return {
        "response_outcome": promise.response.state,
        "response_seconds": (promise.response.spent_seconds if promise.response.is_done else None),
        "resolution_outcome": promise.resolution.state,
        "resolution_seconds": (
            promise.resolution.spent_seconds if promise.resolution.is_done else None
        ),
    }


CLEARED = dict.fromkeys(
    ("response_outcome", "response_seconds", "resolution_outcome", "resolution_seconds")
)
# When and how long an open request's kept answer holds (migration 0031's columns).
SPAN = dict.fromkeys(("outcome_at", "outcome_until", "outcome_events"))


def holds_until(cal: Calendar, promise: Promise, at: datetime) -> tuple[bool, datetime | None]:
    """Whether the promise of an open request as of `at` stays what it is from `at` on
    while no clock event comes, and until when (None: until the next event).

    Given the same events, a promise that is done stays as it was; a breached one stays
    breached (working time only grows); a paused one stays paused (the pause takes out
    all time that passes); a running one stays running until its working time is used
    up, which is the one thing that changes without an event. Within MARGIN of an edge
    nothing is kept: the live clock answers."""
    until = None
    for clock in (promise.response, promise.resolution):
        if clock.is_done:
            continue
        if clock.state == "breached":
            if clock.spent_seconds <= clock.target_seconds + MARGIN:
                return False, None
        elif clock.state == "paused":
            if clock.spent_seconds >= clock.target_seconds - MARGIN:
                return False, None
        else:
            left = clock.target_seconds - clock.spent_seconds
            if left <= MARGIN:
                return False, None
            # Whole seconds, rounded down: the span ends a little early, never late.
            end = add_working_seconds(cal, at, left - MARGIN).replace(microsecond=0)
            until = end if until is None else min(until, end)
    return True, until


def kept_clock_current(now: datetime) -> ColumnElement[bool]:
    """SQL: the kept answer of an open request is its clock's as of `now` (apart from the
    fingerprint of the settings, which the reader compares): kept at or before `now`,
    not run out, and computed from every clock event the request has. The events are
    counted, not trusted to have cleared it: an event written by any path, or committed
    while the answer was being kept, makes the count differ. The count is the row's
    `clock_events`, kept by the database's triggers (migration 0033) in the transaction
    that writes an event, so it is the count of the events the reader's snapshot holds,
    without counting them for every open request."""
    table = ServiceRequest.__table__
    return and_(
        table.c.outcome_at <= now,
        or_(table.c.outcome_until.is_(None), table.c.outcome_until > now),
        table.c.outcome_events == table.c.clock_events,
    )


def calendar_key(cal: Calendar) -> str:
    """The calendar as canonical text (time zone, hours per weekday, holidays)."""
    hours = [[span[0].isoformat(), span[1].isoformat()] if span else None for span in cal.hours]
    return json.dumps([cal.zone.key, hours, sorted(day.isoformat() for day in cal.holidays)])


def outcome_version(cal_key: str, target: Target) -> str:
    """A fingerprint of what a kept answer was computed with: the calendar (see
    `calendar_key`) and the request's targets. Kept beside the answer; a reader trusts
    the answer only while the fingerprint of the settings in force matches, so between
    a change of the calendar, holidays or targets and the job that rewrites the answers
    (portal.service.recompute) the clock answers instead, never a stale figure."""
    text = f"{cal_key}|{target.response_hours}|{target.resolution_hours}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_outcomes(
    request_ids: Iterable[int] | None = None,
    *,
    account_id: int | None = None,
    bind=None,
    versioned: bool = True,
    spans: bool = True,
    now: datetime | None = None,
) -> int:
    """Write the kept answer of the given requests (all when None; one account's with
    `account_id`) from their events, by the same `evaluate` as every page: the final
    answer of resolved and closed ones; for open ones the answer as of `now` (default:
    the present) with how long it holds (`holds_until`), or nothing when it is about to
    change. In batches, a fixed number of statements per batch; returns how many final
    requests were written. Called when a request is resolved or reopened, when the
    calendar or targets change, by the job that keeps open requests' answers
    (`keep_open_clocks`), and by the migrations that added the columns, with their
    connection as `bind` and the later columns left out (`versioned` False: the
    fingerprint's column came with migration 0028; `spans` False: the open requests'
    columns came with 0031)."""
    from sqlalchemy import bindparam, update

    bind = bind if bind is not None else db.session
    now = now or utcnow()
    table = ServiceRequest.__table__
    query = select(
        table.c.id, table.c.account_id, table.c.priority, table.c.opened_at, table.c.status
    ).order_by(table.c.id)
    if request_ids is not None:
        ids = sorted(set(request_ids))
        if not ids:
            return 0
        query = query.where(table.c.id.in_(ids))
    elif not spans:
        query = query.where(table.c.status.in_(FINAL))  # open ones keep nothing already
    if account_id is not None:
        query = query.where(table.c.account_id == account_id)
    rows = bind.execute(query).all()
    cal = calendar(bind)
    cal_key = calendar_key(cal)
    written = 0
    columns = list(CLEARED)
    if versioned:
        columns.append("outcome_version")
    if spans:
        columns.extend(SPAN)
    writes = (
        update(table)
        .where(table.c.id == bindparam("rid"))
        .values({name: bindparam(name) for name in columns})
    )
    nothing = dict.fromkeys(columns)
    for start in range(0, len(rows), OUTCOME_BATCH):
        batch = rows[start : start + OUTCOME_BATCH]
        clocked = batch if spans else [r for r in batch if r.status in FINAL]
        targets = targets_for({r.account_id for r in clocked}, bind)
        events = events_for((r.id for r in clocked), bind)
        params = []
        for r in batch:
            kept = None
            listed, opened = events[r.id], _utc(r.opened_at)
            last = max([opened, *(e.at for e in listed)])
            if r.status in FINAL:
                # A final request's clock stood still since its last event: any `now`
                # from then on gives the same answer; this one needs no real clock.
                target = targets[r.account_id][r.priority]
                kept = {**outcome_of(evaluate(cal, opened, listed, target, last))}
                span = {"outcome_at": last, "outcome_until": None}
                written += 1
            elif spans and last <= now:  # an event after `now` changes it then: not kept
                target = targets[r.account_id][r.priority]
                promise = evaluate(cal, opened, listed, target, now)
                holds, until = holds_until(cal, promise, now)
                if holds:
                    kept = outcome_of(promise)
                    span = {"outcome_at": now, "outcome_until": until}
            if kept is None:
                params.append({"rid": r.id, **nothing})
                continue
            kept["outcome_version"] = outcome_version(cal_key, target)
            kept |= span | {"outcome_events": len(listed)}
            params.append({"rid": r.id} | {name: kept[name] for name in columns})
        if params:
            bind.execute(writes, params)
    return written


def keep_open_clocks(now: datetime | None = None, batch: int = OUTCOME_BATCH) -> int:
    """The scheduled job: keep the answer of every open request whose kept one is missing,
    ran out or predates one of its events (`kept_clock_current`), so the measures run
    the clock only for requests that changed since; a commit per batch. Returns how
    many requests it looked at. A request whose answer is about to change keeps none
    and is looked at again by the next run."""
    now = now or utcnow()
    table = ServiceRequest.__table__
    ids = list(
        db.session.scalars(
            select(table.c.id)
            .where(
                table.c.status.in_(OPEN_STATUSES),
                or_(table.c.outcome_at.is_(None), ~kept_clock_current(now)),
            )
            .order_by(table.c.id)
        )
    )
    for start in range(0, len(ids), batch):
        record_outcomes(ids[start : start + batch], now=now)
        db.session.commit()
    return len(ids)
