"""The kept final answer of the promise clock on resolved and closed requests: written
from the events by the same clock every page uses, cleared when a request is reopened,
rewritten when the targets change, backfilled for all (what migration 0022 runs), and
the measures read from it equal the measures computed by the clock. A change of the
calendar, holidays or targets commits at once and queues one rewrite job
(portal.service.recompute); the kept answers follow when the job has run.

The calendar is the default: Europe/Berlin, Monday to Friday 08:00-17:00. Mon 30 Nov
2026 08:00 Berlin is 07:00 UTC. High priority promises a first answer within 4 working
hours and a resolution within 24; urgent 2 and 8.
"""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from portal import jobs
from portal.background.models import ScheduledRun
from portal.extensions import db
from portal.service import measures, promises, recompute, settings, workflow
from portal.service.models import ServiceHoliday, ServiceRequest

from .support import soup
from .test_service import opened, text_of, user

H = 3600
MONDAY = datetime(2026, 11, 30, 7, tzinfo=UTC)  # Mon 08:00 Berlin


def kept(request: ServiceRequest) -> dict:
    db.session.refresh(request)
    return {name: getattr(request, name) for name in promises.CLEARED}


def get(request_id: int) -> ServiceRequest:
    return db.session.get(ServiceRequest, request_id)


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
        # Reopened Tue 08:00: the clock runs on; what is kept is its answer as of then.
        workflow.reopen(buyer, request, reason="Leaks again.", now=MONDAY + timedelta(days=1))
        assert kept(request) == {
            "response_outcome": "met",
            "response_seconds": 2 * H,
            "resolution_outcome": "due",
            "resolution_seconds": None,
        }
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
        assert kept(request)["response_outcome"] == "met"  # the save only queued the rewrite
        assert waiting(app) == [recompute.JOB]
        jobs.drain(app)
        assert kept(request)["response_outcome"] == "breached"
        assert kept(request) == clock(request, MONDAY + timedelta(days=5))


def waiting(app) -> list[str]:
    """The rewrite jobs waiting in the queue (the outbox's nudges left out)."""
    return [t.name for t in jobs.queue_of(app).huey.pending() if t.name == recompute.JOB]


WEEK = {f"day{d}_start": "08:00" for d in range(5)} | {f"day{d}_end": "17:00" for d in range(5)}
WEEK |= {f"day{d}_{edge}": "" for d in (5, 6) for edge in ("start", "end")}


def _resolved_over_three_days():
    """High priority, opened Mon 08:00, answered Mon 09:00, resolved Wed 10:00 (Berlin):
    9 h on Monday, 9 on Tuesday, 2 on Wednesday = 20 working hours to resolve."""
    request = opened(now=MONDAY)
    service = user("service@vendor.test")
    workflow.change_status(service, request, "in_progress", now=MONDAY + timedelta(hours=1))
    workflow.change_status(service, request, "resolved",
                           now=MONDAY + timedelta(days=2, hours=2), resolution="Seal.")  # fmt: skip
    return request


def test_a_holiday_queues_one_rewrite_that_takes_that_day_out_of_the_kept_answer(
    app, demo, login_as
):
    with app.app_context():
        rid = _resolved_over_three_days().id
        before = {
            "response_outcome": "met",
            "response_seconds": 1 * H,
            "resolution_outcome": "met",
            "resolution_seconds": 20 * H,
        }
        assert kept(get(rid)) == before
    admin = login_as("admin@vendor.test")
    page = "/service/settings"
    assert soup(admin.get(page)).select_one("#recompute-status") is None  # never ran
    added = admin.post(page + "/holidays", {"day": "2026-12-01", "name": "Plant day"}, page=page)
    assert added.status_code == 303
    # Saved and committed at once, the kept answer untouched, one job waiting ...
    with app.app_context():
        assert db.session.scalar(select(ServiceHoliday.name)) == "Plant day"
        assert kept(get(rid)) == before
        assert waiting(app) == [recompute.JOB]
    shown = soup(admin.get(page)).select_one("#recompute-status").get_text()
    assert "are being recomputed" in shown and "Last recomputed" not in shown
    # ... and saving the hours twice more while it waits queues nothing more.
    for _ in range(2):
        assert admin.post(page, {"timezone": "Europe/Berlin", **WEEK}).status_code == 303
    assert waiting(app) == [recompute.JOB]
    assert jobs.drain(app) >= 1
    with app.app_context():
        # Tuesday 1 Dec is a holiday now: its 9 working hours no longer count.
        assert kept(get(rid)) == before | {"resolution_seconds": 11 * H}
        assert kept(get(rid)) == clock(get(rid), MONDAY + timedelta(days=30))
        run = db.session.get(ScheduledRun, recompute.JOB)
        assert run.outcome == "ok" and run.finished_at is not None
    assert waiting(app) == []
    shown = soup(admin.get(page)).select_one("#recompute-status").get_text()
    assert "were last recomputed" in shown
    # Removing the holiday queues the rewrite back to 20 h.
    with app.app_context():
        holiday_id = db.session.scalar(select(ServiceHoliday.id))
    removed = admin.post(f"{page}/holidays/{holiday_id}/delete", page=page)
    assert removed.status_code == 303 and waiting(app) == [recompute.JOB]
    jobs.drain(app)
    with app.app_context():
        assert kept(get(rid)) == before


def test_bad_calendar_input_saves_nothing_and_queues_nothing(app, demo, login_as):
    with app.app_context():
        rid = _resolved_over_three_days().id
        kept_before = kept(get(rid))
    admin = login_as("admin@vendor.test")
    page = "/service/settings"
    for fields in (
        {"timezone": "Mars/Olympus"},
        {"timezone": "Asia/Tokyo", "day0_end": "07:00"},
        {"timezone": "Asia/Tokyo", "day2_start": "9"},
    ):
        bad = admin.post(page, {**WEEK, **fields})
        assert bad.status_code == 422, fields
    bad = admin.post(page + "/holidays", {"day": "1.12.2026", "name": "X"}, page=page)
    assert bad.status_code == 422
    bad = admin.post(
        page + "/holidays/import",
        {"upload": (io.BytesIO(b"2026-12-01,Plant day\n2026-13-01,No\n"), "h.csv")},
        page=page,
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422 and "Nothing was imported" in text_of(bad)
    assert waiting(app) == []
    with app.app_context():
        assert promises.calendar().zone.key == "Europe/Berlin"
        assert db.session.scalar(select(ServiceHoliday.id)) is None
        assert db.session.get(ScheduledRun, recompute.JOB) is None
        assert kept(get(rid)) == kept_before


def test_a_save_while_the_rewrite_runs_queues_another(app, demo):
    """The running job may have read the calendar before the save: one more must follow,
    and the first one finishing must not hide that it waits."""
    with app.app_context():
        _resolved_over_three_days()
        admin = user("admin@vendor.test")
        settings.add_holiday(admin, day="2026-12-24", name="Christmas Eve")
        assert waiting(app) == [recompute.JOB]
        recompute._start()  # what the job commits first, before it reads the calendar
        settings.add_holiday(admin, day="2026-12-01", name="Plant day")
        assert waiting(app) == [recompute.JOB, recompute.JOB]
        recompute._finish()  # the first run ends after that save
        run = recompute.status()
        assert run.outcome == "queued" and run.finished_at is not None
        # While the second waits, a third save queues nothing more.
        settings.add_holiday(admin, day="2026-12-31", name="New Year's Eve")
        assert waiting(app) == [recompute.JOB, recompute.JOB]
        assert jobs.drain(app) >= 2
        assert recompute.status().outcome == "ok" and waiting(app) == []


def test_a_rewrite_queued_long_ago_and_never_run_is_queued_again(app, demo):
    """A job lost from the queue (Redis restarted) must not hold every later save back."""
    with app.app_context():
        admin = user("admin@vendor.test")
        settings.add_holiday(admin, day="2026-12-24", name="Christmas Eve")
        assert waiting(app) == [recompute.JOB]
        jobs.queue_of(app).huey.flush()  # the queue lost it
        settings.add_holiday(admin, day="2026-12-31", name="New Year's Eve")
        assert waiting(app) == []  # queued a moment ago: still trusted
        run = recompute.status()
        run.started_at -= recompute.LOST_AFTER + timedelta(minutes=1)
        db.session.commit()
        settings.add_holiday(admin, day="2026-12-01", name="Plant day")
        assert waiting(app) == [recompute.JOB]
        assert jobs.drain(app) >= 1
        assert recompute.status().outcome == "ok"


def test_a_queue_that_is_down_is_said_on_the_page_and_the_next_save_queues_again(
    app, demo, login_as
):
    queue = jobs.queue_of(app)
    queue.error = "PORTAL_REDIS_URL redis://nowhere is not reachable."  # what a bad URL gives
    admin = login_as("admin@vendor.test")
    page = "/service/settings"
    added = admin.post(page + "/holidays", {"day": "2026-12-01", "name": "Plant day"}, page=page)
    assert added.status_code == 303  # the holiday is kept all the same
    shown = soup(admin.get(page)).select_one("#recompute-status").get_text()
    assert "failed: The job queue could not be reached." in shown
    queue.error = None
    assert admin.post(page, {"timezone": "Europe/Berlin", **WEEK}).status_code == 303
    assert waiting(app) == [recompute.JOB]
    jobs.drain(app)
    with app.app_context():
        assert recompute.status().outcome == "ok"


def test_the_job_rewrites_every_final_request_in_batches(app, demo):
    with app.app_context():
        _requests_in_every_state()
        db.session.add(ServiceHoliday(day=MONDAY.date() + timedelta(days=1), name="Plant day"))
        db.session.commit()
        requests = list(db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))
        final = [r for r in requests if r.status in promises.FINAL]
        assert len(final) == 3
        before = {r.id: kept(r) for r in final}
        assert recompute.run(batch=2) == len(final)  # two batches, a commit after each
        assert any(kept(r) != before[r.id] for r in final)  # the holiday counts now
        states = promises.promises_for(final, datetime.now(UTC) + timedelta(days=400))
        for request in final:
            assert kept(request) == promises.outcome_of(states[request.id]), request.reference
        assert_open_ones_keep_the_clock_as_of_then(requests)
        assert recompute.status().outcome == "ok"


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
        written = promises.record_outcomes()  # what migrations 0022 and 0028 run
        db.session.commit()
        requests = list(db.session.scalars(select(ServiceRequest).order_by(ServiceRequest.id)))
        final = [r for r in requests if r.status in promises.FINAL]
        assert written == len(final) > 0
        later = datetime.now(UTC) + timedelta(days=400)
        states = promises.promises_for(final, later)
        for request in final:
            assert kept(request) == promises.outcome_of(states[request.id]), request.reference
        assert_open_ones_keep_the_clock_as_of_then(requests)


def assert_open_ones_keep_the_clock_as_of_then(requests: list[ServiceRequest]) -> None:
    """Open requests keep the clock's answer as of when it was written (or nothing: near
    a change of state, or with an event later than that, as these may have)."""
    open_ones = [r for r in requests if r.is_open]
    kept_ones = [r for r in open_ones if kept(r) != dict.fromkeys(promises.CLEARED)]
    assert kept_ones
    for request in kept_ones:
        assert kept(request) == clock(request, request.outcome_at), request.reference


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
        assert in_order(report.total) == in_order(by_clock)


def in_order(m: measures.Measures) -> measures.Measures:
    """The figures with their hours in order: the measures gather kept answers and the
    clock's apart, and no figure reads the order."""
    return replace(
        m, response_hours=sorted(m.response_hours), resolution_hours=sorted(m.resolution_hours)
    )


def _measured(now: datetime) -> tuple[measures.Measures, measures.Measures]:
    """The measures as read (kept answers where they are current) and by the clock alone,
    their hours in order."""
    report = measures.measures_for(select(ServiceRequest), now - timedelta(days=3650), now)
    requests = list(db.session.scalars(select(ServiceRequest)))
    states = promises.promises_for(requests, now)
    by_clock = measures.measure(measures.record_of(r, states[r.id]) for r in requests)
    return in_order(report.total), in_order(by_clock)


def test_stale_kept_answers_are_not_read_until_the_rewrite_has_run(app, demo, ids):
    """Between a change of the targets or holidays and the rewrite job the kept answers
    are stale: the measures read the clock for them meanwhile, so no figure is stale."""
    with app.app_context():
        rid = _resolved_over_three_days().id  # 1 h to answer, 20 h to resolve: both met
        now = MONDAY + timedelta(days=30)
        as_read, by_clock = _measured(now)
        assert as_read == by_clock and as_read.response_kept_share == 1.0
        version = get(rid).outcome_version
        assert version is not None

        # Acme's high priority promises a resolution within 1 working hour now: the kept
        # "met" of the 20 h resolution is stale until the job runs, and is not read.
        settings.set_account_target(
            user("admin@vendor.test"), ids["acme"], priority="high", response="1", resolution="1"
        )
        assert kept(get(rid))["resolution_outcome"] == "met"  # not rewritten yet
        as_read, by_clock = _measured(now)
        assert as_read == by_clock
        assert as_read.response_kept_share == 1.0 and as_read.kept_share == 0.5
        jobs.drain(app)
        assert get(rid).outcome_version != version
        assert _measured(now)[0] == by_clock

        # A holiday, added straight into the table (no job queued at all): still the clock.
        version = get(rid).outcome_version
        db.session.add(ServiceHoliday(day=MONDAY.date() + timedelta(days=1), name="Plant day"))
        db.session.commit()
        as_read, by_clock = _measured(now)
        assert as_read == by_clock and as_read.resolution_hours == [11.0]
        assert kept(get(rid))["resolution_seconds"] == 20 * H  # the kept one, not read
        recompute.run()
        assert kept(get(rid))["resolution_seconds"] == 11 * H
        assert get(rid).outcome_version not in (None, version)
        assert _measured(now)[0] == by_clock
