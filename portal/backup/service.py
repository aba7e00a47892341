"""Backups that restore: a consistent copy of the database and the attachment files.

`create_backup` writes into a new (or empty) directory while the portal serves:

    DIR/portal.sqlite3 or DIR/portal.dump   the database, one point in time
    DIR/attachments/<2 hex>/<32 hex>        every file the copied rows refer to
    DIR/manifest.json                       counts and checksums, written last

Files are taken from the copied `attachment` rows, not from a directory listing:
a file is written before its row commits and never changes, so every row in the
copy has its file, and uploads still in flight are left out with their rows.

`restore_backup` checks the manifest and every checksum first, refuses an
instance that already holds rows or files, restores, then counts again.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from portal.attachments.service import STORED_NAME, storage_root
from portal.extensions import db

from . import postgres
from . import sqlite as sqlite_copy
from .manifest import BackupError, FileEntry, Manifest, copy_and_hash, inside, sha256_of

SQLITE_FILE = "portal.sqlite3"
DUMP_FILE = "portal.dump"
ATTACHMENTS = "attachments"


@dataclass
class Contents:
    """What the copied database holds, read from the copy (or its snapshot)."""

    tables: dict[str, int]
    revision: str | None
    attachments: list[tuple[str, int, str]]  # stored name, size, sha256


@dataclass
class Restored:
    manifest: Manifest
    code_head: str | None


def portal_version() -> str:
    try:
        return importlib.metadata.version("portal")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def engine_name() -> str:
    name = db.engine.dialect.name
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {name}.")
    return name


# --- backup --------------------------------------------------------------------------


def create_backup(directory: Path, warn: Callable[[str], None] = lambda _m: None) -> Manifest:
    """Write a consistent backup of the configured instance into `directory` (new or empty).

    Attachment rows whose file is missing or changed on disk are copied as they are
    and named in the manifest's `problems` (and through `warn`); the backup goes on.
    """
    directory = directory.expanduser().absolute()
    _check_backup_directory(directory)
    engine = engine_name()
    tool = None
    if engine == "postgresql":
        # Before anything is written: a missing or old pg_dump is a message, not a half backup.
        tool = postgres.find_tool(
            "pg_dump",
            _server_version_num(),
            manual=postgres.manual_dump_command(db.engine.url, directory / DUMP_FILE),
        )
    created = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        if engine == "sqlite":
            database_file = SQLITE_FILE
            sqlite_copy.snapshot(Path(db.engine.url.database), directory / SQLITE_FILE)
            with sqlite3.connect(f"file:{directory / SQLITE_FILE}?mode=ro", uri=True) as copy:
                contents = _read_contents(lambda sql: copy.execute(sql).fetchall(), engine)
            extra = {}
        else:
            database_file = DUMP_FILE
            contents, extra = _dump_postgres(tool, directory / DUMP_FILE)
        files = [_entry(directory, directory / database_file)]
        copied, problems = _copy_attachments(contents.attachments, directory / ATTACHMENTS)
        files += copied
        for problem in problems:
            warn(problem)
        manifest = Manifest(
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            portal_version=portal_version(),
            engine=engine,
            database_file=database_file,
            alembic_revision=contents.revision,
            tables=contents.tables,
            files=files,
            problems=problems,
            **extra,
        )
        manifest.write(directory)
    except BaseException:
        _remove_partial(directory, created)
        raise
    return manifest


def _check_backup_directory(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise BackupError(f"{directory} exists and is not a directory.")
    if directory.is_dir() and any(directory.iterdir()):
        raise BackupError(
            f"The backup directory {directory} exists and is not empty. Give a new directory "
            "(for example one named by the date): a backup never overwrites another."
        )


def _remove_partial(directory: Path, created: bool) -> None:
    """A failed backup leaves nothing that could be mistaken for one."""
    if created:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)


def _server_version_num() -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text("SHOW server_version_num")).scalar_one())


def _dump_postgres(tool: postgres.Tool, target: Path) -> tuple[Contents, dict]:
    """pg_dump through an exported snapshot; the counts come from the same snapshot."""
    options = {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    with db.engine.connect().execution_options(**options) as connection:
        snapshot_id = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        server = connection.execute(text("SHOW server_version")).scalar_one()
        # The exporting transaction stays open until pg_dump is done with the snapshot.
        postgres.dump(tool, db.engine.url, snapshot_id, target)
        contents = _read_contents(lambda sql: connection.execute(text(sql)).all(), "postgresql")
        connection.rollback()
    return contents, {"server_version": server, "dump_tool_version": tool.version}


def _table_names(query: Callable[[str], list], engine: str) -> list[str]:
    if engine == "sqlite":
        sql = (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "ORDER BY name"
        )
    else:
        sql = (
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    return [row[0] for row in query(sql)]


def _count_rows(query: Callable[[str], list], engine: str) -> dict[str, int]:
    return {
        name: int(query(f"SELECT count(*) FROM {sqlite_copy.quote(name)}")[0][0])
        for name in _table_names(query, engine)
    }


def _read_contents(query: Callable[[str], list], engine: str) -> Contents:
    tables = _count_rows(query, engine)
    revision = None
    if "alembic_version" in tables:
        rows = query("SELECT version_num FROM alembic_version")
        revision = rows[0][0] if rows else None
    attachments = []
    if "attachment" in tables:
        attachments = [
            (name, int(size), sha)
            for name, size, sha in query(
                "SELECT stored_name, size, sha256 FROM attachment ORDER BY stored_name"
            )
        ]
    return Contents(tables, revision, attachments)


def _entry(directory: Path, path: Path) -> FileEntry:
    return FileEntry(
        path=path.relative_to(directory).as_posix(),
        size=path.stat().st_size,
        sha256=sha256_of(path),
    )


def _copy_attachments(
    rows: Iterable[tuple[str, int, str]], target: Path
) -> tuple[list[FileEntry], list[str]]:
    """Copy the file of every attachment row; problems for files missing or changed."""
    root = storage_root()
    entries, problems = [], []
    for stored_name, size, sha256 in rows:
        if not STORED_NAME.fullmatch(stored_name):
            problems.append(f"attachment {stored_name!r}: not a stored name, skipped")
            continue
        relative = f"{stored_name[:2]}/{stored_name}"
        try:
            copied = copy_and_hash(root / relative, target / relative)
        except FileNotFoundError:
            problems.append(f"attachment {relative}: the file is missing in {root}")
            continue
        if (copied.size, copied.sha256) != (size, sha256):
            problems.append(
                f"attachment {relative}: the file differs from its recorded size and checksum"
            )
        copied.path = f"{ATTACHMENTS}/{relative}"
        entries.append(copied)
    return entries, problems


# --- restore -------------------------------------------------------------------------


def restore_backup(directory: Path) -> Restored:
    """Restore the backup in `directory` into this instance, which must be empty.

    Checks first (manifest, every file's size and checksum, the engine, an empty
    database and attachment directory), then restores the database and the files,
    then compares every table's count with the manifest.
    """
    directory = directory.expanduser().absolute()
    manifest = Manifest.read(directory)
    manifest.verify_files(directory)
    engine = engine_name()
    if manifest.engine != engine:
        raise BackupError(
            f"This backup is of a {manifest.engine} database and this instance uses {engine}; "
            "restore it into an instance on the same engine."
        )
    database_copy = inside(directory, manifest.database_file)
    tool = None
    if engine == "postgresql":
        tool = postgres.find_tool(
            "pg_restore",
            _server_version_num(),
            manual=f"pg_restore --no-owner --dbname=… {database_copy}",
        )
        if manifest.dump_tool_version:
            # pg_restore reads what a pg_dump of its own version or older wrote.
            written_by = postgres.major_of(manifest.dump_tool_version)
            postgres.check_version(
                "pg_restore", tool.major, written_by, f"the pg_dump {written_by} that wrote it"
            )
    _check_empty_instance()
    db.session.remove()
    db.engine.dispose()
    if engine == "sqlite":
        sqlite_copy.restore(database_copy, Path(db.engine.url.database))
    else:
        postgres.restore(tool, db.engine.url, database_copy)
    db.engine.dispose()
    _restore_attachments(directory, manifest)
    _check_counts(manifest)
    return Restored(manifest, _code_head())


def _check_empty_instance() -> None:
    with db.engine.connect() as connection:
        engine = connection.dialect.name
        counts = _count_rows(lambda sql: connection.execute(text(sql)).all(), engine)
    # The models' tables: a freshly migrated database has rows elsewhere (Alembic's
    # revision, the search index's settings) and is still empty.
    holding = sorted(name for name, n in counts.items() if n and name in db.metadata.tables)
    if holding:
        shown = ", ".join(f"{name} ({counts[name]})" for name in holding[:5])
        more = f" and {len(holding) - 5} more" if len(holding) > 5 else ""
        raise BackupError(
            f"This instance's database is not empty (rows in {shown}{more}). A restore only "
            "goes into an empty instance: point PORTAL_DATABASE_URL (or PORTAL_INSTANCE_PATH) "
            "at a new, empty database and PORTAL_ATTACHMENT_DIR at an empty directory."
        )
    root = storage_root()
    if root.is_dir() and any(root.iterdir()):
        raise BackupError(
            f"The attachment directory {root} is not empty. A restore only goes into an empty "
            "instance: point PORTAL_ATTACHMENT_DIR at an empty directory."
        )


def _restore_attachments(directory: Path, manifest: Manifest) -> None:
    root = storage_root()
    prefix = ATTACHMENTS + "/"
    for entry in manifest.files:
        if not entry.path.startswith(prefix):
            continue
        relative = entry.path[len(prefix) :]
        target = inside(root, relative)
        if target is None:  # verify_files already refused such a path
            raise BackupError(f"{entry.path}: not a path inside the backup.")
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        copied = copy_and_hash(inside(directory, entry.path), target)
        if (copied.size, copied.sha256) != (entry.size, entry.sha256):
            raise BackupError(f"{entry.path} changed while it was being restored; restore again.")
    if root.is_dir():
        os.chmod(root, 0o700)


def _check_counts(manifest: Manifest) -> None:
    with db.engine.connect() as connection:
        engine = connection.dialect.name
        counts = _count_rows(lambda sql: connection.execute(text(sql)).all(), engine)
    differing = [
        f"{name}: {counts.get(name)} rows, the backup has {expected}"
        for name, expected in manifest.tables.items()
        if counts.get(name) != expected
    ]
    if differing:
        raise BackupError("The restored database differs from the backup: " + "; ".join(differing))


def _code_head() -> str | None:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()
