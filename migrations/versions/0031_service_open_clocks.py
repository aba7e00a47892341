"""Open service requests keep their promise clock's answer too, with the span it holds
for: from when it was computed, until a running promise falls due (none for a breached
or paused one) and while the request has the same number of clock events. The job
`keep_service_clocks` fills them within minutes; until then the measures run the clock,
so nothing is backfilled here.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-01 17:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("outcome_events", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_column("outcome_events")
        batch_op.drop_column("outcome_until")
        batch_op.drop_column("outcome_at")
