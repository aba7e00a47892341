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

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from portal.extensions import db

from .clock import Calendar, Interval, add_working_seconds, counted_seconds
from .models import PRIORITIES, ServiceCalendar, ServiceEvent, ServiceHoliday, ServiceTarget

# The clock stands still in these statuses: the customer has the next move.
PAUSED = ("waiting", "resolved")
HOUR = 3600


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
) -> Clock:
    target = target_hours * HOUR
    end = done_at or now
    spent = counted_seconds(calendar, pauses, opened_at, end)
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
    return Promise(
        _clock(calendar, opened_at, pauses, target.response_hours, responded, now),
        _clock(calendar, opened_at, pauses, target.resolution_hours, resolved, now),
    )


# --- what is in force --------------------------------------------------------------------------


def _hours(raw: dict[str, list[str]]) -> tuple[tuple[time, time] | None, ...]:
    days = []
    for weekday in range(7):
        span = raw.get(str(weekday))
        days.append((time.fromisoformat(span[0]), time.fromisoformat(span[1])) if span else None)
    return tuple(days)


def calendar() -> Calendar:
    """The vendor's service calendar: the kept one, else the configured defaults (two queries)."""
    row = db.session.get(ServiceCalendar, 1)
    holidays = frozenset(db.session.scalars(select(ServiceHoliday.day)))
    if row is None:
        zone, hours = (
            current_app.config["DEFAULT_TIMEZONE"],
            current_app.config["SERVICE_WORKING_HOURS"],
        )
    else:
        zone, hours = row.timezone, row.hours
    return Calendar(ZoneInfo(zone), _hours(hours), holidays)


def default_targets() -> dict[str, Target]:
    """The configured promise per priority, for accounts without their own."""
    configured = current_app.config["SERVICE_TARGETS"]
    return {p: Target(*configured[p]) for p in PRIORITIES}


def targets_for(account_ids: Iterable[int]) -> dict[int, dict[str, Target]]:
    """Each account's targets per priority: its own where it has them (one query)."""
    defaults = default_targets()
    ids = sorted(set(account_ids))
    result = {account_id: dict(defaults) for account_id in ids}
    if ids:
        for row in db.session.scalars(
            select(ServiceTarget).where(ServiceTarget.account_id.in_(ids))
        ):
            result[row.account_id][row.priority] = Target(row.response_hours, row.resolution_hours)
    return result


def events_for(request_ids: Iterable[int]) -> dict[int, list[EventRecord]]:
    """The clock's events of many requests in one query, oldest first."""
    ids = sorted(set(request_ids))
    grouped: dict[int, list[EventRecord]] = defaultdict(list)
    if not ids:
        return grouped
    rows = db.session.execute(
        select(ServiceEvent.request_id, ServiceEvent.at, ServiceEvent.kind, ServiceEvent.after)
        .where(
            ServiceEvent.request_id.in_(ids),
            ServiceEvent.kind.in_(("status", "first_response")),
        )
        .order_by(ServiceEvent.request_id, ServiceEvent.id)
    )
    for request_id, at, kind, after in rows:
        grouped[request_id].append(EventRecord(at, kind, after))
    return grouped


def promises_for(requests: Sequence, now: datetime, cal: Calendar | None = None) -> dict:
    """The promise of each request (by id), in a fixed number of queries whatever their number."""
    cal = cal or calendar()
    targets = targets_for(r.account_id for r in requests)
    events = events_for(r.id for r in requests)
    return {
        r.id: evaluate(cal, r.opened_at, events[r.id], targets[r.account_id][r.priority], now)
        for r in requests
    }
