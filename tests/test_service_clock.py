"""The working-time clock and the promise state, on hand-worked calendars.

The calendar: Europe/Berlin, Monday to Friday 08:00-17:00 (9 working hours a day).
Berlin is UTC+1 in winter and UTC+2 in summer; every instant below is written in
UTC with its Berlin time beside it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from portal.service.clock import (
    Calendar,
    Interval,
    add_working_days,
    add_working_seconds,
    counted_seconds,
    working_seconds,
)
from portal.service.promises import EventRecord, Target, evaluate

H = 3600
WEEK = tuple((time(8), time(17)) if day < 5 else None for day in range(7))
BERLIN = Calendar(ZoneInfo("Europe/Berlin"), WEEK)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_over_a_weekend():
    # Fri 27 Nov 2026 15:00 Berlin: 2 h on Friday, 2 h on Monday.
    opened = utc(2026, 11, 27, 14)
    assert add_working_seconds(BERLIN, opened, 4 * H) == utc(2026, 11, 30, 9)  # Mon 10:00
    assert working_seconds(BERLIN, opened, utc(2026, 11, 30, 9)) == 4 * H


def test_over_a_holiday():
    # Wed 23 Dec 16:00 Berlin; Thu 24 Dec is a holiday: 1 h Wed, then Fri 08:00 + 3 h.
    calendar = Calendar(BERLIN.zone, WEEK, frozenset({date(2026, 12, 24)}))
    opened = utc(2026, 12, 23, 15)
    assert add_working_seconds(calendar, opened, 4 * H) == utc(2026, 12, 25, 10)  # Fri 11:00
    assert working_seconds(calendar, opened, utc(2026, 12, 25, 10)) == 4 * H
    # Without the holiday it falls due on Thursday at 11:00.
    assert add_working_seconds(BERLIN, opened, 4 * H) == utc(2026, 12, 24, 10)


def test_opened_outside_working_hours():
    # Saturday 10:00 Berlin: nothing counts until Monday 08:00.
    saturday = utc(2026, 11, 28, 9)
    assert add_working_seconds(BERLIN, saturday, 2 * H) == utc(2026, 11, 30, 9)  # Mon 10:00
    assert working_seconds(BERLIN, saturday, utc(2026, 11, 30, 8)) == 1 * H  # Mon 09:00
    # Late on a weekday evening: the next morning.
    evening = utc(2026, 11, 30, 19)  # Mon 20:00
    assert add_working_seconds(BERLIN, evening, 1 * H) == utc(2026, 12, 1, 8)  # Tue 09:00


def test_daylight_saving_ends_in_berlin():
    # Fri 23 Oct 2026 16:00 CEST (UTC+2); summer time ends Sun 25 Oct; Monday is UTC+1.
    opened = utc(2026, 10, 23, 14)
    assert add_working_seconds(BERLIN, opened, 2 * H) == utc(2026, 10, 26, 8)  # Mon 09:00 CET
    assert working_seconds(BERLIN, opened, utc(2026, 10, 26, 8)) == 2 * H


def test_daylight_saving_starts_in_berlin():
    # Fri 27 Mar 2026 16:00 CET (UTC+1); summer time starts Sun 29 Mar; Monday is UTC+2.
    opened = utc(2026, 3, 27, 15)
    assert add_working_seconds(BERLIN, opened, 2 * H) == utc(2026, 3, 30, 7)  # Mon 09:00 CEST
    # The whole week across the change: 5 days x 9 h, in summer and winter alike.
    assert working_seconds(BERLIN, utc(2026, 3, 29), utc(2026, 4, 5)) == 45 * H


def test_a_pause_is_left_out():
    # Mon 30 Nov 08:00 Berlin, waiting for the customer from 10:00 to 14:00 Berlin.
    opened = utc(2026, 11, 30, 7)
    pause = Interval(utc(2026, 11, 30, 9), utc(2026, 11, 30, 13))
    assert counted_seconds(BERLIN, [pause], opened, utc(2026, 11, 30, 16)) == 5 * H


def test_working_days_for_closing():
    # Resolved Thu 26 Nov 10:00 Berlin; five working days later is Thu 3 Dec 10:00.
    resolved = utc(2026, 11, 26, 9)
    assert add_working_days(BERLIN, resolved, 5) == utc(2026, 12, 3, 9)
    with_holiday = Calendar(BERLIN.zone, WEEK, frozenset({date(2026, 12, 1)}))
    assert add_working_days(with_holiday, resolved, 5) == utc(2026, 12, 4, 9)


def test_naive_instants_and_empty_calendars_are_refused():
    with pytest.raises(ValueError):
        working_seconds(BERLIN, datetime(2026, 11, 30, 8), utc(2026, 11, 30, 9))
    with pytest.raises(ValueError):
        add_working_seconds(Calendar(BERLIN.zone, (None,) * 7), utc(2026, 11, 30, 9), H)


# --- the promise state from the events ------------------------------------------------------

TARGET = Target(response_hours=4, resolution_hours=16)
OPENED = utc(2026, 11, 30, 7)  # Mon 08:00 Berlin


def status(at, after):
    return EventRecord(at, "status", after)


def test_a_new_request_is_due_with_the_time_left():
    promise = evaluate(BERLIN, OPENED, [], TARGET, utc(2026, 11, 30, 8, 40))  # Mon 09:40
    assert promise.response.state == "due"
    assert promise.response.due_at == utc(2026, 11, 30, 11)  # Mon 12:00
    assert promise.response.left_seconds == 2 * H + 20 * 60
    assert promise.resolution.due_at == utc(2026, 12, 1, 14)  # Tue 15:00 (9 h Mon, 7 h Tue)


def test_met_and_breached_first_responses():
    answered = [EventRecord(utc(2026, 11, 30, 10), "first_response")]  # after 3 h
    late = [EventRecord(utc(2026, 11, 30, 12), "first_response")]  # after 5 h
    now = utc(2026, 12, 1, 9)
    assert evaluate(BERLIN, OPENED, answered, TARGET, now).response.state == "met"
    kept = evaluate(BERLIN, OPENED, late, TARGET, now).response
    assert (kept.state, kept.spent_seconds) == ("breached", 5 * H)
    # Not answered at all, and past the time: breached while still open.
    assert evaluate(BERLIN, OPENED, [], TARGET, now).response.state == "breached"


def test_the_clock_pauses_while_waiting_for_the_customer():
    events = [
        EventRecord(utc(2026, 11, 30, 8), "first_response"),
        status(utc(2026, 11, 30, 8), "waiting"),  # Mon 09:00, after 1 h
    ]
    paused = evaluate(BERLIN, OPENED, events, TARGET, utc(2026, 12, 2, 12))  # two days later
    assert paused.resolution.state == "paused"
    assert paused.resolution.spent_seconds == 1 * H
    # The customer answers on Wednesday 13:00 Berlin; 15 h are left from there.
    events.append(status(utc(2026, 12, 2, 12), "in_progress"))
    running = evaluate(BERLIN, OPENED, events, TARGET, utc(2026, 12, 2, 12))
    assert running.resolution.state == "due"
    assert running.resolution.due_at == utc(2026, 12, 4, 9)  # 4 h Wed, 9 h Thu, 2 h Fri: 10:00


def test_a_reopened_request_runs_on_from_its_time_so_far():
    events = [
        EventRecord(utc(2026, 11, 30, 8), "first_response"),
        status(utc(2026, 11, 30, 9), "in_progress"),
        status(utc(2026, 11, 30, 11), "resolved"),  # after 4 h
        status(utc(2026, 12, 1, 11), "in_progress"),  # reopened a day later
    ]
    promise = evaluate(BERLIN, OPENED, events, TARGET, utc(2026, 12, 1, 13))
    # The day spent resolved does not count: 4 h before, 2 h since the reopening.
    assert (promise.resolution.state, promise.resolution.spent_seconds) == ("due", 6 * H)
    events.append(status(utc(2026, 12, 1, 13), "resolved"))
    done = evaluate(BERLIN, OPENED, events, TARGET, utc(2026, 12, 8))
    assert (done.resolution.state, done.resolution.done_at) == ("met", utc(2026, 12, 1, 13))


def _walked(calendar: Calendar, start: datetime, end: datetime) -> float:
    """Working time by walking every day: what working_seconds did before it kept totals."""
    from datetime import timedelta

    total, day = 0.0, start.astimezone(calendar.zone).date()
    while day <= end.astimezone(calendar.zone).date():
        span = calendar.day_span(day)
        if span is not None:
            begin, finish = max(span[0], start), min(span[1], end)
            total += max(0.0, (finish - begin).total_seconds())
        day += timedelta(days=1)
    return total


def test_kept_totals_agree_with_walking_the_days():
    # Spans of every length across both daylight-saving changes and two holidays, asked
    # in an order that makes the kept running total restart further back.
    import random
    from datetime import timedelta

    rng = random.Random(3)
    calendar = Calendar(BERLIN.zone, WEEK, frozenset({date(2026, 3, 30), date(2026, 10, 26)}))
    base = utc(2026, 12, 31)
    for _ in range(500):
        start = base - timedelta(minutes=rng.randint(0, 400 * 24 * 60))
        end = start + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        assert working_seconds(calendar, start, end) == _walked(calendar, start, end)
