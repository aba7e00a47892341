"""`flask service close-resolved`: the scheduled closing of resolved requests, by hand.

The job runner calls `workflow.close_resolved_requests(now)` on its schedule; this
command does the same once, for an operator or a cron line until then."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    """Add the `flask service` commands to the app."""
    group = AppGroup("service", help="Service requests.")
    app.cli.add_command(group)

    @group.command("close-resolved")
    def close_resolved() -> None:
        """Close resolved requests whose customer neither confirmed nor reopened them in time."""
        from portal.extensions import utcnow

        from .workflow import close_resolved_requests

        closed = close_resolved_requests(utcnow())
        click.echo(f"{closed} resolved request{'s' if closed != 1 else ''} closed.")
