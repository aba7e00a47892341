"""Backups that restore: `flask backup DIR` and `flask restore DIR` (see service.py)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext


@click.command("backup")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(directory: Path) -> None:
    """Write a consistent backup (database, attachments, manifest) into DIRECTORY, which
    must be new or empty. Safe while the portal serves."""
    from .manifest import BackupError
    from .service import create_backup

    def warn(message: str) -> None:
        click.echo(f"Warning: {message}", err=True)

    try:
        manifest = create_backup(directory, warn=warn)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    rows = sum(manifest.tables.values())
    attachments = len(manifest.files) - 1
    click.echo(
        f"Backup written to {directory}: {manifest.engine} database at revision "
        f"{manifest.alembic_revision}, {len(manifest.tables)} tables, {rows} rows, "
        f"{attachments} attachment file{'s' if attachments != 1 else ''}."
    )
    if manifest.problems:
        # Written, but a timer (and the person reading its log) must notice.
        click.echo(
            f"{len(manifest.problems)} attachment file(s) could not be copied as recorded; "
            "see the warnings above and `problems` in manifest.json.",
            err=True,
        )
        raise SystemExit(1)


@click.command("restore")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def restore_command(directory: Path) -> None:
    """Restore the backup in DIRECTORY into this instance, whose database and attachment
    directory must be empty. Every file's checksum and every table's count are checked."""
    from .manifest import BackupError
    from .service import restore_backup

    try:
        restored = restore_backup(directory)
    except BackupError as error:
        raise click.ClickException(error.message) from None
    manifest = restored.manifest
    click.echo(
        f"Restored the backup of {manifest.created_at}: {len(manifest.tables)} tables, "
        f"{sum(manifest.tables.values())} rows, {len(manifest.files) - 1} attachment files; "
        "every count and checksum matches."
    )
    if restored.code_head and restored.code_head != manifest.alembic_revision:
        click.echo(
            f"The backup is at revision {manifest.alembic_revision}, this code at "
            f"{restored.code_head}: run `flask db upgrade` next."
        )


def register_commands(app: Flask) -> None:
    """`flask backup` and `flask restore`."""
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
