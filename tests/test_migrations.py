"""The schema is what the migrations make: models and migrations agree."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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


# How many of the newest revisions the round trip below walks down and up again: far
# enough to reach the equipment tables (0017), whose demo gives the dropped tables rows.
ROUND_TRIP_REVISIONS = 14


def test_the_latest_migrations_go_down_and_up_again_with_demo_data(tmp_path):
    """With demo data in the tables, downgrade the newest revisions and upgrade again:
    every table the downgrade keeps holds the same number of rows at each step (a
    SQLite batch rebuild must not cascade a DELETE into children), the tables it drops
    come back, and the schema matches the models again.

    The demo is loaded without the year of orders and desk work: that takes most of a
    full load's time (half a minute on PostgreSQL) and its tables lie below the
    revisions walked here.
    """
    import random

    from alembic.script import ScriptDirectory
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal import demo as demo_data
    from portal.catalog import demo as catalog_demo
    from portal.equipment import demo as equipment_demo
    from portal.extensions import utcnow
    from portal.forecasts import demo as forecasts_demo
    from portal.ideas import demo as ideas_demo
    from portal.plans import demo as plans_demo

    from .support import make_test_config, scratch_database

    def counts(connection) -> dict[str, int]:
        return {
            name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in inspect(connection).get_table_names()
            if name != "alembic_version"
        }

    with scratch_database(tmp_path, "roundtrip") as url:
        app = create_app(make_test_config(url, ATTACHMENT_DIR=str(tmp_path / "attachments")))
        with app.app_context():
            upgrade()
            today = utcnow().date()
            demo_data.load_people()
            catalog_demo.load(random.Random(4242), today)
            db.session.commit()
            ideas_demo.load(random.Random(4545), today)
            for area in (plans_demo, forecasts_demo):
                area.load(random.Random(4646), today)
            # Equipment sits in the revisions walked here: its demo (units sold before
            # the portal, without the year's shipments) gives the dropped tables rows.
            equipment_demo.load(random.Random(4848), utcnow())
            db.session.commit()
            db.session.remove()

            config = app.extensions["migrate"].migrate.get_config()
            script = ScriptDirectory.from_config(config)
            target = script.get_current_head()
            for _ in range(ROUND_TRIP_REVISIONS):
                target = script.get_revision(target).down_revision
            with db.engine.connect() as connection:
                before = counts(connection)
            downgrade(revision=target)
            with db.engine.connect() as connection:
                down = counts(connection)
            upgrade()
            with db.engine.connect() as connection:
                after = counts(connection)
                context = MigrationContext.configure(
                    connection,
                    opts={"compare_type": True, "include_object": include_in_schema_comparison},
                )
                differences = compare_metadata(context, db.metadata)
            db.engine.dispose()

    kept = set(down)
    dropped = set(before) - kept
    assert dropped, "the walk should cross revisions that create tables"
    assert sum(before[name] for name in dropped) > 0, "the dropped tables held demo rows"
    assert {name: down[name] for name in kept} == {name: before[name] for name in kept}
    assert {name: after[name] for name in kept} == {name: before[name] for name in kept}
    assert set(after) == set(before)
    assert differences == []


def test_existing_accounts_and_contract_prices_are_priced_in_the_base_currency(tmp_path):
    """0029 fills the new currency columns of existing rows with the CURRENCY setting,
    so an install that knew one currency reads exactly as before."""
    from flask_migrate import upgrade

    from portal import create_app

    from .support import make_test_config, scratch_database

    with scratch_database(tmp_path, "currency") as url:
        app = create_app(make_test_config(url, CURRENCY="USD"))
        with app.app_context():
            upgrade(revision="0028")
            with db.engine.begin() as connection:
                for sql in (
                    "INSERT INTO customer_account (id, number, name, status, timezone, "
                    "promise_basis, created_at) "
                    "VALUES (1, 'C-1', 'Acme', 'active', 'UTC', 'delivery', CURRENT_TIMESTAMP)",
                    "INSERT INTO category (id, name, position) VALUES (1, 'Parts', 0)",
                    "INSERT INTO product (id, sku, sku_key, name, description, category_id, "
                    "unit, pack_size, min_order_qty, order_multiple, lead_time_days, list_price, "
                    "status, created_at) VALUES (1, 'P-1', 'P-1', 'Pump', '', 1, 'pc', 1, 1, 1, "
                    "14, 10.00, 'active', CURRENT_TIMESTAMP)",
                    "INSERT INTO contract_price (id, account_id, product_id, min_quantity, "
                    "unit_price, valid_from) VALUES (1, 1, 1, 1, 9.00, '2026-01-01')",
                ):
                    connection.execute(text(sql))
            upgrade()
            with db.engine.connect() as connection:
                currencies = [
                    connection.execute(text(f"SELECT currency FROM {table}")).scalar_one()
                    for table in ("customer_account", "contract_price")
                ]
                prices = connection.execute(text("SELECT count(*) FROM product_price")).scalar()
            db.engine.dispose()
    assert currencies == ["USD", "USD"]
    assert prices == 0
