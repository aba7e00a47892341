"""Red-alert episodes keep their reason and next step as messages for each reader

`relationship_episode.reason_message` and `next_step_message` (JSON) hold the message
id and parameters (portal.relationship.phrases' storage, as the snapshots' readings)
that are written in the reader's language when shown. A reason's message with its
nested phrases and a quoted customer comment can pass the 500 characters of the text
column, so it gets a column of its own; `reason` and `next_step` keep the English text
as before: what rows written earlier show, and what a downgrade keeps.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-01 16:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("relationship_episode", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reason_message", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("next_step_message", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("relationship_episode", schema=None) as batch_op:
        batch_op.drop_column("next_step_message")
        batch_op.drop_column("reason_message")
