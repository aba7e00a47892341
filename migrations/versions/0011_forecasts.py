"""forecasts: per-account settings, the draft and published versions, cells, events

Cells are keyed (version_id, product_id, month): every read of a version is a
range of the primary key. On SQLite the table is WITHOUT ROWID (clustered).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "forecast_settings",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("horizon_months", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "horizon_months BETWEEN 1 AND 24", name=op.f("ck_forecast_settings_horizon")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_forecast_settings_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user.id"],
            name=op.f("fk_forecast_settings_updated_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_forecast_settings")),
    )
    op.create_table(
        "forecast_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("first_month", sa.Date(), nullable=False),
        sa.Column("horizon_months", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("cells_changed", sa.Integer(), nullable=True),
        sa.Column("total_quantity", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "(number = 0 AND published_at IS NULL) OR (number > 0 AND published_at IS NOT NULL)",
            name=op.f("ck_forecast_version_published"),
        ),
        sa.CheckConstraint("number >= 0", name=op.f("ck_forecast_version_number")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_forecast_version_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_forecast_version_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["published_by_id"],
            ["user.id"],
            name=op.f("fk_forecast_version_published_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_version")),
        sa.UniqueConstraint("account_id", "number", name="uq_forecast_version_number"),
        sa.UniqueConstraint("id", "account_id", name="uq_forecast_version_id_account"),
    )
    with op.batch_alter_table("forecast_version", schema=None) as batch_op:
        batch_op.create_index("ix_forecast_version_published", ["published_at"], unique=False)

    op.create_table(
        "forecast_cell",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_forecast_cell_quantity")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_forecast_cell_product_id_product")
        ),
        # One key for the version and its account: one lookup per inserted cell.
        sa.ForeignKeyConstraint(
            ["version_id", "account_id"],
            ["forecast_version.id", "forecast_version.account_id"],
            name="fk_forecast_cell_version",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("version_id", "product_id", "month", name=op.f("pk_forecast_cell")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "forecast_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("before", sa.String(length=30), nullable=True),
        sa.Column("after", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_forecast_event_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
            name=op.f("fk_forecast_event_actor_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["forecast_version.id"],
            name=op.f("fk_forecast_event_version_id_forecast_version"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecast_event")),
    )
    with op.batch_alter_table("forecast_event", schema=None) as batch_op:
        batch_op.create_index("ix_forecast_event_account", ["account_id", "id"], unique=False)


def downgrade():
    with op.batch_alter_table("forecast_event", schema=None) as batch_op:
        batch_op.drop_index("ix_forecast_event_account")

    op.drop_table("forecast_event")
    op.drop_table("forecast_cell")
    with op.batch_alter_table("forecast_version", schema=None) as batch_op:
        batch_op.drop_index("ix_forecast_version_published")

    op.drop_table("forecast_version")
    op.drop_table("forecast_settings")
