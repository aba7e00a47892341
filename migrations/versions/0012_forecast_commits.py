"""forecast commits: the vendor's commitments per product and month, and each
account's exception threshold

Commitments are never updated: each is a new row, the newest per (account,
product, month) is in force, the older ones are the history.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27 00:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("forecast_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("exception_threshold_percent", sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_forecast_settings_threshold"),
            "exception_threshold_percent BETWEEN 1 AND 1000",
        )

    op.create_table(
        "forecast_commit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("forecast_quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=False),
        sa.Column("committed_by_id", sa.Integer(), nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_forecast_commit_quantity")),
        sa.CheckConstraint(
            "forecast_quantity >= 0", name=op.f("ck_forecast_commit_forecast_quantity")
        ),
        sa.CheckConstraint(
            "reason IS NULL OR reason IN ('capacity', 'material', 'lead_time', 'other')",
            name=op.f("ck_forecast_commit_reason"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_forecast_commit_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_forecast_commit_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["committed_by_id"],
            ["user.id"],
            name=op.f("fk_forecast_commit_committed_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id", "account_id"],
            ["forecast_version.id", "forecast_version.account_id"],
            name="fk_forecast_commit_version",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_commit")),
    )
    with op.batch_alter_table("forecast_commit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_forecast_commit_current", ["account_id", "month", "product_id", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("forecast_commit", schema=None) as batch_op:
        batch_op.drop_index("ix_forecast_commit_current")
    op.drop_table("forecast_commit")
    with op.batch_alter_table("forecast_settings", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_forecast_settings_threshold"), type_="check")
        batch_op.drop_column("exception_threshold_percent")
