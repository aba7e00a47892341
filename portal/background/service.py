"""What the "Background work" page and /healthz report, and an admin's retry."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal import jobs
from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow

from .models import JobFailure, ScheduledRun, WorkerHeartbeat

if TYPE_CHECKING:
    from portal.accounts.models import User
    from portal.notifications.models import OutboxMessage


@dataclass(frozen=True)
class WorkerRow:
    heartbeat: WorkerHeartbeat
    seconds_ago: int

    @property
    def state(self) -> str:
        if self.heartbeat.stopped_at is not None:
            return "stopped"
        return "stale" if self.seconds_ago > jobs.HEARTBEAT_STALE_SECONDS else "running"


@dataclass(frozen=True)
class ScheduleRow:
    job: jobs.Job
    last: ScheduledRun | None
    next_run: datetime


@dataclass(frozen=True)
class Overview:
    backend: str
    location: str
    # Why the queue does not answer, or None.
    queue_error: str | None
    pending: int | None
    scheduled: int | None
    workers: list[WorkerRow]
    failures: list[JobFailure]
    schedule: list[ScheduleRow]
    failed_mail: list[OutboxMessage]
    mail_counts: dict[str, int]


def overview(app: Flask, now: datetime | None = None) -> Overview:
    """Everything the page shows, read in one go."""
    from portal.notifications import outbox

    now = now or utcnow()
    queue = jobs.queue_of(app)
    pending = scheduled = None
    error = None
    try:
        huey = jobs.check(app).huey
        pending, scheduled = huey.pending_count(), huey.scheduled_count()
    except jobs.QueueUnavailable as unavailable:
        error = str(unavailable)
    heartbeats = db.session.scalars(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.beat_at.desc()).limit(50)
    )
    runs = {run.task_name: run for run in db.session.scalars(select(ScheduledRun))}
    return Overview(
        backend=queue.backend,
        location=queue.location,
        queue_error=error,
        pending=pending,
        scheduled=scheduled,
        workers=[WorkerRow(h, int((now - h.beat_at).total_seconds())) for h in heartbeats],
        failures=list(
            db.session.scalars(
                select(JobFailure)
                .where(JobFailure.retried_at.is_(None))
                .order_by(JobFailure.failed_at.desc(), JobFailure.id.desc())
                .limit(100)
            )
        ),
        schedule=[
            ScheduleRow(job, runs.get(job.name), job.schedule.next_after(now))
            for job in queue.jobs.values()
            if job.schedule is not None
        ],
        failed_mail=outbox.failed_messages(),
        mail_counts=outbox.counts(),
    )


def heartbeat_age(now: datetime | None = None) -> int | None:
    """Seconds since the freshest heartbeat of a running worker; None without one."""
    latest = db.session.scalar(
        select(func.max(WorkerHeartbeat.beat_at)).where(WorkerHeartbeat.stopped_at.is_(None))
    )
    if latest is None:
        return None
    return max(0, int(((now or utcnow()) - latest).total_seconds()))


def retry(actor: User, failure_id: int) -> JobFailure:
    """Queue a failed job again with its arguments; only vendor admins may."""
    from portal.accounts.roles import Role
    from portal.audit import service as audit

    if not actor.has_role(Role.ADMIN):
        raise DomainError(_("Only vendor admins may retry jobs."))
    failure = db.session.get(JobFailure, failure_id)
    if failure is None:
        raise NotFound(_("No such failed job."))
    if failure.task_name not in jobs.queue_of().jobs:
        raise DomainError(_("The job %(name)s no longer exists.", name=failure.task_name))
    changed = db.session.execute(
        update(JobFailure)
        .where(JobFailure.id == failure_id, JobFailure.retried_at.is_(None))
        .values(retried_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise DomainError(_("That job was retried already."))
    audit.record("job_retried", actor=actor, target=f"{failure.task_name} ({failure.id})")
    db.session.commit()
    if not jobs.enqueue(failure.task_name, *json.loads(failure.arguments or "[]")):
        # Not queued after all: the failure stays on the page.
        db.session.execute(
            update(JobFailure).where(JobFailure.id == failure_id).values(retried_at=None)
        )
        db.session.commit()
        raise DomainError(_("The job queue does not answer; the job was not queued."))
    db.session.refresh(failure)
    return failure
