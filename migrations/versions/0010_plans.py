"""shared plans: plans, immutable revisions with their accounts and products,
acknowledgements per revision, events

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26 23:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

KINDS = (
    "('capacity', 'shutdown', 'new_product', 'discontinuation', 'lead_time', 'price',"
    " 'volume', 'launch', 'other')"
)


def upgrade():
    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("revision_number", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_by_id", sa.Integer(), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=500), nullable=False),
        sa.CheckConstraint("side IN ('vendor', 'customer')", name=op.f("ck_plan_side")),
        sa.CheckConstraint("status IN ('active', 'withdrawn')", name=op.f("ck_plan_status")),
        sa.CheckConstraint(
            "(side = 'customer' AND account_id IS NOT NULL) "
            "OR (side = 'vendor' AND account_id IS NULL)",
            name=op.f("ck_plan_side_account"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_plan_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_plan_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["withdrawn_by_id"],
            ["user.id"],
            name=op.f("fk_plan_withdrawn_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index("ix_plan_account", ["account_id"])

    op.create_table(
        "plan_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("visibility", sa.String(length=10), nullable=False),
        sa.Column("change_note", sa.String(length=500), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"kind IN {KINDS}", name=op.f("ck_plan_revision_kind")),
        sa.CheckConstraint(
            "visibility IN ('all', 'chosen', 'vendor')", name=op.f("ck_plan_revision_visibility")
        ),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from",
            name=op.f("ck_plan_revision_effective_dates"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_plan_revision_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_revision_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_revision")),
        sa.UniqueConstraint("plan_id", "number", name=op.f("uq_plan_revision_plan_id")),
    )
    with op.batch_alter_table("plan_revision", schema=None) as batch_op:
        batch_op.create_index("ix_plan_revision_effective", ["effective_from", "effective_to"])

    op.create_table(
        "plan_revision_account",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_plan_revision_account_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["plan_revision.id"],
            name=op.f("fk_plan_revision_account_revision_id_plan_revision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("revision_id", "account_id", name=op.f("pk_plan_revision_account")),
    )
    with op.batch_alter_table("plan_revision_account", schema=None) as batch_op:
        batch_op.create_index("ix_plan_revision_account_account", ["account_id", "revision_id"])

    op.create_table(
        "plan_revision_product",
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_plan_revision_product_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["plan_revision.id"],
            name=op.f("fk_plan_revision_product_revision_id_plan_revision"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("revision_id", "product_id", name=op.f("pk_plan_revision_product")),
    )
    with op.batch_alter_table("plan_revision_product", schema=None) as batch_op:
        batch_op.create_index("ix_plan_revision_product_product", ["product_id", "revision_id"])

    op.create_table(
        "plan_acknowledgement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["plan_revision.id"],
            name=op.f("fk_plan_acknowledgement_revision_id_plan_revision"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_plan_acknowledgement_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_acknowledgement")),
        sa.UniqueConstraint(
            "revision_id", "user_id", name=op.f("uq_plan_acknowledgement_revision_id")
        ),
    )
    with op.batch_alter_table("plan_acknowledgement", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_acknowledgement_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "plan_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("before", sa.String(length=30), nullable=True),
        sa.Column("after", sa.String(length=30), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_plan_event_actor_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plan.id"], name=op.f("fk_plan_event_plan_id_plan"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_event")),
    )
    with op.batch_alter_table("plan_event", schema=None) as batch_op:
        batch_op.create_index("ix_plan_event_plan", ["plan_id", "id"])


def downgrade():
    op.drop_table("plan_event")
    op.drop_table("plan_acknowledgement")
    op.drop_table("plan_revision_product")
    op.drop_table("plan_revision_account")
    op.drop_table("plan_revision")
    op.drop_table("plan")
