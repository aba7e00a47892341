"""suggestions: followers, and merging duplicates (status "merged", merged_into_id)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 00:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

OLD_STATUSES = (
    "('draft', 'submitted', 'under_review', 'needs_information', 'accepted', 'declined',"
    " 'planned', 'implemented')"
)
NEW_STATUSES = OLD_STATUSES[:-1] + ", 'merged')"


def upgrade():
    op.create_table(
        "idea_follower",
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["idea.id"], name=op.f("fk_idea_follower_idea_id_idea"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_idea_follower_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("idea_id", "user_id", name=op.f("pk_idea_follower")),
    )
    op.create_index("ix_idea_follower_user", "idea_follower", ["user_id"])
    # SQLite cannot alter a CHECK constraint: batch mode rebuilds the table.
    with op.batch_alter_table("idea") as batch:
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_idea_merged_into_id_idea"),
            "idea",
            ["merged_into_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.drop_constraint(op.f("ck_idea_status"), type_="check")
        batch.create_check_constraint("status", f"status IN {NEW_STATUSES}")
    # Partial: the planner then knows how few suggestions are merged.
    op.create_index(
        "ix_idea_merged_into",
        "idea",
        ["merged_into_id"],
        sqlite_where=sa.text("merged_into_id IS NOT NULL"),
        postgresql_where=sa.text("merged_into_id IS NOT NULL"),
    )


def downgrade():
    op.execute("UPDATE idea SET status = 'declined' WHERE status = 'merged'")
    op.drop_index("ix_idea_merged_into", table_name="idea")
    with op.batch_alter_table("idea") as batch:
        batch.drop_constraint(op.f("ck_idea_status"), type_="check")
        batch.create_check_constraint("status", f"status IN {OLD_STATUSES}")
        batch.drop_constraint(op.f("fk_idea_merged_into_id_idea"), type_="foreignkey")
        batch.drop_column("merged_into_id")
    op.drop_index("ix_idea_follower_user", table_name="idea_follower")
    op.drop_table("idea_follower")
