"""Kept promise outcomes carry the fingerprint of the calendar and targets they were
computed with, so a reader falls back to the clock while they are stale (between a
change of the calendar, holidays or targets and the rewrite job); backfilled by the
same code that writes them

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-01 10:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_version", sa.String(length=16), nullable=True))
    # Without it every kept answer would read as stale until the next rewrite job.
    from portal.service.promises import record_outcomes

    record_outcomes(bind=op.get_bind(), spans=False)  # the kept spans came in 0031


def downgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_column("outcome_version")
