"""saved lists

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 16:15:42.005649

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "saved_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_saved_list_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_saved_list_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_list")),
        sa.UniqueConstraint("account_id", "name", name="uq_saved_list_name"),
    )
    with op.batch_alter_table("saved_list", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_list_account_id"), ["account_id"], unique=False)

    op.create_table(
        "saved_list_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_saved_list_line_quantity")),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["saved_list.id"],
            name=op.f("fk_saved_list_line_list_id_saved_list"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_saved_list_line_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_saved_list_line")),
    )
    with op.batch_alter_table("saved_list_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_saved_list_line_list_id"), ["list_id"], unique=False)


def downgrade():
    with op.batch_alter_table("saved_list_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_list_line_list_id"))

    op.drop_table("saved_list_line")
    with op.batch_alter_table("saved_list", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_saved_list_account_id"))

    op.drop_table("saved_list")
