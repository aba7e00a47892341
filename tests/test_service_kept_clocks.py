"""Open requests keep their promise clock's answer (promises.keep_open_clocks, every five
minutes), so the measures for all accounts run the clock only for the requests that
changed or fell due since: the figures stay exactly what the clock over the events
gives, after an event written any way, a change of targets or working hours, and once
a running promise falls due.

The calendar is the default: Europe/Berlin, Monday to Friday 08:00-17:00. High
priority promises a first answer within 4 working hours and a resolution within 24.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, insert, select, update

from portal import jobs
from portal.extensions import db, utcnow
from portal.service import measures, promises, settings, workflow
from portal.service.clock import Calendar
from portal.service.models import OPEN_STATUSES, ServiceEvent, ServiceRequest
from portal.service.promises import EventRecord, Target, evaluate, holds_until

from .test_service import opened, user

H = 3600
WEEK = tuple((time(8), time(17)) if day < 5 else None for day in range(7))
BERLIN = Calendar(ZoneInfo("Europe/Berlin"), WEEK)
HIGH = Target(response_hours=4, resolution_hours=24)
MONDAY = datetime(2026, 11, 30, 7, tzinfo=UTC)  # Mon 08:00 Berlin


def kept_span(at: datetime, events=()) -> tuple[bool, datetime | None]:
    return holds_until(BERLIN, evaluate(BERLIN, MONDAY, list(events), HIGH, at), at)


def test_a_running_promise_is_kept_until_a_minute_before_it_falls_due():
    # At 09:00 the first answer has 3 working hours left: due at 12:00 Berlin, 11:00 UTC.
    assert kept_span(MONDAY + timedelta(hours=1)) == (True, MONDAY + timedelta(hours=4, minutes=-1))
    # At 13:00 it is breached for good; the resolution is due Wednesday 14:00 Berlin
    # (9 h Monday, 9 h Tuesday, 6 h Wednesday).
    wednesday = MONDAY + timedelta(days=2, hours=6)
    assert kept_span(MONDAY + timedelta(hours=5)) == (True, wednesday - timedelta(minutes=1))


def test_a_paused_promise_is_kept_until_its_next_event():
    waiting = EventRecord(MONDAY + timedelta(hours=1), "status", "waiting")
    assert kept_span(MONDAY + timedelta(days=9), [waiting]) == (True, None)


@pytest.mark.parametrize(
    "at",
    [
        MONDAY + timedelta(hours=3, minutes=59, seconds=30),  # 30 s before it falls due
        MONDAY + timedelta(hours=4, seconds=30),  # breached by 30 s
    ],
)
def test_nothing_is_kept_within_a_minute_of_a_change(at):
    assert kept_span(at) == (False, None)


def test_a_promise_paused_at_its_very_end_is_not_kept():
    # Waiting from 11:59:30, 30 s before the first answer fell due.
    waiting = EventRecord(MONDAY + timedelta(hours=3, minutes=59, seconds=30), "status", "waiting")
    assert kept_span(MONDAY + timedelta(hours=6), [waiting]) == (False, None)


# --- the measures read the kept answers and equal the clock ---------------------------------


@pytest.fixture
def clocks_run(monkeypatch) -> list[set[int]]:
    """The requests whose clock the measures ran, per run."""
    ran: list[set[int]] = []
    real = promises.promises_for

    def spy(requests, now, cal=None):
        ran.append({r.id for r in requests})
        return real(requests, now, cal)

    monkeypatch.setattr(promises, "promises_for", spy)
    return ran


def by_clock(now: datetime) -> dict[int, measures.Measures]:
    """Each account's measures, every request's promise computed by the clock over its
    events (no kept answer read), with the total under None."""
    requests = list(db.session.scalars(select(ServiceRequest)))
    states = promises.promises_for(requests, now)
    records = defaultdict(list)
    for request in requests:
        records[request.account_id].append(measures.record_of(request, states[request.id]))
    figures = {account_id: measures.measure(listed) for account_id, listed in records.items()}
    return figures | {None: measures.measure(r for listed in records.values() for r in listed)}


def as_read(now: datetime) -> dict[int, measures.Measures]:
    report = measures.measures_for(select(ServiceRequest), now - timedelta(days=3650), now)
    return {account.id: m for account, m in report.by_account} | {None: report.total}


def figures(measured: dict[int, measures.Measures]) -> dict[int, measures.Measures]:
    """The hours in order: gathered in the order the rows came, which no figure reads."""
    return {
        key: replace(
            m, response_hours=sorted(m.response_hours), resolution_hours=sorted(m.resolution_hours)
        )
        for key, m in measured.items()
    }


def assert_equal_to_the_clock(now: datetime, clocks_run: list[set[int]]) -> set[int]:
    """The measures as read equal the clock's; returns the requests whose clock ran."""
    clocks_run.clear()
    read = as_read(now)
    ran = set().union(*clocks_run)
    assert figures(read) == figures(by_clock(now))
    return ran


def open_ids() -> set[int]:
    return set(
        db.session.scalars(
            select(ServiceRequest.id).where(ServiceRequest.status.in_(OPEN_STATUSES))
        )
    )


def requests_in_every_state(start: datetime) -> dict[str, int]:
    """Requests opened from `start` on (a Monday 08:00 Berlin), one in each state."""
    service, buyer = user("service@vendor.test"), user("buyer@acme.test")
    made = {}
    # 16 and 80 working hours promised, one at most spent: running for a day at least.
    made["running"] = opened(now=utcnow() - timedelta(hours=1), priority="low").id
    made["breached"] = opened(now=start, priority="urgent").id  # never answered
    paused = opened(now=start + timedelta(hours=1))
    workflow.change_status(service, paused, "waiting", now=start + timedelta(hours=2))
    made["paused"] = paused.id
    answered = opened(now=start + timedelta(days=1), priority="normal")
    workflow.change_status(service, answered, "in_progress", now=start + timedelta(days=1, hours=1))
    made["answered"] = answered.id
    reopened = opened(now=start + timedelta(hours=2))
    workflow.change_status(
        service, reopened, "resolved", now=start + timedelta(hours=5), resolution="Reset."
    )
    workflow.reopen(buyer, reopened, reason="Again.", now=start + timedelta(days=1))
    made["reopened"] = reopened.id
    resolved = opened(now=start + timedelta(hours=3), priority="urgent")
    workflow.change_status(
        service, resolved, "resolved", now=start + timedelta(hours=9), resolution="Fixed."
    )
    made["resolved"] = resolved.id
    closed = opened(now=start + timedelta(hours=4))
    workflow.change_status(
        service, closed, "resolved", now=start + timedelta(hours=6), resolution="Done."
    )
    workflow.confirm(buyer, closed, satisfied=True, comment="", now=start + timedelta(days=2))
    made["closed"] = closed.id
    return made


def a_monday_before(now: datetime, weeks: int) -> datetime:
    """08:00 Berlin (07:00 UTC) on the Monday `weeks` weeks before `now`'s week."""
    day = (now - timedelta(weeks=weeks, days=now.weekday())).date()
    return datetime.combine(day, time(7), UTC)


def test_the_measures_from_kept_clocks_equal_the_clocks_at_every_instant(app, demo, clocks_run):
    with app.app_context():
        now = utcnow().replace(microsecond=0)
        made = requests_in_every_state(a_monday_before(now, 2))
        # Nothing kept yet for most open requests: the clocks run, the figures agree.
        assert assert_equal_to_the_clock(now, clocks_run)
        assert promises.keep_open_clocks(now) >= 4
        unkept = {
            r.id
            for r in db.session.scalars(
                select(ServiceRequest).where(ServiceRequest.id.in_(open_ids()))
            )
            if r.outcome_at is None
        }
        assert not unkept & set(made.values())  # none of them is near a change
        # Kept: no clock runs but for what could not be kept, and the figures agree.
        assert assert_equal_to_the_clock(now, clocks_run) == unkept
        # A second run looks only at what it could not keep.
        assert promises.keep_open_clocks(now) == len(unkept)
        # Later, the running promises fall due: their clocks run again (and only theirs);
        # before the answers were kept, every clock runs.
        low = db.session.get(ServiceRequest, made["running"])
        hour, day = timedelta(hours=1), timedelta(days=1)
        for later in (hour, 3 * day, 30 * day, -hour):
            ran = assert_equal_to_the_clock(now + later, clocks_run)
            assert (made["running"] in ran) == (
                later < timedelta(0) or now + later >= low.outcome_until
            ), later
            assert made["breached"] not in ran or later < timedelta(0)
            assert made["paused"] not in ran or later < timedelta(0)


def test_a_change_is_reflected_at_once(app, demo, clocks_run, ids):
    with app.app_context():
        now = utcnow()
        made = requests_in_every_state(a_monday_before(now, 2))
        promises.keep_open_clocks(now)
        assert not assert_equal_to_the_clock(now, clocks_run) & set(made.values())
        service = user("service@vendor.test")

        # An event of the workflow: the paused request back in progress, at the very
        # instant its answer was kept.
        paused = db.session.get(ServiceRequest, made["paused"])
        workflow.change_status(service, paused, "in_progress", now=now)
        assert made["paused"] in assert_equal_to_the_clock(now, clocks_run)

        # An event written past the workflow (a script, an import): counted all the same.
        db.session.add(ServiceEvent(request_id=made["running"], at=now, kind="first_response"))
        db.session.commit()
        assert made["running"] in assert_equal_to_the_clock(now, clocks_run)

        # A handover is no clock event: the kept answer stays in use.
        breached = db.session.get(ServiceRequest, made["breached"])
        engineer = user("engineer@vendor.test")
        workflow.hand_over(service, breached, engineer.id, reason="Needs an engineer.", now=now)
        assert made["breached"] not in assert_equal_to_the_clock(now, clocks_run)

        # The job keeps the changed ones again.
        promises.keep_open_clocks(now)
        assert not assert_equal_to_the_clock(now, clocks_run) & set(made.values())

        # New targets for Acme's low priority: read by the clock at once, before the
        # rewrite job, which then keeps the open ones' answers too.
        settings.set_account_target(
            user("admin@vendor.test"), ids["acme"], priority="low", response="1", resolution="2"
        )
        assert made["running"] in assert_equal_to_the_clock(now, clocks_run)
        jobs.drain(app)  # the rewrite keeps them as of when it ran
        assert made["running"] not in assert_equal_to_the_clock(utcnow(), clocks_run)

        # Other working hours: every kept answer is stale until the rewrite.
        hours = {day: ("07:00", "18:00") for day in range(5)}
        settings.save_calendar(
            user("admin@vendor.test"), timezone="Europe/Berlin", hours=hours, now=now
        )
        later = utcnow()
        assert set(made.values()) <= assert_equal_to_the_clock(later, clocks_run)
        jobs.drain(app)
        assert not assert_equal_to_the_clock(utcnow(), clocks_run) & set(made.values())


def test_the_database_counts_clock_events_however_they_are_written(app, demo, clocks_run):
    """The count a kept answer is checked against (ServiceRequest.clock_events) is kept by
    the database's triggers, so an event written past the ORM, many at once, moved to
    another kind or request, or deleted changes it all the same."""
    with app.app_context():
        now = utcnow()
        made = requests_in_every_state(a_monday_before(now, 2))
        running, paused = made["running"], made["paused"]
        events = ServiceEvent.__table__

        def counts(rid: int) -> tuple[int, int]:
            """The request's kept count and its clock events counted."""
            db.session.expire_all()
            counted = db.session.scalar(
                select(func.count()).where(
                    events.c.request_id == rid, events.c.kind.in_(promises.CLOCK_EVENTS)
                )
            )
            return db.session.get(ServiceRequest, rid).clock_events, counted

        def kept_and_read() -> None:
            """Keep the answers, then check that neither request's clock runs."""
            promises.keep_open_clocks(now)
            assert not assert_equal_to_the_clock(now, clocks_run) & {running, paused}

        kept_and_read()
        start = counts(running)
        assert start[0] == start[1]

        # Plain SQL, two rows in one statement, one of them no clock event.
        db.session.execute(
            insert(events),
            [
                {"request_id": running, "at": now, "kind": "first_response"},
                {"request_id": running, "at": now, "kind": "owner", "after": "x"},
            ],
        )
        db.session.commit()
        assert counts(running) == (start[1] + 1, start[1] + 1)
        assert running in assert_equal_to_the_clock(now, clocks_run)
        kept_and_read()

        # The handover made a clock event (it moved between kinds), then moved to the
        # paused request: both counts follow.
        before_paused = counts(paused)[1]
        db.session.execute(
            update(events).where(events.c.kind == "owner", events.c.request_id == running),
            {"kind": "status", "after": "in_progress"},
        )
        db.session.commit()
        assert counts(running) == (start[1] + 2, start[1] + 2)
        assert running in assert_equal_to_the_clock(now, clocks_run)
        kept_and_read()
        db.session.execute(
            update(events)
            .where(events.c.request_id == running, events.c.after == "in_progress")
            .values(request_id=paused)
        )
        db.session.commit()
        assert counts(running) == (start[1] + 1, start[1] + 1)
        assert counts(paused) == (before_paused + 1, before_paused + 1)
        assert {running, paused} <= assert_equal_to_the_clock(now, clocks_run)
        kept_and_read()

        # Deleted (events are not, by the application; a repair might).
        db.session.execute(
            delete(events).where(events.c.request_id == paused, events.c.after == "in_progress")
        )
        db.session.commit()
        assert counts(paused) == (before_paused, before_paused)
        assert paused in assert_equal_to_the_clock(now, clocks_run)


def test_requests_to_the_clock_are_read_in_batches(app, demo, clocks_run, monkeypatch):
    """PostgreSQL takes at most 65,535 parameters in a statement, fewer than a year's
    requests whose kept answers are all stale (new working hours, before the rewrite):
    their ids are bound IN_BATCH at a time. In batches of two the figures are the same."""
    with app.app_context():
        now = utcnow()
        made = requests_in_every_state(a_monday_before(now, 2))
        promises.keep_open_clocks(now)
        monkeypatch.setattr(promises, "IN_BATCH", 2)
        hours = {day: ("07:00", "18:00") for day in range(5)}
        settings.save_calendar(
            user("admin@vendor.test"), timezone="Europe/Berlin", hours=hours, now=now
        )
        assert set(made.values()) <= assert_equal_to_the_clock(utcnow(), clocks_run)
