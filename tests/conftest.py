"""Fixtures that read like the domain.

The suite runs on a SQLite file by default and on PostgreSQL when
PORTAL_TEST_DATABASE_URL is set (a server URL; the suite creates and drops a
database of its own there). The schema comes from the real Alembic
migrations, once per run; each test starts from empty tables.
"""

from __future__ import annotations

import copy
import os
import shutil
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from portal import create_app
from portal.extensions import db

from .support import DEMO_PASSWORD, Browserless, make_test_config

SERVER_URL = os.environ.get("PORTAL_TEST_DATABASE_URL")

# A run that starts this late in its UTC day could cross midnight (the suite takes up to
# half an hour on a busy machine). Pages judge a customer's day in its account's zone
# (portal.days), so the run must also be on the same date in every demo account's zone,
# America/Chicago (UTC-6) to Asia/Jakarta (UTC+7): from 07:00 UTC, and until 16:00 so
# that half an hour later Jakarta is still before midnight.
EARLY_IN_THE_DAY = 7
LATE_IN_THE_DAY = 16
CHILD_CLOCK = Path(__file__).parent / "clock"


def pytest_configure(config):
    """Keep the whole run on one calendar day.

    Test modules take "today" once, when imported (`TODAY = date.today()`), while the
    app reads the clock on every request: a run that crossed midnight compared
    yesterday's constants with today's pages (26 failures in a CI run that started at
    23:37). A run that starts late in the day is moved back to noon of that same day,
    before any test module is imported, and so is one that starts before every demo
    account's zone has reached the UTC date (EARLY_IN_THE_DAY); the clock keeps
    ticking, so durations stay real.
    Python processes the suite starts (gunicorn, `flask worker`) get the same shift
    through tests/clock/sitecustomize.py. PORTAL_TEST_AT_NOON=1 moves any run, to try
    this path by day.
    """
    now = datetime.now(UTC)
    if not EARLY_IN_THE_DAY <= now.hour < LATE_IN_THE_DAY or os.environ.get("PORTAL_TEST_AT_NOON"):
        noon = now.replace(hour=12, minute=0, second=0, microsecond=0)
        os.environ["PORTAL_TEST_CLOCK_OFFSET"] = str((noon - now).total_seconds())
        os.environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(CHILD_CLOCK), os.environ.get("PYTHONPATH")])
        )
        config._portal_one_day = time_machine.travel(noon, tick=True)
        config._portal_one_day.start()


@pytest.fixture(autouse=True)
def _push_request_context():
    """Replace pytest-flask's autouse fixture of this name with nothing.

    It pushes one request context for the whole test, and Flask then reuses
    its app context for every test-client request: `g`, the database session
    and Flask-Login's cached user would leak from one request (and one
    signed-in person) to the next. Tests open `app.app_context()` themselves.
    """


@pytest.fixture
def client(app):
    """A plain test client. (pytest-flask's keeps the last request's context
    pushed, with the same leak as above.)"""
    return app.test_client()


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(make_test_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A database for this run alone, migrated to head once."""
    if not SERVER_URL:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.sqlite3'}"
        _migrate(url)
        yield url
        return
    server = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    name = f"portal_test_{uuid.uuid4().hex[:10]}"
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A commit need not wait for its WAL to reach the disk in a database the run
        # drops (1-2 ms a commit on this kind of machine, ~0.1 ms without; tens of
        # thousands of commits a run). What a test sees is the same either way.
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = make_url(SERVER_URL).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with server.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def empty_all_tables() -> None:
    """Delete every row, children first. (DELETE, not TRUNCATE: on PostgreSQL a
    TRUNCATE of twenty small tables costs 20 ms, a DELETE of them under 1 ms.)
    Ids are not reset, so tests never rely on them."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


def restart_ids() -> None:
    """Number new rows from 1 again, as in a new database. SQLite does so by itself
    once a table is empty; PostgreSQL's sequences go on, and references made from ids
    (a service request's SR-00042) would differ between two otherwise equal loads."""
    if db.engine.dialect.name != "postgresql":
        return
    for name in db.session.scalars(
        text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
    ):
        db.session.execute(text(f'ALTER SEQUENCE "{name}" RESTART'))
    db.session.commit()


@dataclass(frozen=True)
class Rows:
    """Every row of every table, and the attachment files beside them: a data set built
    once through the services and put back, as it was, for each test that may change it."""

    tables: dict[str, list[dict]]
    files: Path


def take_rows(attachments: Path, into: Path) -> Rows:
    """Read every table (inside an app context) and copy the attachment files to `into`."""
    # In key order: PostgreSQL returns an unordered SELECT in the heap's order, which an
    # UPDATE changes (put_back sets cyclic references after the inserts).
    tables = {
        table.name: [
            dict(row)
            for row in db.session.execute(
                table.select().order_by(*table.primary_key.columns)
            ).mappings()
        ]
        for table in db.metadata.sorted_tables
    }
    shutil.copytree(attachments, into, dirs_exist_ok=True)
    return Rows(tables, into)


def put_back(rows: Rows, attachments: Path) -> None:
    """Empty every table and insert the rows taken, with their ids, parents first; copy the
    files into `attachments`. Ids stay free for new rows: SQLite numbers from the
    highest, and PostgreSQL's sequences have already passed them."""
    empty_all_tables()
    order = [table.name for table in db.metadata.sorted_tables]
    later = []  # references to a table inserted later (or to the same one): set after
    for table in db.metadata.sorted_tables:
        found = rows.tables[table.name]
        if not found:
            continue
        cyclic = {
            fk.parent.name
            for fk in table.foreign_keys
            if order.index(fk.column.table.name) >= order.index(table.name)
        }
        # A column the database's triggers keep (a count of the rows of a table put back
        # later) starts from its default; the triggers count it up as those rows return.
        # A generated one (the queue's rank) cannot be written at all: the database
        # computes it again.
        kept = {
            column.name
            for column in table.columns
            if column.info.get("kept_by_triggers") or column.computed is not None
        }
        db.session.execute(
            table.insert(),
            [
                {**{k: v for k, v in row.items() if k not in kept}, **dict.fromkeys(cyclic)}
                for row in found
            ],
        )
        later += [(table, column, found) for column in cyclic]
    for table, column, found in later:
        (key,) = table.primary_key.columns
        for row in found:
            if row[column] is not None:
                db.session.execute(
                    table.update().where(key == row[key.name]).values({column: row[column]})
                )
    db.session.commit()
    shutil.copytree(rows.files, attachments, dirs_exist_ok=True)


class SharedBytecodeCache(BytecodeCache):
    """Compiled templates shared by every test's app: compiling them anew for each
    test would cost more than the test itself."""

    def __init__(self):
        self.store: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.store:
            bucket.bytecode_from_string(self.store[bucket.key])

    def dump_bytecode(self, bucket):
        self.store[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CACHE = SharedBytecodeCache()


def _fresh_app(database_url: str, **overrides):
    app = create_app(make_test_config(database_url, **overrides))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    return app


@pytest.fixture(scope="session")
def shared_app(database_url):
    """One application for every test that does not change the app itself.

    Building the app costs a quarter of a second (1,900 URL rules compiled, the API's
    OpenAPI document, the form macros) and its engine starts with an empty cache of
    compiled statements: once per test, that was half the suite's time. Each test still
    starts from the configuration as built here (`app` puts back whatever a test
    changed) and from empty rate-limit counts and job queue."""
    app = _fresh_app(database_url)
    yield SharedApp(app, copy.deepcopy(dict(app.config)))
    with app.app_context():
        db.engine.dispose()


@dataclass
class SharedApp:
    app: Flask
    built: dict  # its configuration as create_app left it


def _restore(app, built: dict) -> None:
    """Put back the configuration a test changed (keys added, replaced or changed in
    place), and empty what the app keeps in memory between requests."""
    for key in set(app.config) - set(built):
        del app.config[key]
    for key, value in built.items():
        if key not in app.config or app.config[key] != value:
            app.config[key] = copy.deepcopy(value)
    for limiter in app.extensions.get("limiter", ()):
        limiter.reset()
    queue = app.extensions["portal.jobs"]
    if queue.backend == "memory":
        queue.huey.flush()


@pytest.fixture
def app(request, database_url, shared_app, tmp_path):
    """The application on the run's database, with empty tables (and attachments
    stored in the test's temporary folder, never in the repository).

    The run's shared app, unless the test is marked `own_app` (it adds a route or
    otherwise changes the app in a way that cannot be put back)."""
    attachments = str(tmp_path / "attachments")
    if request.node.get_closest_marker("own_app"):
        app = _fresh_app(database_url, ATTACHMENT_DIR=attachments)
        built = None
    else:
        app, built = shared_app.app, shared_app.built
        app.config["ATTACHMENT_DIR"] = attachments
    with app.app_context():
        empty_all_tables()
    yield app
    with app.app_context():
        db.session.remove()
        if built is None:
            db.engine.dispose()
    if built is not None:
        _restore(app, built)


@pytest.fixture
def demo(app):
    """The deterministic demo data (vendor staff, five customer accounts, their users)."""
    from portal import demo as demo_data

    with app.app_context():
        demo_data.load_people()
    return demo_data


@pytest.fixture
def catalog(app, demo):
    """The demo catalog: about 300 products, stock, contract prices for every account."""
    import random
    from datetime import date

    from portal.catalog import demo as catalog_demo

    with app.app_context():
        counts = catalog_demo.load(random.Random(4242), date.today())
        db.session.commit()
    return counts


@pytest.fixture
def ids(app, demo):
    """Ids of demo objects, by a readable name."""
    from sqlalchemy import select

    from portal.accounts.models import Address, CustomerAccount, User

    with app.app_context():
        users = dict(db.session.execute(select(User.email, User.id)).all())
        accounts = dict(
            db.session.execute(select(CustomerAccount.number, CustomerAccount.id)).all()
        )
        acme_address = db.session.scalar(
            select(Address.id).where(Address.account_id == accounts["C-10001"]).order_by(Address.id)
        )
    return {
        "users": users,
        "acme": accounts["C-10001"],
        "globex": accounts["C-10002"],
        "initech": accounts["C-10003"],
        "acme_address": acme_address,
        "acme_buyer": users["buyer@acme.test"],
        "acme_admin": users["admin@acme.test"],
        "planner": users["planner@vendor.test"],
    }


@pytest.fixture
def browser_like(client):
    return Browserless(client)


@pytest.fixture
def login_as(app, demo):
    """login_as("buyer@acme.test") gives a client signed in as that demo user."""

    def _login(email: str, password: str = DEMO_PASSWORD):
        person = Browserless(app.test_client())
        response = person.login(email, password)
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        return person

    return _login


@dataclass
class LiveServer:
    url: str


@pytest.fixture
def live_server(app, demo):
    """The portal with demo data, served over HTTP on a free port."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    thread.join(timeout=5)
