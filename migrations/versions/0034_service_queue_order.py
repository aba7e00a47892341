"""The service queue's order, kept by the database so an index gives it: two generated
columns, `queue_rank` (0-3: open, by priority; 4: resolved or closed) and
`queue_opened_at` (opened_at while open, NULL after), and an index on them with the
latest activity and the id, newest first. The queue's page then stops after a page
instead of sorting every matching request by CASE expressions (at 108,000 requests
PostgreSQL scanned the table and sorted the 10,000 open ones, ~20 ms, all of them for
"all statuses").

Generated, not written by the application: they follow status and priority on every
write, whatever path writes them. SQLite can add a generated column without rebuilding
the table only as VIRTUAL (computed when read; its index stores the values), and a
rebuild would have to drop and remake 0033's triggers; PostgreSQL before 18 has STORED
ones only (the table is rewritten once). Nothing to backfill.

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-01 21:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None

# portal.service.models.QUEUE_RANK and QUEUE_OPENED_AT, as they were when this ran.
QUEUE_RANK = (
    "CASE status WHEN 'resolved' THEN 4 WHEN 'closed' THEN 4 ELSE CASE priority "
    "WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 WHEN 'low' THEN 3 ELSE NULL "
    "END END"
)
QUEUE_OPENED_AT = "CASE status WHEN 'resolved' THEN NULL WHEN 'closed' THEN NULL ELSE opened_at END"


def upgrade():
    stored = op.get_bind().dialect.name != "sqlite"
    # Not in batch mode: on SQLite an added VIRTUAL column is a plain ALTER TABLE.
    op.add_column(
        "service_request",
        sa.Column(
            "queue_rank", sa.Integer(), sa.Computed(QUEUE_RANK, persisted=stored), nullable=False
        ),
    )
    op.add_column(
        "service_request",
        sa.Column(
            "queue_opened_at",
            sa.DateTime(timezone=True),
            sa.Computed(QUEUE_OPENED_AT, persisted=stored),
            nullable=True,
        ),
    )
    op.create_index(
        "ix_service_request_queue_order",
        "service_request",
        ["queue_rank", "queue_opened_at", sa.text("last_activity_at DESC"), sa.text("id DESC")],
    )


def downgrade():
    op.drop_index("ix_service_request_queue_order", table_name="service_request")
    # SQLite (3.35 and later) drops a column in place: no rebuild, 0033's triggers stay.
    op.drop_column("service_request", "queue_opened_at")
    op.drop_column("service_request", "queue_rank")
