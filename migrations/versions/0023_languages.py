"""Languages: each person's own and a customer account's default for its users

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 00:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("customer_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("default_language", sa.String(length=8), nullable=True))
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("language")
    with op.batch_alter_table("customer_account", schema=None) as batch_op:
        batch_op.drop_column("default_language")
