"""SQLite: copies through SQLite's online backup API, which reads one consistent
snapshot while the portal keeps writing (WAL: readers never block writers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .manifest import BackupError


def snapshot(source: Path, target: Path) -> None:
    """Copy the live database at `source` into a new file `target`, in one step (one
    read transaction, so one point in time), as a self-contained file (no -wal)."""
    if not source.is_file():
        raise BackupError(f"The database file {source} does not exist.")
    reader = sqlite3.connect(source, timeout=30)
    writer = sqlite3.connect(target)
    try:
        # pages=-1 (the default): everything in one step; several steps would
        # restart whenever another connection wrote in between.
        reader.backup(writer)
        writer.execute("PRAGMA journal_mode=DELETE")
    finally:
        writer.close()
        reader.close()


def restore(copy: Path, target: Path) -> None:
    """Replace the (empty) database at `target` with the backup's copy, through the
    backup API, so SQLite itself handles the target's WAL and locks."""
    target.parent.mkdir(parents=True, exist_ok=True)
    reader = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    writer = sqlite3.connect(target, timeout=30)
    try:
        reader.backup(writer)
        # The portal opens its database in WAL mode; start the restored one so.
        writer.execute("PRAGMA journal_mode=WAL")
    except sqlite3.DatabaseError as error:
        raise BackupError(f"SQLite could not restore into {target}: {error}.") from None
    finally:
        writer.close()
        reader.close()


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
