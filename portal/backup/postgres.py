"""PostgreSQL: pg_dump (custom format) and pg_restore, the server's own tools.

The dump and the manifest's counts come from one snapshot: the portal opens a
REPEATABLE READ transaction, exports its snapshot, and pg_dump reads through it
(`--snapshot`) while the portal counts rows and lists attachments in the same
transaction. The password travels in PGPASSWORD, never on a command line.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL

from .manifest import BackupError

DEBIAN_HINT = (
    "Debian and Ubuntu: `apt-get install postgresql-client` (or postgresql-client-{major} "
    "from apt.postgresql.org when the distribution's is older than the server)"
)


@dataclass(frozen=True)
class Tool:
    path: str
    version: str  # "15.20"

    @property
    def major(self) -> int:
        return major_of(self.version)


def major_of(version: str) -> int:
    """The major version: "15.20" -> 15, "9.6.24" -> 9 (before 10, two numbers were major)."""
    match = re.match(r"(\d+)(?:\.(\d+))?", version.strip())
    if not match:
        raise ValueError(f"not a PostgreSQL version: {version!r}")
    return int(match[1])


def server_major(server_version_num: int) -> int:
    """`SHOW server_version_num` (150020) -> 15."""
    return server_version_num // 10000


def libpq_url(url: URL) -> tuple[str, dict[str, str]]:
    """The connection for libpq tools: a postgresql:// URL without the password, and an
    environment carrying it (so `ps` never shows it)."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    # Built anew: URL.set(password=None) keeps the password.
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return plain.render_as_string(hide_password=False), env


def find_tool(name: str, server_version_num: int, *, manual: str) -> Tool:
    """The tool on PATH, at least the server's major version (pg_dump refuses older
    servers' newer formats; pg_restore needs a version at least the dump's).

    BackupError names what to install, and `manual` what to run by hand meanwhile.
    """
    wanted = server_major(server_version_num)
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools, version "
            f"{wanted} or newer ({DEBIAN_HINT.format(major=wanted)}), or run it yourself: "
            f"{manual}"
        )
    try:
        answer = subprocess.run(
            [path, "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
        version = re.search(r"\)\s*(\d+(?:\.\d+)*)", answer) or re.search(
            r"(\d+(?:\.\d+)+)", answer
        )
        tool = Tool(path, version[1] if version else "")
        major = tool.major
    except (OSError, subprocess.SubprocessError, ValueError):
        raise BackupError(f"{path} --version did not say which version it is.") from None
    check_version(name, major, wanted)
    return tool


def check_version(name: str, tool_major: int, wanted_major: int, than: str = "") -> None:
    """Refuse a tool older than the server (or than `than`), naming both versions and the fix."""
    than = than or f"the server's PostgreSQL {wanted_major}"
    if tool_major < wanted_major:
        raise BackupError(
            f"{name} on PATH is version {tool_major}, older than {than}; {name} must be at "
            f"least version {wanted_major}. Install "
            f"postgresql-client-{wanted_major} ({DEBIAN_HINT.format(major=wanted_major)}) and "
            f"put /usr/lib/postgresql/{wanted_major}/bin first on PATH."
        )


def manual_dump_command(url: URL, target: Path) -> str:
    """What to run by hand when pg_dump cannot be used here."""
    plain, _ = libpq_url(url)
    return (
        f"pg_dump --format=custom --file={shlex.quote(str(target))} "
        f"--dbname={shlex.quote(plain)} (then copy the attachment directory beside it)"
    )


def dump(tool: Tool, url: URL, snapshot_id: str, target: Path) -> None:
    """pg_dump of the whole database as seen by the exported snapshot."""
    plain, env = libpq_url(url)
    _run(
        [
            tool.path,
            "--format=custom",
            f"--snapshot={snapshot_id}",
            f"--file={target}",
            f"--dbname={plain}",
        ],
        env,
        "pg_dump",
    )


def restore(tool: Tool, url: URL, dump_file: Path) -> None:
    """pg_restore into the (empty) database, in one transaction: all or nothing.

    --clean --if-exists first drops the empty tables a `flask db upgrade` may have
    made; --no-owner/--no-privileges let another role own the restored tables.
    """
    plain, env = libpq_url(url)
    _run(
        [
            tool.path,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={plain}",
            str(dump_file),
        ],
        env,
        "pg_restore",
    )


def _run(command: list[str], env: dict[str, str], name: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise BackupError(
            f"{name} failed: " + (" / ".join(detail[-5:]) or f"exit {result.returncode}")
        )
