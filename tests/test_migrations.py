"""The schema is what the migrations make: models and migrations agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from portal.extensions import db, include_in_schema_comparison


def test_models_and_migrations_agree(app):
    """The test database was built by `flask db upgrade`; the models must match it."""
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"compare_type": True, "include_object": include_in_schema_comparison},
        )
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_migrations_reach_head(app):
    from alembic.script import ScriptDirectory

    with app.app_context(), db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
        config = app.extensions["migrate"].migrate.get_config()
        head = ScriptDirectory.from_config(config).get_current_head()
        tables = set(inspect(connection).get_table_names())
    assert current == head
    assert {"customer_account", "user", "auth_session", "audit_event"} <= tables
