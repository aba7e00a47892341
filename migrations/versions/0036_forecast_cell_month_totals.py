"""An index on forecast cells by version and month, with the quantity: the draft grid's
month totals (a sum per month over the whole version, 48,000 cells at 2,000 products
× 24 months) are read from it in month order, instead of reading the version's cells
in product order and sorting them by month (SQLite) or hashing them (PostgreSQL) on
every first screen of the grid.

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-02 00:30:00

"""

from alembic import op

revision = "0036"
down_revision = "0035"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(
        "ix_forecast_cell_version_month", "forecast_cell", ["version_id", "month", "quantity"]
    )


def downgrade():
    op.drop_index("ix_forecast_cell_version_month", table_name="forecast_cell")
