"""Extensions, created unbound and bound to the app in `create_app`.

Models import `db` from here and nothing from the application, so any module
can be imported without an app and without import cycles.
"""

import logging
from contextvars import ContextVar
from datetime import UTC, datetime

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Named constraints, so Alembic migrations can drop and alter them on both
# SQLite (batch mode) and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every database.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is
    stored as naive UTC and made aware again on the way out. Naive datetimes
    are refused on the way in: they are always a bug.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC timestamp column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def base_currency() -> str:
    """The vendor's base currency (the CURRENCY setting, ISO 4217): what
    `Product.list_price` is in and what a new customer account is priced in."""
    from flask import current_app

    return current_app.config["CURRENCY"]


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL, a busy timeout and foreign keys for every SQLite connection.

    The driver runs in autocommit mode (see `sqlite_engine_options`), so the
    `begin` listener below decides when a transaction starts.
    """
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


# "The next transaction on this thread will write": set by `begin_writing()`,
# read (and cleared) by the `begin` listener below. A context variable, so each
# request thread has its own and nothing is shared between requests.
_next_transaction_writes: ContextVar[bool] = ContextVar("next_transaction_writes", default=False)
# Key in a SQLite connection's `info`: its open transaction began without the write lock.
_READ_TRANSACTION = "portal.read_transaction"
_WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# The attribute `portal.security.writes` sets on a GET view that changes state.
WRITES_ATTR = "_portal_writes"

log = logging.getLogger("portal.database")


def begin_writing() -> None:
    """Make the session's next transaction one that writes, ending the open one first.

    For code that writes while serving a request that otherwise only reads: a
    GET that records a refusal in the audit trail, ends an idle session, marks
    a notification read. On SQLite a transaction that began as a read and then
    writes fails at once with "database is locked" when another request has
    committed meanwhile (its snapshot is stale, so the busy timeout cannot
    help). The next transaction therefore begins with BEGIN IMMEDIATE and waits
    for other writers instead. On PostgreSQL the flag changes nothing.

    The open transaction is rolled back: it must hold nothing to keep (loaded
    objects are expired and load again when used).
    """
    db.session.rollback()
    _next_transaction_writes.set(True)


def forget_write_intent(_exc=None) -> None:
    """Clear a `begin_writing()` that no transaction used (teardown of each request)."""
    _next_transaction_writes.set(False)


def _request_writes() -> bool:
    """Whether the current request changes state: a non-safe method, or a view marked `@writes`."""
    from flask import current_app, has_request_context, request

    if not has_request_context():
        return False
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, WRITES_ATTR, False))


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """Start SQLite transactions explicitly.

    Transactions that will write take the write lock up front with BEGIN
    IMMEDIATE: requests that change state (anything but GET/HEAD/OPTIONS, or a
    view marked `@writes`) and the transaction after `begin_writing()`. SQLite
    then serialises writers and the busy timeout applies, instead of failing
    with "database is locked" when a read transaction later tries to write.
    Reads stay concurrent.
    """
    writing = _next_transaction_writes.get()
    _next_transaction_writes.set(False)
    if conn.dialect.name == "postgresql":
        _postgresql_begin(conn, writing)
        return
    if conn.dialect.name != "sqlite":
        return
    writing = writing or _request_writes()
    conn.info[_READ_TRANSACTION] = not writing
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def _postgresql_begin(conn, writing: bool) -> None:
    """A request that only reads runs in a READ ONLY transaction on PostgreSQL (psycopg
    sends it as BEGIN READ ONLY: no statement more), so `end_read_transaction` may end it
    with COMMIT. Outside a request (commands, jobs, tests' own set-up) nothing changes."""
    from flask import has_request_context

    read_only = has_request_context() and not (writing or _request_writes())
    conn.info[_READ_TRANSACTION] = read_only
    dbapi_connection = conn.connection.dbapi_connection
    if dbapi_connection.read_only != read_only:
        dbapi_connection.read_only = read_only


def end_read_transaction(exc=None) -> None:
    """End a request's read-only transaction with COMMIT instead of the pool's ROLLBACK
    (teardown of each request; PostgreSQL only).

    psycopg forgets every statement it prepared on the connection at any ROLLBACK, and
    the pool rolls back each connection handed back: every statement of every request
    was parsed and planned again (the customer's timeline: 4.5 ms, 1.6-2.4 ms prepared).
    Committing a transaction that cannot write changes nothing in the database; the
    connection goes back idle, the pool's ROLLBACK is then skipped by psycopg, and what
    it prepared stays for the next request. A request that failed, or whose session holds
    changes (an ORM object changed by mistake in a GET), is rolled back as before."""
    if exc is not None:
        return
    session = db.session()
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    connection = session.connection()
    if connection.dialect.name == "postgresql" and connection.info.get(_READ_TRANSACTION):
        session.commit()


@event.listens_for(Engine, "before_cursor_execute")
def _sqlite_write_in_read_transaction(conn, _cursor, statement, *_args) -> None:
    """Catch a request writing inside a read transaction on SQLite (and inside the READ
    ONLY one of `_postgresql_begin`, where PostgreSQL itself would refuse it).

    It works until another request writes at the same moment, then fails with
    "database is locked": a defect that load finds and tests rarely do. In
    tests (TESTING) it is an error at once, so the suite finds every such
    path; elsewhere it is logged. The fix is `@writes` on the view or
    `begin_writing()` before the write.
    """
    if not conn.info.get(_READ_TRANSACTION):
        return
    if not statement.lstrip()[:7].upper().startswith(_WRITE_VERBS):
        return
    from flask import current_app, has_request_context, request

    if not has_request_context():
        return
    message = (
        f"{request.method} {request.endpoint} writes in a read transaction on SQLite: "
        "mark the view @writes or call begin_writing() first"
    )
    if current_app.config.get("TESTING"):
        raise RuntimeError(message)
    log.warning(message)


def sqlite_engine_options() -> dict:
    # isolation_level=None hands transaction control to the `begin` listener
    # (the pysqlite recipe in SQLAlchemy's SQLite dialect documentation).
    return {"connect_args": {"isolation_level": None, "timeout": 5}}


# Schema objects made in migrations that the models do not describe: the product
# search index (an FTS5 table and its shadow tables on SQLite, a GIN index on
# PostgreSQL) and expression indexes (SQLite cannot reflect them). Autogenerate
# and the models-match-migrations test skip them.
SCHEMA_OUTSIDE_MODELS_PREFIXES = ("product_search", "ix_product_search", "ix_customer_order_po_key")


def include_in_schema_comparison(_object, name, _type, _reflected, _compare_to) -> bool:
    return not (name or "").startswith(SCHEMA_OUTSIDE_MODELS_PREFIXES)
