"""`flask worker` and `flask jobs …`: the queue from the command line."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal import jobs


def register(app: Flask) -> None:
    """Add the worker and job commands to the app's CLI."""
    group = AppGroup("jobs", help="The job queue and its schedule.")
    app.cli.add_command(group)

    @app.cli.command("worker")
    @click.option("--threads", default=1, show_default=True, help="Jobs run at the same time.")
    @click.option(
        "--no-schedule",
        is_flag=True,
        help="Leave periodic jobs to another worker (run the schedule in one worker only).",
    )
    def worker(threads: int, no_schedule: bool) -> None:
        """Run a worker: queued jobs, the schedule and a heartbeat, until Ctrl-C."""
        import logging

        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
            )
        try:
            # The app itself, not the context-bound proxy: the heartbeat thread uses it.
            app = current_app._get_current_object()  # type: ignore[attr-defined]
            queue = jobs.check(app)
            # Said on the command's output, whatever PORTAL_LOG_LEVEL keeps from the log:
            # whoever starts a worker needs to see which queue it serves.
            click.echo(
                f"Worker {jobs.worker_name()} on the {queue.backend} queue at {queue.location}"
                f"{'' if no_schedule else ', running the schedule'}; Ctrl-C stops it."
            )
            jobs.run_worker(app, threads=max(1, threads), periodic=not no_schedule)
        except jobs.QueueUnavailable as error:
            raise click.ClickException(str(error)) from None

    @group.command("check")
    def check() -> None:
        """Say which queue is configured and whether it answers (exit 1 if not)."""
        try:
            queue = jobs.check(current_app)
        except jobs.QueueUnavailable as error:
            raise click.ClickException(str(error)) from None
        click.echo(
            f"{queue.backend} queue at {queue.location}: {queue.huey.pending_count()} waiting."
        )

    @group.command("run")
    @click.argument("name")
    def run(name: str) -> None:
        """Run one job now, in this process (e.g. `flask jobs run sweep_attachments`)."""
        queue = jobs.queue_of(current_app)
        if name not in queue.jobs:
            raise click.ClickException("Jobs: " + ", ".join(sorted(queue.jobs)))
        result = jobs.run_now(current_app, name)
        click.echo(f"{name}: {result}")
