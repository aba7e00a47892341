"""Notifications keep their kind's parameters, rendered in the reader's language

`notification.params` (JSON) holds what the sentence of its kind needs (order number,
dates, amounts, labels); the sentence is written when read, in the reader's language
and zone. Rows written before keep no parameters and show their stored English
`text`, which every row still carries, so the downgrade only drops the column and
loses no notification.

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-01 13:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_column("params")
