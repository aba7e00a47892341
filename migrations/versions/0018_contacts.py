"""The contact log and follow-ups

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-30 19:16:22

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "contact_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("vendor_people", sa.String(length=500), nullable=False),
        sa.Column("customer_people", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.String(length=200), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("next_step", sa.String(length=500), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('call', 'visit', 'meeting', 'email')", name=op.f("ck_contact_entry_kind")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_contact_entry_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_contact_entry_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_entry")),
    )
    op.create_index(
        "ix_contact_entry_account_date", "contact_entry", ["account_id", "contacted_on"]
    )

    op.create_table(
        "follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_note", sa.String(length=1000), nullable=False),
        sa.CheckConstraint(
            "kind IN ('call', 'visit', 'review', 'other')", name=op.f("ck_follow_up_kind")
        ),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_follow_up_status")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_follow_up_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contact_entry.id"],
            name=op.f("fk_follow_up_contact_id_contact_entry"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_follow_up_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["done_by_id"],
            ["user.id"],
            name=op.f("fk_follow_up_done_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["user.id"], name=op.f("fk_follow_up_owner_id_user"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up")),
    )
    op.create_index(
        "ix_follow_up_account_status_due", "follow_up", ["account_id", "status", "due_on"]
    )
    op.create_index(op.f("ix_follow_up_owner_id"), "follow_up", ["owner_id"])


def downgrade():
    op.drop_index(op.f("ix_follow_up_owner_id"), table_name="follow_up")
    op.drop_index("ix_follow_up_account_status_due", table_name="follow_up")
    op.drop_table("follow_up")
    op.drop_index("ix_contact_entry_account_date", table_name="contact_entry")
    op.drop_table("contact_entry")
