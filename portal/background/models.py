"""What the worker records for people to see: heartbeats, failed jobs, scheduled runs.

Kept in the database rather than in the queue's storage, so the page and
/healthz read them the same way whether the queue is SQLite or Redis.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import UTCDateTime, db, utcnow


class WorkerHeartbeat(db.Model):
    """One worker process: it writes `beat_at` every few seconds while it runs."""

    __tablename__ = "worker_heartbeat"

    # "<host>:<pid>", unique per running process.
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "sqlite" or "redis": which queue it consumes.
    queue: Mapped[str] = mapped_column(String(20))


class JobFailure(db.Model):
    """A job that raised after its last retry, kept until an admin retries it."""

    __tablename__ = "job_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_name: Mapped[str] = mapped_column(String(100))
    task_id: Mapped[str] = mapped_column(String(64))
    # The job's arguments as JSON (tasks take JSON-able arguments only).
    arguments: Mapped[str] = mapped_column(Text, default="[]")
    error: Mapped[str] = mapped_column(Text)
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retried_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScheduledRun(db.Model):
    """The last run of one periodic job, for the schedule on the page."""

    __tablename__ = "scheduled_run"

    task_name: Mapped[str] = mapped_column(String(100), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "running", "ok" or "failed"
    outcome: Mapped[str] = mapped_column(String(10), default="running")
    error: Mapped[str | None] = mapped_column(Text)
