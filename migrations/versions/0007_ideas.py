"""design suggestions: ideas, linked products, thread messages, events

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 20:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATUSES = (
    "('draft', 'submitted', 'under_review', 'needs_information', 'accepted', 'declined',"
    " 'planned', 'implemented')"
)
CATEGORIES = "('design', 'material', 'process', 'packaging', 'logistics', 'documentation', 'other')"


def upgrade():
    op.create_table(
        "idea",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("expected_saving", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("expected_benefit", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer_due_on", sa.Date(), nullable=True),
        sa.Column("first_answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("realised_saving", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.CheckConstraint(f"status IN {STATUSES}", name=op.f("ck_idea_status")),
        sa.CheckConstraint(f"category IN {CATEGORIES}", name=op.f("ck_idea_category")),
        sa.CheckConstraint("direction IN ('customer', 'vendor')", name=op.f("ck_idea_direction")),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_idea_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["user.id"], name=op.f("fk_idea_assignee_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_idea_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea")),
    )
    with op.batch_alter_table("idea", schema=None) as batch_op:
        batch_op.create_index("ix_idea_account_activity", ["account_id", "last_activity_at"])
        batch_op.create_index("ix_idea_status_due", ["status", "direction", "answer_due_on"])
        batch_op.create_index("ix_idea_queue", ["first_answered_at", "answer_due_on"])
        batch_op.create_index("ix_idea_activity", ["last_activity_at"])

    op.create_table(
        "idea_product",
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["idea.id"], name=op.f("fk_idea_product_idea_id_idea"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_idea_product_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("idea_id", "product_id", name=op.f("pk_idea_product")),
    )

    op.create_table(
        "idea_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("internal", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('message', 'question', 'answer', 'note')", name=op.f("ck_idea_message_kind")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user.id"],
            name=op.f("fk_idea_message_author_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["idea.id"], name=op.f("fk_idea_message_idea_id_idea"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_message")),
    )
    with op.batch_alter_table("idea_message", schema=None) as batch_op:
        batch_op.create_index("ix_idea_message_idea", ["idea_id", "id"])

    op.create_table(
        "idea_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idea_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("before", sa.String(length=30), nullable=True),
        sa.Column("after", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_idea_event_actor_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["idea_id"], ["idea.id"], name=op.f("fk_idea_event_idea_id_idea"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idea_event")),
    )
    with op.batch_alter_table("idea_event", schema=None) as batch_op:
        batch_op.create_index("ix_idea_event_idea", ["idea_id", "id"])


def downgrade():
    op.drop_table("idea_event")
    op.drop_table("idea_message")
    op.drop_table("idea_product")
    op.drop_table("idea")
