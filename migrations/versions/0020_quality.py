"""quality complaints: their eight-disciplines steps and the replacement orders made from them

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 19:18:51.774413

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "quality_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(step = 'affected' AND quantity >= 1) OR (step <> 'affected' AND quantity IS NULL)",
            name=op.f("ck_quality_step_quantity"),
        ),
        sa.CheckConstraint(
            "step IN ('affected', 'containment', 'root_cause', 'corrective_action', 'verification')",
            name=op.f("ck_quality_step_step"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user.id"],
            name=op.f("fk_quality_step_recorded_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_quality_step_request_id_service_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quality_step")),
        sa.UniqueConstraint("request_id", "step", name="uq_quality_step_request_step"),
    )
    op.create_table(
        "replacement_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_replacement_order_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["customer_order.id"],
            name=op.f("fk_replacement_order_order_id_customer_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["service_request.id"],
            name=op.f("fk_replacement_order_request_id_service_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replacement_order")),
        sa.UniqueConstraint("order_id", name=op.f("uq_replacement_order_order_id")),
    )
    op.create_index("ix_replacement_order_request", "replacement_order", ["request_id"])


def downgrade():
    op.drop_index("ix_replacement_order_request", table_name="replacement_order")
    op.drop_table("replacement_order")
    op.drop_table("quality_step")
