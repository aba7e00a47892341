"""Cost of ownership: an account's period and its own cost of a day's delay and a defect

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-01 00:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ownership_settings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("years", sa.Integer(), nullable=False),
        sa.Column("delay_day_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("defect_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "years BETWEEN 1 AND 15", name=op.f("ck_ownership_settings_years")
        ),
        sa.CheckConstraint(
            "delay_day_cost IS NULL OR delay_day_cost >= 0",
            name=op.f("ck_ownership_settings_delay_day_cost"),
        ),
        sa.CheckConstraint(
            "defect_cost IS NULL OR defect_cost >= 0",
            name=op.f("ck_ownership_settings_defect_cost"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_ownership_settings_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user.id"],
            name=op.f("fk_ownership_settings_updated_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ownership_settings")),
    )


def downgrade():
    op.drop_table("ownership_settings")
