"""A service request counts its clock events in a column the database keeps: triggers
on service_event add one for every status or first-response event written (and take
one off for one deleted, or moved by an update), in the same transaction. A kept
answer of an open request is current while its `outcome_events` equals the count,
compared within the row: the measures for all accounts counted the events of 10,000
open requests with a correlated subquery, which cost ~90 ms on PostgreSQL (and made
the planner's estimate large enough to JIT-compile the query, another ~200 ms) and
~25 ms on SQLite. The count starts from the events there are.

And an index with every column the measures (and the complaint rate) read of a
request (ServiceRequest's MEASURED as it was when this ran), so they are read from the
index alone: on SQLite reading the table's wide rows for 33,000 requests took half of
the measures' read; PostgreSQL scanned the whole table.

On SQLite a later migration that rebuilds service_request (Alembic's batch mode: copy,
drop, rename) must drop the three triggers first and create them again after: SQLite
refuses to rename the rebuilt table into place while a trigger names a missing
"service_request" ("error in trigger ...: no such table"). Adding a column needs no
rebuild.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-01 20:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None

# portal.service.promises.CLOCK_EVENTS, as it was when this ran.
CLOCK = "('status', 'first_response')"

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER service_event_clock_insert AFTER INSERT ON service_event
        WHEN new.kind IN {CLOCK} BEGIN
        UPDATE service_request SET clock_events = clock_events + 1 WHERE id = new.request_id;
    END""",
    f"""CREATE TRIGGER service_event_clock_delete AFTER DELETE ON service_event
        WHEN old.kind IN {CLOCK} BEGIN
        UPDATE service_request SET clock_events = clock_events - 1 WHERE id = old.request_id;
    END""",
    f"""CREATE TRIGGER service_event_clock_update AFTER UPDATE OF kind, request_id
        ON service_event BEGIN
        UPDATE service_request SET clock_events = clock_events - 1
            WHERE id = old.request_id AND old.kind IN {CLOCK};
        UPDATE service_request SET clock_events = clock_events + 1
            WHERE id = new.request_id AND new.kind IN {CLOCK};
    END""",
]
POSTGRES_TRIGGERS = [
    f"""CREATE FUNCTION service_event_clock_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' AND OLD.kind IN {CLOCK} THEN
            UPDATE service_request SET clock_events = clock_events - 1
                WHERE id = OLD.request_id;
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.kind IN {CLOCK} THEN
            UPDATE service_request SET clock_events = clock_events + 1
                WHERE id = NEW.request_id;
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE TRIGGER service_event_clock_count
        AFTER INSERT OR DELETE OR UPDATE OF kind, request_id ON service_event
        FOR EACH ROW EXECUTE FUNCTION service_event_clock_count()""",
]


# portal.service.models.MEASURED, as it was when this ran.
MEASURED = [
    "opened_at",
    "kind",
    "account_id",
    "priority",
    "status",
    "outcome_version",
    "response_outcome",
    "response_seconds",
    "resolution_outcome",
    "resolution_seconds",
    "satisfied",
    "outcome_at",
    "outcome_until",
    "outcome_events",
    "clock_events",
    "id",
]


def upgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("clock_events", sa.Integer(), server_default="0", nullable=False)
        )
    op.execute(
        f"""UPDATE service_request SET clock_events = (
            SELECT count(*) FROM service_event
            WHERE service_event.request_id = service_request.id
            AND service_event.kind IN {CLOCK})"""
    )
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_TRIGGERS if sqlite else POSTGRES_TRIGGERS:
        op.execute(statement)
    op.create_index("ix_service_request_measures", "service_request", MEASURED)


def downgrade():
    op.drop_index("ix_service_request_measures", table_name="service_request")
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS service_event_clock_{name}")
    else:
        op.execute("DROP TRIGGER IF EXISTS service_event_clock_count ON service_event")
        op.execute("DROP FUNCTION IF EXISTS service_event_clock_count()")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_column("clock_events")
