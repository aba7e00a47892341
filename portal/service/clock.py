"""Working time over a calendar: pure functions, no database, no `now`.

A `Calendar` is the vendor's working hours per weekday (local wall-clock
time), its time zone and its holidays. Working hours are wall-clock times, so
on the day daylight saving starts or ends the working day is still 08:00 to
17:00 local time: the zone decides how long that is in UTC, not this module.

- `working_seconds(calendar, start, end)`: working time between two instants.
- `add_working_seconds(calendar, start, seconds)`: the instant at which that much
  working time has passed after `start` (the due instant of a promise).
- `add_working_days(calendar, start, days)`: the same local time `days` working
  days later (when a resolved request closes by itself).
- `Interval` and `paused_seconds`: working time inside pauses (waiting for the
  customer), which the promise clock subtracts.

Instants are timezone-aware datetimes (UTC in the portal); naive ones are refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Far enough for any promise; a calendar without any working day would loop forever.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class Calendar:
    """Working hours per weekday (Monday = 0), as (start, end) local times or None."""

    zone: ZoneInfo
    hours: tuple[tuple[time, time] | None, ...]
    holidays: frozenset[date] = field(default_factory=frozenset)
    # Days already worked out (span, and working seconds of all days from `_first`
    # before it): a calendar is immutable, so what follows from it can be kept. The
    # clock of a request a year old then costs a few lookups instead of a year of days.
    _days: dict = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)
    # Spans of other days (those ahead, where promises fall due): each request's due
    # instant walked the same days ahead again (~45 spans a view of the service home).
    _spans: dict = field(default_factory=dict, init=False, compare=False, hash=False, repr=False)

    def __post_init__(self):
        if len(self.hours) != 7:
            raise ValueError("working hours are given for the seven weekdays")
        for span in self.hours:
            if span is not None and not span[0] < span[1]:
                raise ValueError("a working day ends after it starts")

    def day_span(self, day: date) -> tuple[datetime, datetime] | None:
        """The working hours of one local date as instants, or None (a day off)."""
        try:
            return self._days[day][0]
        except KeyError:
            pass
        try:
            return self._spans[day]
        except KeyError:
            span = self._spans[day] = self._span(day)
            return span

    def _span(self, day: date) -> tuple[datetime, datetime] | None:
        span = self.hours[day.weekday()]
        if span is None or day in self.holidays:
            return None
        # Wall-clock times in the zone, then UTC: arithmetic between datetimes that
        # share a tzinfo is wall-clock arithmetic in Python, wrong across DST.
        return (
            datetime.combine(day, span[0], tzinfo=self.zone).astimezone(UTC),
            datetime.combine(day, span[1], tzinfo=self.zone).astimezone(UTC),
        )

    def before(self, day: date) -> float:
        """Working seconds of the days from a fixed first day up to `day` (excluded): the
        working time of whole days between two dates is the difference of two of these."""
        known = self._days.get(day)
        if known is not None:
            return known[1]
        first = self._days.get("first")
        if first is None or day < first:
            # (Re)start the running total at this day; earlier totals are dropped.
            self._days.clear()
            self._days["first"] = first = day
            self._days[day] = (self._span(day), 0.0)
            self._days["last"] = day
            return 0.0
        last = self._days["last"]
        span, total = self._days[last]
        while last < day:
            if span is not None:
                total += (span[1] - span[0]).total_seconds()
            last += timedelta(days=1)
            span = self._span(last)
            self._days[last] = (span, total)
        self._days["last"] = last
        return total

    @property
    def has_working_days(self) -> bool:
        return any(span is not None for span in self.hours)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime | None  # None: still going on


def _aware(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value  # the portal's instants: nothing to convert
    if value.tzinfo is None:
        raise ValueError("instants must carry a time zone")
    return value.astimezone(UTC)


def working_seconds(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Working time from `start` to `end`, in seconds (0 if `end` is not after `start`)."""
    start, end = _aware(start), _aware(end)
    if end <= start:
        return 0.0
    first = start.astimezone(calendar.zone).date()
    last = end.astimezone(calendar.zone).date()
    total = _within(calendar, first, start, end)
    if last > first:
        total += _within(calendar, last, start, end)
    if last > first + timedelta(days=1):
        # The whole days between: from the running total, not a walk over the days.
        # The earlier day first: a running total restarted there still reaches the later.
        earlier = calendar.before(first + timedelta(days=1))
        total += calendar.before(last) - earlier
    return total


def _within(calendar: Calendar, day: date, start: datetime, end: datetime) -> float:
    """Working time of one local date that lies between `start` and `end`."""
    span = calendar.day_span(day)
    if span is None:
        return 0.0
    begin, finish = max(span[0], start), min(span[1], end)
    return (finish - begin).total_seconds() if finish > begin else 0.0


def add_working_seconds(calendar: Calendar, start: datetime, seconds: float) -> datetime:
    """The instant when `seconds` of working time have passed after `start`.

    Zero working time from outside working hours is `start` itself; a promise
    made on a Saturday falls due in Monday's hours, never before they begin.
    """
    given = start
    start = _aware(start)
    if seconds <= 0:
        return given
    if not calendar.has_working_days:
        raise ValueError("the calendar has no working day")
    left = float(seconds)
    day = start.astimezone(calendar.zone).date()
    for _ in range(MAX_DAYS):
        span = calendar.day_span(day)
        if span is not None:
            begin = max(span[0], start)
            if span[1] > begin:
                available = (span[1] - begin).total_seconds()
                if left <= available:
                    return (begin + timedelta(seconds=left)).astimezone(given.tzinfo)
                left -= available
        day += timedelta(days=1)
    raise ValueError("the promise lies more than three years ahead")


def add_working_days(calendar: Calendar, start: datetime, days: int) -> datetime:
    """The same local time of day, `days` working days after `start`'s local date."""
    given = start
    _aware(start)
    if not calendar.has_working_days:
        raise ValueError("the calendar has no working day")
    local = start.astimezone(calendar.zone)
    day = local.date()
    for _ in range(MAX_DAYS):
        if days <= 0:
            break
        day += timedelta(days=1)
        if calendar.day_span(day) is not None:
            days -= 1
    return datetime.combine(day, local.time(), tzinfo=calendar.zone).astimezone(given.tzinfo)


def paused_seconds(
    calendar: Calendar, pauses: Iterable[Interval], start: datetime, end: datetime
) -> float:
    """Working time between `start` and `end` that falls inside the pauses."""
    total = 0.0
    start, end = _aware(start), _aware(end)
    for pause in pauses:
        begin = max(_aware(pause.start), start)
        finish = min(_aware(pause.end) if pause.end else end, end)
        total += working_seconds(calendar, begin, finish)
    return total


def counted_seconds(
    calendar: Calendar, pauses: Iterable[Interval], start: datetime, end: datetime
) -> float:
    """Working time from `start` to `end` with the pauses left out: what a promise spends."""
    return working_seconds(calendar, start, end) - paused_seconds(calendar, pauses, start, end)
