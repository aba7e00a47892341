"""Extensions, created unbound and bound to the app in `create_app`.

Models import `db` from here and nothing from the application, so any module
can be imported without an app and without import cycles.
"""

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


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """Start SQLite transactions explicitly.

    Requests that change state (anything but GET/HEAD/OPTIONS) take the write
    lock up front with BEGIN IMMEDIATE: SQLite then serialises writers and the
    busy timeout applies, instead of failing with "database is locked" when a
    read transaction later tries to write. Reads stay concurrent.
    """
    if conn.dialect.name != "sqlite":
        return
    from flask import has_request_context, request

    writing = has_request_context() and request.method not in ("GET", "HEAD", "OPTIONS")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


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
