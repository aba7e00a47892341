"""The kept final answer of the promise clock on resolved and closed requests: written
from the events by the same clock every page uses, cleared when a request is reopened,
rewritten when the targets change, backfilled for all (what migration 0022 runs), and
the measures read from it equal the measures computed by the clock.

The calendar is the default: Europe/Berlin, Monday to Friday 08:00-17:00. Mon 30 Nov
2026 08:00 Berlin is 07:00 UTC. High priority promises a first answer within 4 working
hours and a resolution within 24; urgent 2 and 8.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from portal.extensions import db
from portal.service import measures, promises, settings, workflow
from portal.service.models import ServiceRequest

from .test_service import opened, user

H = 3600
MONDAY = datetime(2026, 11, 30, 7, tzinfo=UTC)  # Mon 08:00 Berlin


def kept(request: ServiceRequest) -> dict:
    db.session.refresh(request)
    return {name: getattr(request, name) for name in promises.CLEARED}


def clock(request: ServiceRequest, now: datetime) -> dict:
    """The clock's answer over the events, as every page computes it."""
    return promises.outcome_of(promises.promises_for([request], now)[request.id])


def test_paused_and_answered_in_time_is_kept_as_the_clock_says(app, demo):
    with app.app_context():
        request = opened(now=MONDAY)
        service, buyer = user("service@vendor.test"), user("buyer@acme.test")
        # First answer after 1 h (Mon 09:00), waiting for the customer until Thu 08:00.
        workflow.change_status(service, request, "waiting", now=MONDAY + timedelta(hours=1))
        assert kept(request)["resolution_outcome"] is None  # open: nothing kept
        workflow.post(buyer, request, body="Serial 4711", internal=False,
                      now=MONDAY + timedelta(days=3))  # fmt: skip
        # Resolved Thu 10:00: 1 h on Monday and 2 h on Thursday count.
        workflow.change_status(
            service,
            request,
            "resolved",
            now=MONDAY + timedelta(days=3, hours=2),
            resolution="Done.",
        )
        expected = {
            "response_outcome": "met",
            "response_seconds": 1 * H,
            "resolution_outcome": "met",
            "resolution_seconds": 3 * H,
        }
        assert kept(request) == expected
        assert clock(request, MONDAY + timedelta(days=30)) == expected
        # Confirming closes it; the clock stood still, so the answer stays.
        workflow.confirm(buyer, request, satisfied=True, comment="",
                         now=MONDAY + timedelta(days=4))  # fmt: skip
        assert kept(request) == expected == clock(request, MONDAY + timedelta(days=60))


def test_a_late_first_answer_is_kept_breached(app, demo):
    with app.app_context():
        request = opened(now=MONDAY, priority="urgent")
        # Resolved Mon 11:00 with no answer before: the first answer came 3 h in (2 promised).
        workflow.change_status(user("service@vendor.test"), request, "resolved",
                               now=MONDAY + timedelta(hours=3), resolution="Reset.")  # fmt: skip
        assert kept(request) == {
            "response_outcome": "breached",
            "response_seconds": 3 * H,
            "resolution_outcome": "met",
            "resolution_seconds": 3 * H,
        }
        assert kept(request) == clock(request, MONDAY + timedelta(days=5))


def test_reopening_clears_the_answer_and_resolving_again_recomputes_it(app, demo):
    with app.app_context():
        request = opened(now=MONDAY)
        service, buyer = user("service@vendor.test"), user("buyer@acme.test")
        workflow.change_status(
            service, request, "resolved", now=MONDAY + timedelta(hours=2), resolution="Tightened."
        )
        assert kept(request)["resolution_seconds"] == 2 * H
        # Reopened Tue 08:00: the clock runs on, nothing final is kept.
        workflow.reopen(buyer, request, reason="Leaks again.", now=MONDAY + timedelta(days=1))
        assert kept(request) == dict.fromkeys(promises.CLEARED)
        # Resolved again Tue 12:00: 2 h on Monday, the time resolved paused, 4 h on Tuesday.
        again = MONDAY + timedelta(days=1, hours=4)
        workflow.change_status(service, request, "resolved", now=again, resolution="New seal.")
        assert kept(request) == {
            "response_outcome": "met",
            "response_seconds": 2 * H,
            "resolution_outcome": "met",
            "resolution_seconds": 6 * H,
        }
        assert kept(request) == clock(request, MONDAY + timedelta(days=9))


def test_new_targets_rewrite_the_kept_answers_of_that_account(app, demo, ids):
    with app.app_context():
        request = opened(now=MONDAY)  # high: 4 h promised, answered in 2 h
        workflow.change_status(user("service@vendor.test"), request, "resolved",
                               now=MONDAY + timedelta(hours=2), resolution="Done.")  # fmt: skip
        assert kept(request)["response_outcome"] == "met"
        settings.set_account_target(
            user("admin@vendor.test"), ids["acme"], priority="high", response="1", resolution="1"
        )
        assert kept(request)["response_outcome"] == "breached"
        assert kept(request) == clock(request, MONDAY + timedelta(days=5))


def _requests_in_every_state() -> None:
    service, buyer = user("service@vendor.test"), user("buyer@acme.test")
    for n, priority in enumerate(("urgent", "high", "normal", "low", "high", "urgent")):
        start = MONDAY + timedelta(hours=n * 5)
        request = opened(now=start, priority=priority)
        if n == 0:
            continue  # new
        workflow.change_status(service, request, "waiting", now=start + timedelta(hours=n))
        if n == 1:
            continue  # waiting
        workflow.change_status(
            service, request, "resolved", now=start + timedelta(hours=3 * n), resolution="Done."
        )
        if n == 3:
            workflow.reopen(buyer, request, reason="Again.", now=start + timedelta(days=1))
        if n == 4:
            workflow.confirm(buyer, request, satisfied=False, comment="",
                             now=start + timedelta(days=2))  # fmt: skip


def test_the_backfill_writes_what_the_clock_says_for_every_final_request(app, demo):
    with app.app_context():
        _requests_in_every_state()
        db.session.execute(update(ServiceRequest).values(dict.fromkeys(promises.CLEARED)))
        db.session.commit()
        written = promises.record_outcomes()  # what migration 0022 runs
        db.session.commit()
        requests = list(db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))
        final = [r for r in requests if r.status in promises.FINAL]
        assert written == len(final) > 0
        later = datetime.now(UTC) + timedelta(days=400)
        states = promises.promises_for(final, later)
        for request in final:
            assert kept(request) == promises.outcome_of(states[request.id]), request.reference
        assert all(kept(r) == dict.fromkeys(promises.CLEARED) for r in requests if r.is_open)


def test_the_measures_from_kept_answers_equal_the_clocks(app, demo):
    with app.app_context():
        _requests_in_every_state()
        now = datetime.now(UTC)
        start = now - timedelta(days=3650)
        report = measures.measures_for(select(ServiceRequest), start, now)
        requests = list(db.session.scalars(select(ServiceRequest)))
        assert any(r.status in promises.FINAL for r in requests)
        states = promises.promises_for(requests, now)
        by_clock = measures.measure(measures.record_of(r, states[r.id]) for r in requests)
        assert report.total == by_clock
