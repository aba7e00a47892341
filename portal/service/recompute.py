"""Rewriting the kept promise outcomes of service requests after the calendar, the
holidays or the targets changed, as a job rather than inside the admin's save.

At 100,000 requests the rewrite takes 10-18 s: done inline it hung the settings
page and held one transaction over every final request. Now the save commits the
change and queues one job; the job rewrites in batches, a commit per batch, by the
same `promises.record_outcomes` (so the same `evaluate`) as before. Open requests'
kept answers are rewritten too (as of the job's start), so the measures need not run
their clocks until the next `keep_service_clocks`; meanwhile the fingerprint keeps
every stale answer unread.

Whether a rewrite is waiting, running or done is kept in the `scheduled_run` row of
the job (the table of "the last run of a job", which the background page reads for
its schedule; this job has no schedule, so it is only read here). Its outcome is
"queued" from the save until the job starts: a second save while it waits queues
nothing more, since the waiting job reads the calendar only when it starts. A save
while it runs queues one more, since the running job may have read the old calendar.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from portal import jobs
from portal.background.models import ScheduledRun
from portal.extensions import db, utcnow

from . import promises
from .models import ServiceRequest

JOB = "recompute_service_outcomes"
# A job waits seconds for a worker. One "queued" for longer was lost (the queue
# emptied, Redis restarted): the next save queues it again rather than trust it.
LOST_AFTER = timedelta(minutes=30)


def mark_pending(now: datetime | None = None) -> bool:
    """In the transaction of the change: note that a rewrite is due. True when a job
    must be queued after the commit, False when one is waiting already."""
    now = now or utcnow()
    # Locked and read afresh: a job starting now waits for this commit, or this save
    # sees that it started (and queues another).
    row = db.session.get(ScheduledRun, JOB, with_for_update=True, populate_existing=True)
    if row is None:
        db.session.add(ScheduledRun(task_name=JOB, started_at=now, outcome="queued"))
        return True
    if row.outcome == "queued" and now - _aware(row.started_at) < LOST_AFTER:
        return False
    row.outcome, row.started_at, row.error = "queued", now, None
    return True


def _aware(at: datetime) -> datetime:
    # SQLite gives back what it was given; be sure of UTC before subtracting.
    return at if at.tzinfo else at.replace(tzinfo=utcnow().tzinfo)


def enqueue_after_commit(needed: bool) -> None:
    """After the commit: queue the job when `mark_pending` said so. A queue that is
    down leaves the row "failed", so the page says so and the next save queues again."""
    if needed and not jobs.enqueue(JOB):
        db.session.execute(
            update(ScheduledRun)
            .where(ScheduledRun.task_name == JOB)
            .values(outcome="failed", error="The job queue could not be reached.")
        )
        db.session.commit()


def status() -> ScheduledRun | None:
    """The rewrite's row: outcome "queued", "running", "ok" or "failed", and when the
    last one finished (None: never since the portal started keeping it)."""
    return db.session.get(ScheduledRun, JOB)


def run(batch: int = promises.OUTCOME_BATCH) -> int:
    """The job: rewrite the kept outcome of every request, a batch of ids at a time with
    a commit after each; returns how many final ones were written."""
    _start()
    written, last = 0, 0
    now = utcnow()
    try:
        while True:
            ids = list(
                db.session.scalars(
                    select(ServiceRequest.id)
                    .where(ServiceRequest.id > last)
                    .order_by(ServiceRequest.id)
                    .limit(batch)
                )
            )
            if not ids:
                break
            written += promises.record_outcomes(ids, now=now)
            db.session.commit()
            last = ids[-1]
    except Exception as error:
        db.session.rollback()
        _set(outcome="failed", error=f"{type(error).__name__}: {error}"[:4000])
        raise
    _finish()
    return written


def _start() -> None:
    """Committed before the calendar is read: a save from now on queues another run."""
    _set(outcome="running", started_at=utcnow(), error=None)


def _finish() -> None:
    """The run is done; a save during it made the row "queued" again, and that next
    job must still show as waiting."""
    db.session.execute(
        update(ScheduledRun).where(ScheduledRun.task_name == JOB).values(finished_at=utcnow())
    )
    db.session.execute(
        update(ScheduledRun)
        .where(ScheduledRun.task_name == JOB, ScheduledRun.outcome == "running")
        .values(outcome="ok")
    )
    db.session.commit()


def _set(**values) -> None:
    changed = db.session.execute(
        update(ScheduledRun).where(ScheduledRun.task_name == JOB).values(**values)
    ).rowcount
    if not changed:
        db.session.add(
            ScheduledRun(task_name=JOB, **{"started_at": utcnow(), "outcome": "running", **values})
        )
    db.session.commit()
