"""Relationship health: signal settings, daily snapshots, red episodes

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 20:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "relationship_signal_setting",
        sa.Column("signal", sa.String(length=30), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("amber", sa.Double(), nullable=False),
        sa.Column("red", sa.Double(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_signal_setting_updated_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("signal", name=op.f("pk_relationship_signal_setting")),
    )
    op.create_table(
        "relationship_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("signals", sa.JSON(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_relationship_snapshot_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_snapshot")),
        sa.UniqueConstraint("account_id", "day", name="uq_relationship_snapshot_day"),
    )
    op.create_index(
        op.f("ix_relationship_snapshot_account_id"), "relationship_snapshot", ["account_id"]
    )
    op.create_index(op.f("ix_relationship_snapshot_day"), "relationship_snapshot", ["day"])
    op.create_table(
        "relationship_episode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_id", sa.Integer(), nullable=True),
        sa.Column("next_step", sa.String(length=500), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_relationship_episode_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["user.id"],
            name=op.f("fk_relationship_episode_manager_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_episode_acknowledged_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_episode")),
    )
    op.create_index(
        "ix_relationship_episode_open",
        "relationship_episode",
        ["account_id", "subject", "ended_on"],
    )
    # Indexes on other areas' tables for the refresh's set-based reads (models.py says why).
    op.create_index(
        "ix_idea_message_relationship",
        "idea_message",
        ["idea_id", "created_at", "internal", "author_id"],
    )
    op.create_index(
        "ix_service_message_relationship",
        "service_message",
        ["request_id", "created_at", "internal", "author_id"],
    )
    due = sa.text("status = 'confirmed' AND delivered_quantity < quantity")
    op.create_index(
        "ix_order_line_still_due",
        "order_line",
        ["promised_on"],
        sqlite_where=due,
        postgresql_where=due,
    )


def downgrade():
    op.drop_index("ix_order_line_still_due", table_name="order_line")
    op.drop_index("ix_service_message_relationship", table_name="service_message")
    op.drop_index("ix_idea_message_relationship", table_name="idea_message")
    op.drop_index("ix_relationship_episode_open", table_name="relationship_episode")
    op.drop_table("relationship_episode")
    op.drop_index(op.f("ix_relationship_snapshot_day"), table_name="relationship_snapshot")
    op.drop_index(op.f("ix_relationship_snapshot_account_id"), table_name="relationship_snapshot")
    op.drop_table("relationship_snapshot")
    op.drop_table("relationship_signal_setting")
