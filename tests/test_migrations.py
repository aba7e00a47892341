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


def test_a_table_rebuilt_on_sqlite_keeps_the_rows_that_reference_it(tmp_path):
    """SQLite cannot alter a CHECK constraint, so 0009 rebuilds `idea` (copy,
    DROP, rename). With foreign keys on, that DROP would delete every thread
    message through ON DELETE CASCADE; env.py turns them off while migrating."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from portal import create_app

    from .support import make_test_config

    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'old.sqlite3'}"))
    with app.app_context():
        upgrade(revision="0008")
        with db.engine.begin() as connection:
            for sql in (
                "INSERT INTO customer_account (id, number, name, status, timezone, created_at) "
                "VALUES (1, 'C-1', 'Acme', 'active', 'UTC', CURRENT_TIMESTAMP)",
                "INSERT INTO idea (id, account_id, direction, title, body, category, "
                "expected_benefit, status, created_at, last_activity_at) VALUES (1, 1, "
                "'customer', 'Crates', '', 'packaging', '', 'submitted', CURRENT_TIMESTAMP, "
                "CURRENT_TIMESTAMP)",
                "INSERT INTO idea_message (id, idea_id, kind, internal, body, body_html, "
                "created_at) VALUES (1, 1, 'message', 0, 'Hello', '<p>Hello</p>', "
                "CURRENT_TIMESTAMP)",
            ):
                connection.execute(text(sql))
        upgrade()
        downgrade(revision="0008")
        upgrade()
        with db.engine.connect() as connection:
            messages = connection.execute(text("SELECT count(*) FROM idea_message")).scalar()
            foreign_keys = connection.execute(text("PRAGMA foreign_keys")).scalar()
    assert messages == 1
    assert foreign_keys == 1  # on again for the application
