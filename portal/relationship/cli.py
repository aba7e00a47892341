"""`flask relationship refresh | backfill | escalate`: the scheduled work, by hand."""

from __future__ import annotations

from datetime import date

import click
from flask import Flask
from flask.cli import AppGroup


def register(app: Flask) -> None:
    """Add the `flask relationship` commands to the app."""
    group = AppGroup("relationship", help="Relationship health.")
    app.cli.add_command(group)

    @group.command("refresh")
    @click.option("--as-of", help="Rebuild this past day (YYYY-MM-DD) instead of today.")
    def refresh(as_of: str | None) -> None:
        """Write every account's snapshot for today (alerting on red) or a past day."""
        from .snapshots import refresh as run

        day = None
        if as_of:
            try:
                day = date.fromisoformat(as_of)
            except ValueError:
                raise click.BadParameter(
                    "write the day as YYYY-MM-DD", param_hint="--as-of"
                ) from None
        written = run(day)
        click.echo(f"{written} account snapshot{'s' if written != 1 else ''} written.")

    @group.command("backfill")
    @click.option("--days", default=365, show_default=True, type=click.IntRange(1, 730))
    @click.option("--step", default=1, show_default=True, type=click.IntRange(1, 31))
    def backfill(days: int, step: int) -> None:
        """Rebuild the snapshots of the last DAYS days from the events (every STEP-th day)."""
        from .snapshots import backfill as run

        click.echo(f"{run(days, step=step)} days written.")

    @group.command("escalate")
    def escalate() -> None:
        """Send the admins red alerts not acknowledged within two working days."""
        from portal.extensions import utcnow

        from .alerts import escalate as run

        click.echo(f"{run(utcnow())} alert(s) sent to the vendor admins.")
