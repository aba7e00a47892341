"""The job queue: the schedule, workers and their heartbeats, failed jobs and their retry,
the "Background work" page, /healthz, and clear words for a queue that is not there."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal import create_app, jobs
from portal.accounts.models import AuthSession, LoginFailure, User
from portal.background.models import JobFailure, ScheduledRun, WorkerHeartbeat
from portal.extensions import db, utcnow

from .support import make_test_config, soup

SCHEDULE = {
    "deliver_outbox": "every minute",
    "send_digests": "daily at 06:00 UTC",
    "sweep_attachments": "daily at 03:15 UTC",
    "purge_sessions": "daily at 03:25 UTC",
    "purge_login_failures": "hourly at :35",
    "close_resolved_requests": "hourly at :05",
    "service_promise_alerts": "every 5 minutes",
    "keep_service_clocks": "every 5 minutes",
    "purge_worker_records": "daily at 03:45 UTC",
    "deliver_cxml": "every minute",
    "purge_cxml_answers": "daily at 03:50 UTC",
    "refresh_relationships": "daily at 04:10 UTC",
    "escalate_relationship_alerts": "hourly at :20",
    "purge_api_idempotency_keys": "daily at 03:55 UTC",
    "remind_due_reviews": "daily at 06:10 UTC",
}
# Jobs only queued by a change, never on the clock.
QUEUED_ONLY = {"recompute_service_outcomes"}


def run_schedule_at(app, hour: int, minute: int) -> list[str]:
    """What huey's scheduler does at that minute (UTC): enqueue the periodic jobs due
    then; a worker runs them. Returns their names."""
    huey = jobs.queue_of(app).huey
    due = huey.read_periodic(datetime(2026, 12, 1, hour, minute))
    for task in due:
        huey.execute(task)
    return sorted(task.name.removesuffix("@schedule") for task in due)


def test_one_schedule_lists_every_periodic_job(app):
    queue = jobs.queue_of(app)
    scheduled = {name: job for name, job in queue.jobs.items() if job.schedule is not None}
    assert {name: job.schedule.label for name, job in scheduled.items()} == SCHEDULE
    assert set(queue.jobs) - set(scheduled) == QUEUED_ONLY
    periodic = {task.name for task in queue.huey._registry.periodic_tasks}
    assert periodic == {f"{name}@schedule" for name in SCHEDULE}
    assert run_schedule_at(app, 3, 25) == [
        "deliver_cxml",
        "deliver_outbox",
        "keep_service_clocks",
        "purge_sessions",
        "service_promise_alerts",
    ]
    assert run_schedule_at(app, 7, 35) == [
        "deliver_cxml",
        "deliver_outbox",
        "keep_service_clocks",
        "purge_login_failures",
        "service_promise_alerts",
    ]
    assert run_schedule_at(app, 9, 5) == [
        "close_resolved_requests",
        "deliver_cxml",
        "deliver_outbox",
        "keep_service_clocks",
        "service_promise_alerts",
    ]
    assert run_schedule_at(app, 9, 7) == ["deliver_cxml", "deliver_outbox"]
    assert run_schedule_at(app, 6, 10) == [
        "deliver_cxml",
        "deliver_outbox",
        "keep_service_clocks",
        "remind_due_reviews",
        "service_promise_alerts",
    ]


@pytest.mark.parametrize(
    ("every", "now", "expected"),
    [
        (jobs.Every(), "2026-12-01 10:00:30", "2026-12-01 10:01"),
        (jobs.Every("35"), "2026-12-01 10:35:00", "2026-12-01 11:35"),
        (jobs.Every("*/5"), "2026-12-01 10:35:00", "2026-12-01 10:40"),
        (jobs.Every("*/5"), "2026-12-01 23:57:10", "2026-12-02 00:00"),
        (jobs.Every("35"), "2026-12-01 23:40:00", "2026-12-02 00:35"),
        (jobs.Every("0", "6"), "2026-12-01 05:59:59", "2026-12-01 06:00"),
        (jobs.Every("0", "6"), "2026-12-31 06:00:00", "2027-01-01 06:00"),
    ],
)
def test_the_next_run(every, now, expected):
    moment = datetime.fromisoformat(now).replace(tzinfo=UTC)
    following = every.next_after(moment)
    assert following == datetime.fromisoformat(expected).replace(tzinfo=UTC)
    # huey's crontab (what the scheduler runs by) agrees with the page's "next run".
    assert every.crontab()(following.replace(tzinfo=None)) is True
    assert every.crontab()((following - timedelta(minutes=1)).replace(tzinfo=None)) is (
        every.minute == "*"
    )


def test_scheduled_clean_up_removes_old_sessions_and_failed_sign_ins(app, demo, caplog):
    now = utcnow()
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        for n, (expires, revoked) in enumerate(
            [
                (now - timedelta(days=2), None),  # expired two days ago: goes
                (now + timedelta(hours=1), now - timedelta(days=3)),  # signed out: goes
                (now + timedelta(hours=1), None),  # in use: stays
                (now - timedelta(hours=1), None),  # expired an hour ago: stays a day
            ]
        ):
            db.session.add(
                AuthSession(
                    user_id=buyer.id, token_hash=f"{n:064d}", expires_at=expires, revoked_at=revoked
                )
            )
        db.session.add_all(
            [
                LoginFailure(throttle_key="email:x", failed_at=now - timedelta(days=2)),
                LoginFailure(throttle_key="email:x", failed_at=now - timedelta(minutes=5)),
            ]
        )
        db.session.commit()
    assert "purge_sessions" in run_schedule_at(app, 3, 25)
    assert "purge_login_failures" in run_schedule_at(app, 3, 35)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuthSession)) == 2
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 1
        runs = {r.task_name: r for r in db.session.scalars(select(ScheduledRun))}
    assert (runs["purge_sessions"].outcome, runs["purge_sessions"].error) == ("ok", None)
    assert runs["purge_sessions"].finished_at >= runs["purge_sessions"].started_at
    assert [r.getMessage() for r in caplog.records if r.name == "portal.jobs"] == []


def test_a_failed_job_is_shown_with_its_error_and_an_admin_retries_it(app, demo, login_as):
    admin = login_as("admin@vendor.test")
    app.config["LOGIN_WINDOW_MINUTES"] = "fifteen"  # a broken setting makes the job fail
    assert "purge_login_failures" in run_schedule_at(app, 9, 35)
    app.config["LOGIN_WINDOW_MINUTES"] = 15
    page = soup(admin.get("/background"))
    (row,) = page.select("#failures tbody tr")
    cells = [td.get_text(" ", strip=True) for td in row.find_all("td")]
    assert cells[0] == "purge_login_failures"
    assert cells[2] == "ValueError: invalid literal for int() with base 10: 'fifteen'"
    schedule = {
        tr.td.strong.get_text(): tr.find_all("td")[2].get_text(" ", strip=True)
        for tr in page.select("#schedule tbody tr")
    }
    assert schedule["purge_login_failures"].endswith(
        "failed ValueError: invalid literal for int() with base 10: 'fifteen'"
    )
    assert schedule["purge_sessions"] == "not yet"

    response = admin.post(row.find("form")["action"], page="/background")
    assert (response.status_code, response.headers["Location"]) == (303, "/background")
    page = soup(admin.get("/background"))
    assert page.select_one(".flash-success").get_text() == "purge_login_failures is queued again."
    assert page.select("#failures tbody tr") == []
    assert page.select_one("#queue-length").get_text() == "1"
    assert jobs.drain(app) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(JobFailure)) == 1
        failure = db.session.scalar(select(JobFailure))
        assert failure.retried_at is not None
    # Twice is refused; an unknown failure is 404.
    response = admin.post(f"/background/failures/{failure.id}/retry", page="/background")
    assert soup(admin.get("/background")).select_one(".flash-error").get_text() == (
        "That job was retried already."
    )
    assert admin.post("/background/failures/999999/retry", page="/background").status_code == 404


def test_retry_needs_the_csrf_token(app, demo, login_as):
    with app.app_context():
        failure = JobFailure(task_name="purge_sessions", task_id="t", error="Boom")
        db.session.add(failure)
        db.session.commit()
        failure_id = failure.id
    admin = login_as("admin@vendor.test")
    assert admin.client.post(f"/background/failures/{failure_id}/retry").status_code == 400


# --- workers, heartbeats and /healthz --------------------------------------------------------


@pytest.fixture
def sqlite_queue(database_url, tmp_path):
    """An app whose queue is the embedded default: a SQLite file."""
    app = create_app(
        make_test_config(
            database_url, JOBS_BACKEND="sqlite", JOBS_SQLITE_PATH=str(tmp_path / "jobs.sqlite3")
        )
    )
    from .conftest import empty_all_tables

    with app.app_context():
        empty_all_tables()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_worker_on_the_sqlite_queue_beats_and_healthz_reports_it(sqlite_queue, tmp_path):
    app = sqlite_queue
    client = app.test_client()
    before = client.get("/healthz")
    assert (before.status_code, before.json["worker"], before.json["status"]) == (
        200,
        "none",
        "degraded",
    )
    worker = jobs.start_worker(app, heartbeat_seconds=0.2)
    try:
        assert jobs.wait_for(lambda: client.get("/healthz").json["worker"] == "ok")
        health = client.get("/healthz")
        assert health.status_code == 200
        assert health.json["status"] == "ok"
        assert health.json["queue"] == "ok"
        assert 0 <= health.json["worker_heartbeat_seconds"] < 5
        # A job queued by the web process runs in the worker.
        with app.app_context():
            assert jobs.enqueue("purge_sessions")
        assert jobs.wait_for(lambda: jobs.pending_count(app) == 0)
    finally:
        worker.stop()
    with app.app_context():
        (beat,) = db.session.scalars(select(WorkerHeartbeat))
        assert (beat.name, beat.queue) == (jobs.worker_name(), "sqlite")
        assert beat.stopped_at is not None
    assert client.get("/healthz").json["worker"] == "none"  # a stopped worker is no worker
    assert (tmp_path / "jobs.sqlite3").exists()


def test_a_stale_heartbeat_is_reported_not_fatal(app, demo, login_as):
    with app.app_context():
        db.session.add_all(
            [
                WorkerHeartbeat(
                    name="host-a:12",
                    queue="sqlite",
                    started_at=utcnow() - timedelta(hours=1),
                    beat_at=utcnow() - timedelta(minutes=5),
                ),
                WorkerHeartbeat(
                    name="host-b:7",
                    queue="sqlite",
                    beat_at=utcnow() - timedelta(days=1),
                    stopped_at=utcnow() - timedelta(days=1),
                ),
            ]
        )
        db.session.commit()
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.json["status"] == "degraded"
    assert health.json["worker"] == "stale"
    assert 300 <= health.json["worker_heartbeat_seconds"] < 310
    page = soup(login_as("admin@vendor.test").get("/background"))
    workers = [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in page.select("#workers tbody tr")
    ]
    assert [(w[0], w[3], w[4]) for w in workers] == [
        ("host-a:12", workers[0][3], "No heartbeat for over a minute"),
        ("host-b:7", workers[1][3], "Stopped"),
    ]
    assert workers[0][3].startswith("30")  # "30x s ago"


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path):
    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'missing' / 'portal.sqlite3'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {
        "status": "error",
        "database": "unreachable",
        "queue": "ok",
        "worker_heartbeat_seconds": None,
    }


def test_the_page_shows_the_queue_and_an_empty_state(app, demo, login_as):
    page = soup(login_as("admin@vendor.test").get("/background"))
    assert page.h1.get_text() == "Background work"
    facts = dict(
        zip(
            [dt.get_text() for dt in page.select("#queue dt")],
            [dd.get_text(" ", strip=True) for dd in page.select("#queue dd")],
            strict=True,
        )
    )
    assert facts["Kind"] == "memory (this process)"
    assert facts["Waiting jobs"] == "0"
    assert facts["E-mail in the outbox"] == "0 queued, 0 sending, 0 sent, 0 failed"
    assert page.select_one("#workers .empty").get_text().startswith("No worker has run yet")
    assert [tr.td.strong.get_text() for tr in page.select("#schedule tbody tr")] == list(SCHEDULE)
    menu = [a.get_text() for a in page.select(".usermenu-panel a")]
    assert "Background work" in menu


# --- Redis -------------------------------------------------------------------------------------


# Not database 15: the two-host test empties that one.
REDIS_URL = "redis://127.0.0.1:6379/14"


def test_jobs_travel_through_redis_when_it_is_configured(database_url, caplog):
    """Redis runs on the development and CI machines: without it this test fails."""
    import logging

    caplog.set_level(logging.INFO, logger="portal.notifications")
    name = f"portal-test-{uuid.uuid4().hex[:8]}"
    app = create_app(make_test_config(database_url, REDIS_URL=REDIS_URL, JOBS_QUEUE_NAME=name))
    queue = jobs.check(app)
    assert (queue.backend, queue.location) == ("redis", REDIS_URL)
    try:
        with app.app_context():
            assert jobs.enqueue("purge_sessions")
        assert jobs.pending_count(app) == 1
        assert jobs.drain(app) == 1
        assert jobs.pending_count(app) == 0
    finally:
        queue.huey.flush()
        with app.app_context():
            db.engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "redis://127.0.0.1:1/0",
            "Error: Cannot reach Redis at redis://127.0.0.1:1/0: ",
        ),
        (
            "redis://:s3cret@127.0.0.1:1/0",
            "Error: Cannot reach Redis at redis://:***@127.0.0.1:1/0: ",
        ),
        (
            "http://127.0.0.1:6379/0",
            "Error: PORTAL_REDIS_URL http://127.0.0.1:6379/0 is not a Redis URL (",
        ),
    ],
)
def test_an_unusable_redis_url_gets_a_clear_message_not_a_traceback(database_url, url, message):
    app = create_app(make_test_config(database_url, REDIS_URL=url))
    runner = app.test_cli_runner()
    for command in (["worker"], ["jobs", "check"]):
        result = runner.invoke(args=command)
        assert result.exit_code == 1, result.output
        assert result.output.startswith(message), result.output
        assert "Traceback" not in result.output and "s3cret" not in result.output
    if url.startswith("redis"):
        assert "Start Redis there, correct PORTAL_REDIS_URL, or unset it" in result.output
    # The web keeps serving and says so; mail waits in the outbox.
    health = app.test_client().get("/healthz")
    assert (health.status_code, health.json["queue"], health.json["database"]) == (
        200,
        "unreachable",
        "ok",
    )
    with app.app_context():
        assert jobs.enqueue("deliver_outbox") is False
        db.engine.dispose()


def test_flask_jobs_run_runs_one_job_here(app, demo):
    result = app.test_cli_runner().invoke(args=["jobs", "run", "purge_sessions"])
    assert (result.exit_code, result.output) == (0, "purge_sessions: 0\n")
    result = app.test_cli_runner().invoke(args=["jobs", "run", "nothing"])
    assert result.exit_code == 1
    assert f"Jobs: {', '.join(sorted(set(SCHEDULE) | QUEUED_ONLY))}" in result.output


def test_flask_worker_runs_as_its_own_process_and_stops_on_ctrl_c(app, database_url, tmp_path):
    """The command deployments run: it beats, and SIGINT (Ctrl-C) ends it cleanly."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    env = dict(
        os.environ,
        PORTAL_DATABASE_URL=database_url,
        PORTAL_INSTANCE_PATH=str(tmp_path),
        PORTAL_SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
    )
    env.pop("PORTAL_REDIS_URL", None)
    flask = Path(sys.executable).parent / "flask"
    worker = subprocess.Popen(
        [str(flask), "--app", "wsgi", "worker"],
        cwd=Path(__file__).parent.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:

        def beating() -> bool:
            with app.app_context():
                return db.session.scalar(select(func.count()).select_from(WorkerHeartbeat)) == 1

        assert jobs.wait_for(beating, seconds=30), "no heartbeat from the worker"
        health = app.test_client().get("/healthz").json
        assert (health["worker"], health["worker_heartbeat_seconds"] < 10) == ("ok", True)
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output
    assert "Traceback" not in output, output
    assert f"on the sqlite queue at {tmp_path / 'jobs.sqlite3'}" in output
    with app.app_context():
        beat = db.session.scalar(select(WorkerHeartbeat))
        assert beat.stopped_at is not None and beat.name.endswith(f":{worker.pid}")
