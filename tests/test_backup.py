"""`flask backup` and `flask restore`: a copy taken while orders are placed restores every
row and file; bad directories, damaged backups and non-empty instances get clear messages.

These run on the suite's database: SQLite by default (the online backup API), PostgreSQL
with PORTAL_TEST_DATABASE_URL (pg_dump and pg_restore, which must be on PATH:
scripts/install-test-tools installs them).
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import threading
import uuid
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url
from werkzeug.datastructures import FileStorage

from portal import create_app
from portal.accounts.models import User
from portal.attachments import service as attachments
from portal.attachments.models import Attachment
from portal.backup import postgres
from portal.catalog.models import Product
from portal.extensions import db
from portal.ordering import service as ordering
from portal.ordering.models import Order

from .conftest import SERVER_URL, TEMPLATE_CACHE
from .support import Browserless, make_test_config, scratch_database


@pytest.fixture
def fresh_instance(tmp_path):
    """new_instance() gives an app on a new, empty database (no tables at all) with an
    empty attachment directory of its own: what a restore goes into."""
    with ExitStack() as cleanup:

        def new_instance(name: str = "fresh"):
            url = cleanup.enter_context(scratch_database(tmp_path, name))
            instance = create_app(
                make_test_config(url, ATTACHMENT_DIR=str(tmp_path / f"{name}-attachments"))
            )
            instance.jinja_env.bytecode_cache = TEMPLATE_CACHE

            def dispose():
                with instance.app_context():
                    db.session.remove()
                    db.engine.dispose()

            cleanup.callback(dispose)
            return instance

        yield new_instance


def run(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def text_file(words: str, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(words.encode()), filename=name)


def attach_files(app, count: int) -> None:
    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        for number in range(count):
            attachments.store(
                buyer, buyer.account_id, text_file(f"measurements, take {number}\n" * 50, "m.txt")
            )
        db.session.commit()


def row_counts(app) -> dict[str, int]:
    with app.app_context(), db.engine.connect() as connection:
        return {
            name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in inspect(connection).get_table_names()
        }


class OrderWriter(threading.Thread):
    """Places one-line orders through the ordering service until stopped."""

    def __init__(self, app, address_id: int):
        super().__init__(daemon=True)
        self.app, self.address_id = app, address_id
        self.placed = 0
        self.errors: list[BaseException] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with self.app.app_context():
                buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
                products = db.session.scalars(
                    select(Product.id)
                    .where(
                        Product.status == "active",
                        Product.min_order_qty == 1,
                        Product.order_multiple == 1,
                    )
                    .order_by(Product.id)
                    .limit(20)
                ).all()
                while not self.stop.is_set():
                    ordering.add_to_cart(buyer, [(products[self.placed % len(products)], 1)])
                    ordering.place_order(
                        buyer,
                        po_number=f"PO-BACKUP-{self.placed}",
                        ship_to_id=self.address_id,
                        requested_date=None,
                        notes="",
                        idempotency_key=uuid.uuid4().hex,
                        today=date.today(),
                    )
                    self.placed += 1
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.errors.append(error)

    def wait_for(self, count: int) -> None:
        for _ in range(600):
            if self.placed >= count or self.errors or not self.is_alive():
                return
            self.stop.wait(0.05)


def test_a_backup_taken_while_orders_are_placed_restores_every_row_and_file(
    app, catalog, ids, tmp_path, fresh_instance
):
    attach_files(app, 3)
    writer = OrderWriter(app, ids["acme_address"])
    writer.start()
    try:
        writer.wait_for(3)
        before = writer.placed
        result = run(app, "backup", str(tmp_path / "backup"))
        after = writer.placed
        writer.wait_for(after + 3)  # orders keep coming after the copy
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert not writer.errors, writer.errors
    assert result.exit_code == 0, result.output
    assert "Backup written to" in result.output and "3 attachment files" in result.output
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    in_backup = manifest["tables"]["customer_order"]
    assert before <= in_backup <= after
    assert row_counts(app)["customer_order"] > in_backup

    fresh = fresh_instance()
    restored = run(fresh, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    assert "every count and checksum matches" in restored.output

    # Every row: each table holds what the manifest counted, and the orders are the
    # source's own (same numbers and totals), up to the moment of the copy.
    counts = row_counts(fresh)
    assert {name: counts.get(name) for name in manifest["tables"]} == manifest["tables"]
    with fresh.app_context():
        copied = dict(db.session.execute(select(Order.number, Order.total)).all())
        stored = {a.stored_name: a.sha256 for a in db.session.scalars(select(Attachment))}
    with app.app_context():
        source = dict(db.session.execute(select(Order.number, Order.total)).all())
    assert len(copied) == in_backup and all(source[n] == t for n, t in copied.items())

    # Every file: hashed again where the restored instance keeps it.
    root = Path(fresh.config["ATTACHMENT_DIR"])
    files = [f for f in manifest["files"] if f["path"].startswith("attachments/")]
    assert len(files) == len(stored) == 3
    for entry in files:
        restored_file = root / entry["path"].removeprefix("attachments/")
        digest = hashlib.sha256(restored_file.read_bytes()).hexdigest()
        assert digest == entry["sha256"] == stored[restored_file.name]
        assert restored_file.stat().st_size == entry["size"]

    # And the portal works on it: the buyer signs in and finds the last copied order.
    buyer = Browserless(fresh.test_client())
    assert buyer.login("buyer@acme.test").status_code == 303
    newest = max(copied)
    assert newest in buyer.get(f"/orders/{newest}").get_data(as_text=True)


def test_the_manifest_says_what_and_when(app, demo, tmp_path):
    attach_files(app, 1)
    assert run(app, "backup", str(tmp_path / "b")).exit_code == 0
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert manifest["format"] == "portal-backup" and manifest["portal_version"] == "0.1.0"
    assert manifest["created_at"].endswith("+00:00")
    with app.app_context(), db.engine.connect() as connection:
        revision = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert manifest["alembic_revision"] == revision
    assert manifest["tables"]["user"] == row_counts(app)["user"]
    for entry in manifest["files"]:
        path = tmp_path / "b" / entry["path"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
    assert (tmp_path / "b").stat().st_mode & 0o777 == 0o700


# --- bad input -----------------------------------------------------------------------


def test_backup_refuses_a_directory_that_is_not_empty(app, demo, tmp_path):
    target = tmp_path / "monday"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = run(app, "backup", str(target))
    assert result.exit_code == 1
    assert f"The backup directory {target} exists and is not empty" in result.output
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


def test_backup_refuses_a_file_for_a_directory(app, demo, tmp_path):
    (tmp_path / "a-file").write_text("")
    result = run(app, "backup", str(tmp_path / "a-file"))
    assert result.exit_code != 0
    assert "is a file" in result.output or "not a directory" in result.output


def test_backup_into_an_empty_directory_that_exists(app, demo, tmp_path):
    (tmp_path / "empty").mkdir()
    assert run(app, "backup", str(tmp_path / "empty")).exit_code == 0


def test_restore_refuses_an_instance_with_rows(app, demo, tmp_path):
    assert run(app, "backup", str(tmp_path / "b")).exit_code == 0
    result = run(app, "restore", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "This instance's database is not empty (rows in" in result.output
    assert "user (" in result.output


def test_restore_refuses_an_attachment_directory_with_files(app, demo, tmp_path, fresh_instance):
    assert run(app, "backup", str(tmp_path / "b")).exit_code == 0
    fresh = fresh_instance()
    stray = Path(fresh.config["ATTACHMENT_DIR"]) / "ab" / "leftover"
    stray.parent.mkdir(parents=True)
    stray.write_text("old")
    result = run(fresh, "restore", str(tmp_path / "b"))
    assert result.exit_code == 1
    assert "The attachment directory" in result.output and "is not empty" in result.output
    assert row_counts(fresh) == {}  # nothing was restored


def test_restore_into_a_migrated_but_empty_instance(app, demo, tmp_path, fresh_instance):
    """`flask db upgrade` on the new instance first is fine: its tables are empty."""
    from flask_migrate import upgrade

    assert run(app, "backup", str(tmp_path / "b")).exit_code == 0
    fresh = fresh_instance()
    with fresh.app_context():
        upgrade()
    result = run(fresh, "restore", str(tmp_path / "b"))
    assert result.exit_code == 0, result.output
    assert row_counts(fresh)["user"] == row_counts(app)["user"]


def damage_manifest(backup: Path) -> None:
    (backup / "manifest.json").write_text('{"format": "portal-backup", "tables": ')


def drop_manifest(backup: Path) -> None:
    (backup / "manifest.json").unlink()


def flip_a_byte(backup: Path) -> None:
    path = next((backup / "attachments").rglob("*"), None)
    while path.is_dir():
        path = next(path.iterdir())
    data = bytearray(path.read_bytes())
    data[10] ^= 0x01
    path.write_bytes(bytes(data))


def lose_a_file(backup: Path) -> None:
    shutil.rmtree(backup / "attachments")


def cut_the_database(backup: Path) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    path = backup / manifest["database_file"]
    path.write_bytes(path.read_bytes()[:1000])


def escape_the_directory(backup: Path) -> None:
    manifest = json.loads((backup / "manifest.json").read_text())
    manifest["files"][-1]["path"] = "../../etc/passwd"
    (backup / "manifest.json").write_text(json.dumps(manifest))


def not_a_portal_backup(backup: Path) -> None:
    (backup / "manifest.json").write_text('{"format": "something-else"}')


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (drop_manifest, "has no manifest.json, so it is not a complete backup"),
        (damage_manifest, "manifest.json is damaged: not valid JSON"),
        (not_a_portal_backup, "is not the manifest of a portal backup"),
        (flip_a_byte, "checksum differs (the file is damaged)"),
        (lose_a_file, ": missing"),
        (cut_the_database, "1000 bytes, expected"),
        (escape_the_directory, "../../etc/passwd: not a path inside the backup"),
    ],
)
def test_restore_checks_the_backup_before_touching_anything(
    app, demo, tmp_path, fresh_instance, damage, message
):
    attach_files(app, 1)
    backup = tmp_path / "b"
    assert run(app, "backup", str(backup)).exit_code == 0
    damage(backup)
    fresh = fresh_instance()
    result = run(fresh, "restore", str(backup))
    assert result.exit_code == 1
    assert message in result.output
    assert row_counts(fresh) == {}
    assert not Path(fresh.config["ATTACHMENT_DIR"]).exists()


def test_restore_of_a_directory_that_does_not_exist(app, tmp_path):
    result = run(app, "restore", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "is not a directory with a backup in it" in result.output


# --- PostgreSQL's tools --------------------------------------------------------------


def test_without_pg_dump_the_message_names_what_to_run(tmp_path, monkeypatch):
    """A stand-in PATH without the client tools, as on a host that lacks them."""
    monkeypatch.setenv("PATH", str(tmp_path))
    url = make_url("postgresql+psycopg://portal:s3cret@db.internal:5432/portal")
    manual = postgres.manual_dump_command(url, Path("/backups/monday/portal.dump"))
    with pytest.raises(postgres.BackupError) as refusal:
        postgres.find_tool("pg_dump", 160004, manual=manual)
    message = refusal.value.message
    assert "pg_dump was not found on PATH" in message
    assert "version 16 or newer" in message and "apt-get install postgresql-client" in message
    assert (
        "pg_dump --format=custom --file=/backups/monday/portal.dump "
        "--dbname=postgresql://portal@db.internal:5432/portal" in message
    )
    assert "s3cret" not in message


def test_a_pg_dump_older_than_the_server_is_named(tmp_path, monkeypatch):
    old = tmp_path / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 13.16 (Debian 13.16-0+deb11u1)'\n")
    old.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(postgres.BackupError) as refusal:
        postgres.find_tool("pg_dump", 150020, manual="")
    assert refusal.value.message.startswith(
        "pg_dump on PATH is version 13, older than the server's PostgreSQL 15"
    )
    assert "postgresql-client-15" in refusal.value.message


def test_the_installed_pg_dump_is_found_with_its_version():
    """scripts/install-test-tools puts Debian's client tools here."""
    tool = postgres.find_tool("pg_dump", 150000, manual="")
    assert tool.major >= 15


def test_backup_on_postgresql_without_pg_dump_writes_nothing(app, demo, tmp_path, monkeypatch):
    """On PostgreSQL the message comes before anything is written; on SQLite no outside
    program is needed at all."""
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    result = run(app, "backup", str(tmp_path / "b"))
    if SERVER_URL:
        assert result.exit_code == 1
        assert "pg_dump was not found on PATH" in result.output
        assert "pg_dump --format=custom" in result.output
        assert not (tmp_path / "b").exists()
    else:
        assert result.exit_code == 0, result.output


def test_a_file_missing_in_the_live_instance_is_reported_and_the_rest_backed_up(
    app, demo, tmp_path
):
    attach_files(app, 2)
    with app.app_context():
        lost = db.session.scalars(select(Attachment.stored_name)).first()
    (Path(app.config["ATTACHMENT_DIR"]) / lost[:2] / lost).unlink()
    result = run(app, "backup", str(tmp_path / "b"))
    assert result.exit_code == 1  # a timer notices
    assert f"Warning: attachment {lost[:2]}/{lost}: the file is missing" in result.output
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert len(manifest["problems"]) == 1
    assert len([f for f in manifest["files"] if f["path"].startswith("attachments/")]) == 1


def test_a_pg_restore_older_than_the_dump_is_named():
    with pytest.raises(postgres.BackupError) as refusal:
        postgres.check_version("pg_restore", 14, 16, "the pg_dump 16 that wrote it")
    assert refusal.value.message.startswith(
        "pg_restore on PATH is version 14, older than the pg_dump 16 that wrote it; "
        "pg_restore must be at least version 16."
    )
