"""The promise ledger's lateness figures; relationship ratings and reviews

Revision ID: 0016_scorecard
Revises: 0015
Create Date: 2026-11-30 19:40:00

`promise_ledger_day` gains `late_lines` and `late_days` (how late the lines that
arrived late came). The ledger also counts a line the customer cancelled after its
promised date as a broken promise now: existing days hold the old figures until
the ledger is rebuilt from the events (`portal.fulfilment.ledger.rebuild()`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_scorecard"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("promise_ledger_day", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("late_lines", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("late_days", sa.Integer(), nullable=False, server_default="0")
        )

    op.create_table(
        "relationship_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score BETWEEN 1 AND 5", name=op.f("ck_relationship_rating_score_1_to_5")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_relationship_rating_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_relationship_rating_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_rating")),
    )
    op.create_index(
        "ix_relationship_rating_account_rated", "relationship_rating", ["account_id", "rated_at"]
    )

    op.create_table(
        "relationship_review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trend", sa.String(length=20), nullable=True),
        sa.Column("neglected", sa.Text(), nullable=False),
        sa.Column("comparison", sa.Text(), nullable=False),
        sa.Column("actions", sa.Text(), nullable=False),
        sa.Column("assessed_by_id", sa.Integer(), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "period_start <= period_end", name=op.f("ck_relationship_review_period_in_order")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_relationship_review_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_review_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["assessed_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_review_assessed_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"],
            ["user.id"],
            name=op.f("fk_relationship_review_shared_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_relationship_review")),
    )
    op.create_index(
        "ix_relationship_review_account_period",
        "relationship_review",
        ["account_id", "period_end"],
    )

    op.create_table(
        "review_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["review_id"],
            ["relationship_review.id"],
            name=op.f("fk_review_comment_review_id_relationship_review"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_review_comment_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_review_comment_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comment")),
    )
    op.create_index(op.f("ix_review_comment_review_id"), "review_comment", ["review_id"])

    op.create_table(
        "review_reminder",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_review_reminder_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "period_start", name=op.f("pk_review_reminder")),
    )


def downgrade():
    op.drop_table("review_reminder")
    op.drop_index(op.f("ix_review_comment_review_id"), table_name="review_comment")
    op.drop_table("review_comment")
    op.drop_index("ix_relationship_review_account_period", table_name="relationship_review")
    op.drop_table("relationship_review")
    op.drop_index("ix_relationship_rating_account_rated", table_name="relationship_rating")
    op.drop_table("relationship_rating")
    with op.batch_alter_table("promise_ledger_day", schema=None) as batch_op:
        batch_op.drop_column("late_days")
        batch_op.drop_column("late_lines")
