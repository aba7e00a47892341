"""The backup's manifest: what a backup holds, with counts and checksums to prove it.

`manifest.json` is written last, so a directory without one is an unfinished
backup. It records when and from what the backup was made (portal version,
Alembic revision, database engine), the rows of every table, and the size and
SHA-256 of every file in the directory (the database copy and each attachment).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from portal.errors import DomainError

MANIFEST = "manifest.json"
FORMAT = "portal-backup"
FORMAT_VERSION = 1
CHUNK = 1024 * 1024


class BackupError(DomainError):
    """A backup or restore cannot go on; the message says why and what to do."""


@dataclass
class FileEntry:
    path: str  # relative to the backup directory, with "/" separators
    size: int
    sha256: str


@dataclass
class Manifest:
    created_at: str
    portal_version: str
    engine: str  # "sqlite" or "postgresql"
    database_file: str  # the copy of the database, relative to the directory
    alembic_revision: str | None
    tables: dict[str, int]
    files: list[FileEntry]
    # Attachment rows whose file was missing (or differed) in the live instance.
    problems: list[str] = field(default_factory=list)
    # PostgreSQL only: the server's and pg_dump's versions.
    server_version: str | None = None
    dump_tool_version: str | None = None
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def write(self, directory: Path) -> None:
        """Write manifest.json atomically: a reader sees all of it or none."""
        temporary = directory / (MANIFEST + ".part")
        temporary.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        os.replace(temporary, directory / MANIFEST)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read and check manifest.json; BackupError says what is missing or damaged."""
        path = directory / MANIFEST
        if not directory.is_dir():
            raise BackupError(f"{directory} is not a directory with a backup in it.")
        if not path.is_file():
            raise BackupError(
                f"{directory} has no {MANIFEST}, so it is not a complete backup "
                "(`flask backup` writes the manifest last)."
            )
        try:
            raw = json.loads(path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BackupError(f"{path} is damaged: not valid JSON ({error}).") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise BackupError(f"{path} is not the manifest of a portal backup.")
        if raw.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                f"{path} has format version {raw.get('format_version')!r}; this portal "
                f"reads version {FORMAT_VERSION}."
            )
        try:
            files = [FileEntry(**entry) for entry in raw.pop("files")]
            manifest = cls(files=files, **raw)
        except (KeyError, TypeError) as error:
            raise BackupError(f"{path} is damaged: {error}.") from None
        if not all(isinstance(n, int) for n in manifest.tables.values()):
            raise BackupError(f"{path} is damaged: a table count is not a number.")
        return manifest

    def verify_files(self, directory: Path) -> None:
        """Every listed file exists with its size and checksum; BackupError lists each that
        does not."""
        wrong = []
        for entry in self.files:
            path = inside(directory, entry.path)
            if path is None:
                wrong.append(f"{entry.path}: not a path inside the backup")
            elif not path.is_file():
                wrong.append(f"{entry.path}: missing")
            elif path.stat().st_size != entry.size:
                wrong.append(f"{entry.path}: {path.stat().st_size} bytes, expected {entry.size}")
            elif sha256_of(path) != entry.sha256:
                wrong.append(f"{entry.path}: checksum differs (the file is damaged)")
        if not any(entry.path == self.database_file for entry in self.files):
            wrong.append(f"{self.database_file}: the database copy is not listed")
        if wrong:
            shown = "; ".join(wrong[:10]) + (
                f"; and {len(wrong) - 10} more" if len(wrong) > 10 else ""
            )
            raise BackupError(f"The backup in {directory} is damaged: {shown}.")


def inside(directory: Path, relative: str) -> Path | None:
    """`directory/relative` if `relative` is a plain relative path (no `..`, not absolute)."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or ".." in parts:
        return None
    return directory.joinpath(*parts)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_and_hash(source: Path, target: Path) -> FileEntry:
    """Copy `source` to `target` (mode 600, folders 700), fsynced, hashing on the way.
    The entry's path is the target's name; callers set the relative path."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    temporary = target.with_name(target.name + ".part")
    with source.open("rb") as reader:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as writer:
            while chunk := reader.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                writer.write(chunk)
            writer.flush()
            os.fsync(writer.fileno())
    os.replace(temporary, target)
    return FileEntry(path=target.name, size=size, sha256=digest.hexdigest())
