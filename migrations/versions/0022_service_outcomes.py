"""Service requests keep their promise clock's final answer (resolved and closed ones),
backfilled from their events by the same clock code; an index for the clock's events

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 01:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_request") as batch_op:
        batch_op.add_column(sa.Column("response_outcome", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("response_seconds", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("resolution_outcome", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("resolution_seconds", sa.Double(), nullable=True))
    with op.batch_alter_table("service_event") as batch_op:
        batch_op.create_index(
            "ix_service_event_clock", ["request_id", "kind", "id", "at", "after"], unique=False
        )
    # The same code that writes them when a request is resolved: one source of truth.
    from portal.service.promises import record_outcomes

    # The fingerprint came in 0028, the open requests' kept spans in 0031.
    record_outcomes(bind=op.get_bind(), versioned=False, spans=False)


def downgrade():
    with op.batch_alter_table("service_event") as batch_op:
        batch_op.drop_index("ix_service_event_clock")
    with op.batch_alter_table("service_request") as batch_op:
        batch_op.drop_column("resolution_seconds")
        batch_op.drop_column("resolution_outcome")
        batch_op.drop_column("response_seconds")
        batch_op.drop_column("response_outcome")
