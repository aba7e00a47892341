"""Alembic environment, driven by Flask-Migrate (`flask db ...`) and by the tests."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from portal.extensions import include_in_schema_comparison

config = context.config
if config.config_file_name is not None:
    # Keep the application's loggers working after a migration runs in-process.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

# Flask-SQLAlchemy 3.2 deprecates get_engine(); the engine is db.engine.
db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def _render_item(type_, obj, autogen_context):
    """Write the portal's own column types as plain SQLAlchemy types.

    A revision must not import application code: the code changes later,
    the revision must not.
    """
    from portal.extensions import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _options(connection=None) -> dict:
    dialect = connection.dialect.name if connection is not None else db.engine.dialect.name
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        # SQLite cannot ALTER most things: batch mode copies the table instead.
        "render_as_batch": dialect == "sqlite",
        "render_item": _render_item,
        "include_object": include_in_schema_comparison,
    }


def run_migrations_offline() -> None:
    url = db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def process_revision_directives(_context, _revision, directives):
        # `flask db migrate` with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a table: copy, DROP, rename. With foreign keys
            # on, the DROP deletes every row that references the table through
            # ON DELETE CASCADE (a suggestion's whole thread). The pragma only
            # takes effect outside a transaction, so it goes straight to the
            # driver before the migration's transaction begins.
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        try:
            context.configure(
                connection=connection,
                process_revision_directives=process_revision_directives,
                **_options(connection),
            )
            with context.begin_transaction():
                context.run_migrations()
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(f"The migration broke foreign keys: {broken[:5]}")
            if sqlite and connection.in_transaction():
                connection.commit()  # SQLite's DDL is not transactional to Alembic
        finally:
            if sqlite:
                if connection.in_transaction():
                    connection.rollback()  # failed: nothing half-done stays
                connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=ON")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
