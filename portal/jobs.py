"""The job queue and the one schedule of periodic jobs.

huey runs the queue: on a SQLite file in instance/ by default (one host, no
server), on Redis when `PORTAL_REDIS_URL` is set (several hosts share it).
Every app gets its own huey instance (`app.extensions["portal.jobs"]`), with
the jobs below registered on it; a job runs inside that app's context.

Work that must not hold a request or must survive a failure runs here. The
e-mail itself is not a queued job: it is a row in the outbox, written in the
transaction of the change (portal.notifications.outbox). The queue only
carries the nudge "deliver the outbox now" after a commit, and the schedule
delivers what is due every minute anyway, so a lost nudge (Redis restarted, a
queue file deleted) delays mail by a minute and loses none.

`flask worker` runs a consumer: huey's Consumer in this process (worker
threads plus its scheduler) and a heartbeat written to the database every
few seconds, which /healthz and the "Background work" page read.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app, has_app_context
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from huey import MemoryHuey, RedisHuey, SqliteHuey, crontab
from huey.consumer import Consumer
from redis import ConnectionPool
from sqlalchemy import delete, update

from portal import days
from portal.extensions import db, utcnow

log = logging.getLogger("portal.jobs")

EXTENSION = "portal.jobs"
HEARTBEAT_SECONDS = 5
# A heartbeat older than this means the worker is gone (or stuck).
HEARTBEAT_STALE_SECONDS = 60
REDIS_CONNECT_TIMEOUT_SECONDS = 2


class QueueUnavailable(RuntimeError):
    """The configured queue cannot be used; the message says what to do."""


# --- the schedule -------------------------------------------------------------------------


@dataclass(frozen=True)
class Every:
    """Runs at the given minutes past each hour (every minute when `minute` is "*",
    every N minutes from the full hour when it is "*/N"), at every hour or at one
    hour of the day (UTC)."""

    minute: str = "*"
    hour: str = "*"

    def crontab(self):
        return crontab(minute=self.minute, hour=self.hour)

    def next_after(self, moment: datetime) -> datetime:
        """The first run strictly after `moment` (UTC, whole minutes)."""
        start = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
        minutes = range(0, 60, self.step) if self.step else [int(self.minute)]
        hours = range(24) if self.hour == "*" else [int(self.hour)]
        for day in range(2):
            base = start.replace(hour=0, minute=0) + timedelta(days=day)
            for hour in hours:
                for minute in minutes:
                    candidate = base.replace(hour=hour, minute=minute)
                    if candidate >= start:
                        return candidate
        raise AssertionError("a daily schedule always runs within two days")

    @property
    def step(self) -> int | None:
        """Minutes between runs for "*" (1) and "*/N" (N); None for a fixed minute."""
        if self.minute == "*":
            return 1
        if self.minute.startswith("*/"):
            return int(self.minute[2:])
        return None

    @property
    def label(self) -> str:
        # The times are UTC whatever the reader's zone: the schedule runs on the server's clock.
        if self.minute == "*":
            return gettext("every minute")
        if self.step:
            return gettext("every %(num)s minutes", num=self.step)
        if self.hour == "*":
            return gettext("hourly at :%(minute)s", minute=f"{int(self.minute):02d}")
        return gettext("daily at %(time)s UTC", time=f"{int(self.hour):02d}:{int(self.minute):02d}")


@dataclass(frozen=True)
class Job:
    name: str
    description: str  # a lazy translation: shown in the reader's language
    run: Callable[[], object]
    # None: only when enqueued (after a commit, or by an admin's retry).
    schedule: Every | None = None
    retries: int = 2
    retry_delay: int = 30


def _deliver_outbox():
    from portal.notifications import outbox

    return outbox.deliver_due()


def _send_digests():
    from portal.notifications import outbox

    return outbox.send_digests()


def _sweep_attachments():
    from portal.attachments import service

    return service.discard_unlinked(utcnow() - timedelta(hours=24))


def _purge_api_idempotency_keys():
    """The REST API's Idempotency-Keys older than a week (portal.api.idempotency)."""
    from portal.api import idempotency

    return idempotency.purge(utcnow())


def _deliver_cxml():
    """cXML confirmations and ship notices that are due (portal.cxml.outbound)."""
    from portal.cxml import outbound

    return outbound.deliver_due()


def _purge_cxml_answers():
    """Stored answers of inbound cXML documents after 90 days (portal.cxml.inbound), and
    the carts of PunchOut sessions nobody can return any more (portal.cxml.punchout)."""
    from portal.cxml import inbound, punchout

    now = utcnow()
    return inbound.purge(now) + punchout.purge_abandoned_carts(now)


def _purge_sessions():
    """Sign-in sessions that expired or were ended more than a day ago."""
    from portal.accounts.models import AuthSession

    cutoff = utcnow() - timedelta(days=1)
    removed = db.session.execute(
        delete(AuthSession).where(
            (AuthSession.expires_at < cutoff) | (AuthSession.revoked_at < cutoff)
        )
    ).rowcount
    db.session.commit()
    return removed


def _purge_login_failures():
    """Failed sign-ins older than a day: throttling looks back minutes, not days
    (the audit trail keeps its own record of each failure)."""
    from portal.accounts.models import LoginFailure

    window = timedelta(minutes=int(current_app.config["LOGIN_WINDOW_MINUTES"]))
    cutoff = utcnow() - max(window, timedelta(days=1))
    removed = db.session.execute(
        delete(LoginFailure).where(LoginFailure.failed_at < cutoff)
    ).rowcount
    db.session.commit()
    return removed


def _close_resolved_service_requests():
    """Resolved requests the customer left unanswered for the configured working days."""
    from portal.service import workflow

    return workflow.close_resolved_requests(utcnow())


def _remind_due_reviews():
    """Tells account managers once about each relationship review that fell due."""
    from portal.reviews import reviews

    return reviews.remind_due_reviews(days.vendor_today())  # the vendor's schedule


def _send_service_promise_alerts():
    """Warn owners at 75 % of a promised time; tell owners and account managers of a breach."""
    from portal.service import alerts

    return alerts.send_promise_alerts(utcnow())


def _keep_service_clocks():
    """The promise clock's answer of open service requests that changed or fell due."""
    from portal.service import promises

    return promises.keep_open_clocks(utcnow())


def _recompute_service_outcomes():
    """The kept promise outcomes of service requests, after the calendar changed."""
    from portal.service import recompute

    return recompute.run()


def _refresh_relationships():
    """Today's relationship snapshot of every account; red episodes alert their managers."""
    from portal.relationship import snapshots

    return snapshots.refresh()


def _escalate_relationship_alerts():
    """Red alerts nobody acknowledged within two working days go to the vendor admins."""
    from portal.relationship import alerts

    return alerts.escalate(utcnow())


def _purge_worker_records():
    """Heartbeats of workers gone for a week, failures retried a month ago."""
    from portal.background.models import JobFailure, WorkerHeartbeat

    now = utcnow()
    removed = db.session.execute(
        delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - timedelta(days=7))
    ).rowcount
    removed += db.session.execute(
        delete(JobFailure).where(JobFailure.retried_at < now - timedelta(days=30))
    ).rowcount
    db.session.commit()
    return removed


# Every job the portal runs, and the one schedule of periodic work. Idempotency keys
# of orders placed on the pages are kept with their order (a unique column), so
# nothing here removes them; the REST API's table of request keys is purged daily.
# The next areas add their checks (SLA clocks, relationship snapshots) to this list.
def jobs_of(config) -> list[Job]:
    digest_hour = int(config.get("DIGEST_HOUR_UTC", 6)) % 24
    return [
        Job(
            "deliver_outbox",
            _l("Sends the e-mail in the outbox that is due (also nudged after each commit)."),
            _deliver_outbox,
            Every(),
            retries=0,
        ),
        Job(
            "send_digests",
            _l(
                "Writes each user's daily digest e-mail of the notifications they chose to "
                "get that way."
            ),
            _send_digests,
            Every("0", str(digest_hour)),
        ),
        Job(
            "sweep_attachments",
            _l("Removes uploads never linked to anything after a day, and stray files."),
            _sweep_attachments,
            Every("15", "3"),
        ),
        Job(
            "purge_sessions",
            _l("Removes sign-in sessions that expired or ended more than a day ago."),
            _purge_sessions,
            Every("25", "3"),
        ),
        Job(
            "purge_login_failures",
            _l("Removes failed sign-ins older than a day (throttling counts minutes)."),
            _purge_login_failures,
            Every("35"),
        ),
        Job(
            "close_resolved_requests",
            _l(
                "Closes resolved service requests the customer neither confirmed nor reopened "
                "within the working days the portal allows."
            ),
            _close_resolved_service_requests,
            Every("5"),
        ),
        Job(
            "service_promise_alerts",
            _l(
                "Warns the owner of a service request when three quarters of a promised time has "
                "passed and tells the owner and the account manager of a breach, once each."
            ),
            _send_service_promise_alerts,
            Every("*/5"),
        ),
        Job(
            "keep_service_clocks",
            _l(
                "Keeps the promise clock's answer of open service requests that changed or "
                "fell due since, so the service measures need not run every clock."
            ),
            _keep_service_clocks,
            Every("*/5"),
        ),
        Job(
            "recompute_service_outcomes",
            _l(
                "Rewrites the kept promise outcomes of service requests after the working "
                "hours, holidays or promised times changed (queued by the save)."
            ),
            _recompute_service_outcomes,
        ),
        Job(
            "purge_worker_records",
            _l("Removes heartbeats of workers gone for a week and failures retried a month ago."),
            _purge_worker_records,
            Every("45", "3"),
        ),
        Job(
            "deliver_cxml",
            _l(
                "Posts the cXML confirmations and ship notices that are due (also nudged after "
                "each commit that writes one)."
            ),
            _deliver_cxml,
            Every(),
            retries=0,
        ),
        Job(
            "purge_cxml_answers",
            _l(
                "Removes the stored answers of inbound cXML documents after 90 days, and the "
                "carts of PunchOut sessions that were never returned."
            ),
            _purge_cxml_answers,
            Every("50", "3"),
        ),
        Job(
            "refresh_relationships",
            _l(
                "Writes today's relationship-health snapshot of every account (one per account "
                "and day) and alerts account managers when something turned red."
            ),
            _refresh_relationships,
            Every("10", "4"),
        ),
        Job(
            "escalate_relationship_alerts",
            _l(
                "Sends the vendor admins red relationship alerts that the account manager has "
                "not acknowledged within two working days."
            ),
            _escalate_relationship_alerts,
            Every("20"),
        ),
        Job(
            "purge_api_idempotency_keys",
            _l("Removes the API's Idempotency-Keys and their stored answers after a week."),
            _purge_api_idempotency_keys,
            Every("55", "3"),
        ),
        Job(
            "remind_due_reviews",
            _l(
                "Tells each account manager once when an account's quarterly relationship "
                "review falls due."
            ),
            _remind_due_reviews,
            Every("10", "6"),
        ),
    ]


# --- the queue ---------------------------------------------------------------------------


@dataclass
class Queue:
    """One app's huey instance, its jobs, and whether it can be used."""

    app: Flask
    huey: object
    backend: str  # "sqlite", "redis" or "memory"
    location: str
    jobs: dict[str, Job] = field(default_factory=dict)
    tasks: dict[str, object] = field(default_factory=dict)
    # Why the queue cannot be used (a bad or unreachable Redis URL), else None.
    error: str | None = None


def init_app(app: Flask) -> Queue:
    """Create the app's queue and register every job on it."""
    queue = _make_queue(app)
    for job in jobs_of(app.config):
        queue.jobs[job.name] = job
        if queue.huey is None:
            continue
        queue.tasks[job.name] = queue.huey.task(
            retries=job.retries, retry_delay=job.retry_delay, name=job.name, context=True
        )(_runner(app, job))
        if job.schedule is not None:
            queue.huey.periodic_task(
                job.schedule.crontab(), name=f"{job.name}@schedule", context=True
            )(_runner(app, job, scheduled=True))
    app.extensions[EXTENSION] = queue
    if queue.backend == "redis" and not app.config.get("TESTING"):
        # Said once at start-up, plainly: the web keeps serving (mail waits in the
        # outbox), but nothing runs until Redis answers; `flask worker` refuses to start.
        try:
            check(app)
        except QueueUnavailable as error:
            log.error("%s", error)
    return queue


def _make_queue(app: Flask) -> Queue:
    redis_url = app.config.get("REDIS_URL") or None
    backend = app.config.get("JOBS_BACKEND") or (
        "redis" if redis_url else "memory" if app.config.get("TESTING") else "sqlite"
    )
    name = app.config.get("JOBS_QUEUE_NAME") or "portal"
    # Tasks and their arguments are small; results are not kept (a job that fails
    # is recorded in the database by the runner instead).
    options = {"results": False, "utc": True}
    if backend == "memory":
        return Queue(app, MemoryHuey(name, **options), "memory", "this process")
    if backend == "sqlite":
        path = app.config.get("JOBS_SQLITE_PATH") or str(Path(app.instance_path) / "jobs.sqlite3")
        return Queue(app, SqliteHuey(name, filename=path, **options), "sqlite", path)
    if backend != "redis" or not redis_url:
        raise QueueUnavailable(
            f"JOBS_BACKEND is {backend!r}: use 'sqlite', or set PORTAL_REDIS_URL for Redis."
        )
    shown = _redacted(redis_url)
    try:
        # A pool of our own: huey takes a URL or connection options, not both, and a
        # Redis that is down must fail fast (2 s), not hang a start-up or a request.
        pool = ConnectionPool.from_url(
            redis_url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT_SECONDS, socket_timeout=10
        )
        huey = RedisHuey(name, connection_pool=pool, **options)
    except (ValueError, TypeError) as error:
        return Queue(
            app,
            None,
            "redis",
            shown,
            error=f"PORTAL_REDIS_URL {shown} is not a Redis URL ({error}). "
            "It looks like redis://host:6379/0.",
        )
    return Queue(app, huey, "redis", shown)


def _redacted(url: str) -> str:
    """The URL without its password, for messages and the page."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def queue_of(app: Flask | None = None) -> Queue:
    """The app's queue (the current app's by default)."""
    return (app or current_app).extensions[EXTENSION]


def check(app: Flask | None = None) -> Queue:
    """The queue, after making sure it answers; QueueUnavailable with a message that
    says what to do otherwise."""
    queue = queue_of(app)
    if queue.error:
        raise QueueUnavailable(queue.error)
    try:
        queue.huey.pending_count()
    except Exception as error:  # noqa: BLE001 - redis raises its own family, sqlite its own
        raise QueueUnavailable(_unreachable(queue, error)) from None
    return queue


def _unreachable(queue: Queue, error: Exception) -> str:
    reason = str(error).strip() or type(error).__name__
    if queue.backend == "redis":
        return (
            f"Cannot reach Redis at {queue.location}: {reason}. Start Redis there, correct "
            "PORTAL_REDIS_URL, or unset it to use the embedded queue (one host only)."
        )
    return f"Cannot use the job queue at {queue.location}: {reason}."


def enqueue(name: str, *args) -> bool:
    """Put a job on the queue; False (and a log line) when the queue is unavailable.

    Never raises: callers run after a commit, and whatever they nudge is also on
    the schedule, so the work is delayed, not lost.
    """
    queue = queue_of()
    if queue.error:
        log.error("job %s not queued: %s", name, queue.error)
        return False
    try:
        queue.tasks[name](*args)
    except Exception as error:  # noqa: BLE001 - see the docstring
        log.error("job %s not queued: %s", name, _unreachable(queue, error))
        return False
    return True


def pending_count(app: Flask | None = None) -> int:
    """Jobs waiting in the queue (not counting those scheduled for later)."""
    return check(app).huey.pending_count()


def _runner(app: Flask, job: Job, *, scheduled: bool = False):
    """The function huey calls: the job inside the app's context, its failure and (for
    the schedule) its run recorded for the page."""

    def run(*args, task=None):
        context = None if has_app_context() else app.app_context()
        if context is not None:
            context.push()
        try:
            if scheduled:
                _record_run(job.name, "running")
            try:
                result = job.run(*args)
            except Exception as error:
                db.session.rollback()
                final = task is None or not task.retries
                if final:
                    _record_failure(job.name, task, args, error)
                if scheduled:
                    _record_run(job.name, "failed", error)
                raise
            if scheduled:
                _record_run(job.name, "ok")
            return result
        finally:
            if context is not None:
                db.session.remove()
                context.pop()

    run.__name__ = job.name
    run.__doc__ = str(job.description)
    return run


def _record_run(name: str, outcome: str, error: Exception | None = None) -> None:
    from portal.background.models import ScheduledRun

    now = utcnow()
    values = {"outcome": outcome, "error": _describe(error) if error else None}
    if outcome == "running":
        values.update(started_at=now, finished_at=None)
    else:
        values["finished_at"] = now
    try:
        changed = db.session.execute(
            update(ScheduledRun).where(ScheduledRun.task_name == name).values(**values)
        ).rowcount
        if not changed:
            db.session.add(ScheduledRun(task_name=name, **{"started_at": now, **values}))
        db.session.commit()
    except Exception:  # noqa: BLE001 - the record is for people; the job matters more
        db.session.rollback()
        log.exception("could not record the run of %s", name)


def _record_failure(name: str, task, args: tuple, error: Exception) -> None:
    from portal.background.models import JobFailure

    try:
        db.session.add(
            JobFailure(
                task_name=name,
                task_id=getattr(task, "id", "") or "",
                arguments=json.dumps(list(args)),
                error=_describe(error),
            )
        )
        db.session.commit()
    except Exception:  # noqa: BLE001 - as above
        db.session.rollback()
        log.exception("could not record the failure of %s", name)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"[:4000]


# --- the worker --------------------------------------------------------------------------


def worker_name() -> str:
    """This process's name on the page and in claims: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class _Consumer(Consumer):
    """huey's consumer; it sets signal handlers only where Python allows it (the main
    thread), so a test can run the same consumer in a thread."""

    def _set_signal_handlers(self):
        if threading.current_thread() is threading.main_thread():
            super()._set_signal_handlers()


class Heartbeat(threading.Thread):
    """Writes this worker's row every few seconds until stopped."""

    def __init__(self, app: Flask, name: str, backend: str, seconds: float):
        super().__init__(name="portal-heartbeat", daemon=True)
        self.app, self.worker, self.backend, self.seconds = app, name, backend, seconds
        self.stopping = threading.Event()

    def beat(self, *, stopped: bool = False) -> None:
        from portal.background.models import WorkerHeartbeat

        now = utcnow()
        with self.app.app_context():
            try:
                # The UPDATE comes first: on SQLite it takes the write lock at once.
                values = {"beat_at": now, "stopped_at": now if stopped else None}
                changed = db.session.execute(
                    update(WorkerHeartbeat)
                    .where(WorkerHeartbeat.name == self.worker)
                    .values(**values)
                ).rowcount
                if not changed:
                    db.session.add(
                        WorkerHeartbeat(
                            name=self.worker,
                            started_at=now,
                            queue=self.backend,
                            **values,
                        )
                    )
                db.session.commit()
            except Exception:  # noqa: BLE001 - the database may be down; beat again later
                db.session.rollback()
                log.exception("heartbeat not written")
            finally:
                db.session.remove()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.beat()
            self.stopping.wait(self.seconds)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=10)
        self.beat(stopped=True)


@dataclass
class Worker:
    """A running consumer and its heartbeat (see `start_worker`)."""

    consumer: _Consumer
    heartbeat: Heartbeat

    def stop(self) -> None:
        """Finish the job in hand, then stop."""
        self.consumer.stop(graceful=True)
        self.heartbeat.stop()


def _consumer(app: Flask, threads: int, periodic: bool) -> tuple[Queue, _Consumer]:
    queue = check(app)
    if queue.backend == "memory" and not app.config.get("TESTING"):
        raise QueueUnavailable("The in-memory queue is for tests; a worker needs SQLite or Redis.")
    consumer = _Consumer(
        queue.huey,
        workers=threads,
        worker_type="thread",
        periodic=periodic,
        # An idle SQLite queue is polled at most a second apart (Redis blocks instead).
        initial_delay=0.05,
        max_delay=1.0,
        backoff=1.5,
        check_worker_health=True,
    )
    return queue, consumer


def start_worker(
    app: Flask, *, threads: int = 1, periodic: bool = True, heartbeat_seconds: float = 1
) -> Worker:
    """Start a consumer and its heartbeat in background threads of this process and
    return at once (tests; `run_worker` is the command's blocking form)."""
    queue, consumer = _consumer(app, threads, periodic)
    heartbeat = Heartbeat(app, worker_name(), queue.backend, heartbeat_seconds)
    heartbeat.start()
    consumer.start()
    return Worker(consumer, heartbeat)


def run_worker(app: Flask, *, threads: int = 1, periodic: bool = True) -> None:
    """Run the consumer until SIGINT or SIGTERM (Ctrl-C finishes the job in hand)."""
    queue, consumer = _consumer(app, threads, periodic)
    heartbeat = Heartbeat(app, worker_name(), queue.backend, HEARTBEAT_SECONDS)
    heartbeat.start()
    log.info("worker %s on the %s queue at %s", heartbeat.worker, queue.backend, queue.location)
    try:
        consumer.run()
    finally:
        heartbeat.stop()


def drain(app: Flask, *, limit: int = 1000) -> int:
    """Run every job waiting in the queue, here and now; returns how many ran.

    For tests and one-off commands: the same jobs a worker would run, without one.
    """
    huey = check(app).huey
    ran = 0
    while ran < limit:
        task = huey.dequeue()
        if task is None:
            break
        huey.execute(task)
        ran += 1
    return ran


def run_now(app: Flask, name: str):
    """Run one job directly (a command, or a test); its failure is raised."""
    job = queue_of(app).jobs[name]
    with app.app_context():
        return job.run()


def wait_for(predicate: Callable[[], bool], seconds: float = 10) -> bool:
    """Poll `predicate` until it holds or the time is up (tests, scripts)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()
