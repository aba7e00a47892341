"""forecast commitments in force: one row per (account, product, month) naming the
newest commitment, so the commit page reads one row per cell instead of walking every
commitment ever written (backfilled from the commitment rows); and the page's counts
over the whole grid, kept per account for the version pair and threshold counted.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-01 10:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "forecast_commit_in_force",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("commit_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("forecast_quantity", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["commit_id"],
            ["forecast_commit.id"],
            name=op.f("fk_forecast_commit_in_force_commit_id_forecast_commit"),
        ),
        sa.PrimaryKeyConstraint(
            "account_id", "product_id", "month", name=op.f("pk_forecast_commit_in_force")
        ),
        sqlite_with_rowid=False,
    )
    # The newest row per cell is the one in force (ids grow with every commit).
    op.execute(
        "INSERT INTO forecast_commit_in_force "
        "(account_id, product_id, month, commit_id, quantity, forecast_quantity) "
        "SELECT c.account_id, c.product_id, c.month, c.id, c.quantity, c.forecast_quantity "
        "FROM forecast_commit c JOIN ("
        "SELECT max(id) AS id FROM forecast_commit GROUP BY account_id, product_id, month"
        ") newest ON newest.id = c.id"
    )

    op.create_table(
        "forecast_commit_summary",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("previous_id", sa.Integer(), nullable=True),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("products", sa.Integer(), nullable=False),
        sa.Column("below", sa.Integer(), nullable=False),
        sa.Column("forecast_changed", sa.Integer(), nullable=False),
        sa.Column("not_committed", sa.Integer(), nullable=False),
        sa.Column("exceptions", sa.Integer(), nullable=False),
        sa.Column("new_products", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_forecast_commit_summary_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_forecast_commit_summary")),
    )
    # No backfill: the first view of each commit page counts and keeps its row.


def downgrade():
    op.drop_table("forecast_commit_summary")
    op.drop_table("forecast_commit_in_force")
