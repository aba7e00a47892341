"""cXML: credentials per account, stored answers, order links, outbound log, PunchOut

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-30 19:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _account_fk(table: str):
    return sa.ForeignKeyConstraint(
        ["account_id"],
        ["customer_account.id"],
        name=op.f(f"fk_{table}_account_id_customer_account"),
        ondelete="CASCADE",
    )


def _order_fk(table: str):
    return sa.ForeignKeyConstraint(
        ["order_id"],
        ["customer_order.id"],
        name=op.f(f"fk_{table}_order_id_customer_order"),
        ondelete="CASCADE",
    )


def upgrade():
    op.create_table(
        "cxml_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=40), nullable=False),
        sa.Column("identity", sa.String(length=100), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("acting_user_id", sa.Integer(), nullable=False),
        sa.Column("outbound_url", sa.String(length=500), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        _account_fk("cxml_credential"),
        sa.ForeignKeyConstraint(
            ["acting_user_id"],
            ["user.id"],
            name=op.f("fk_cxml_credential_acting_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user.id"],
            name=op.f("fk_cxml_credential_updated_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cxml_credential")),
        sa.UniqueConstraint("account_id", name=op.f("uq_cxml_credential_account_id")),
        sa.UniqueConstraint("domain", "identity", name="uq_cxml_credential_identity"),
    )
    op.create_table(
        "cxml_inbound",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("payload_id", sa.String(length=250), nullable=False),
        sa.Column("document_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_xml", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        _account_fk("cxml_inbound"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cxml_inbound")),
        sa.UniqueConstraint("account_id", "payload_id", name="uq_cxml_inbound_payload"),
    )
    op.create_index(op.f("ix_cxml_inbound_created_at"), "cxml_inbound", ["created_at"])
    op.create_table(
        "cxml_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("order_ref", sa.String(length=100), nullable=False),
        sa.Column("payload_id", sa.String(length=250), nullable=False),
        sa.Column("order_date", sa.String(length=40), nullable=False),
        sa.Column("line_numbers", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _account_fk("cxml_order"),
        _order_fk("cxml_order"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cxml_order")),
        sa.UniqueConstraint("order_id", name=op.f("uq_cxml_order_order_id")),
        sa.UniqueConstraint("account_id", "order_ref", name="uq_cxml_order_ref"),
    )
    op.create_table(
        "cxml_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("cause", sa.String(length=60), nullable=False),
        sa.Column("payload_id", sa.String(length=250), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("give_up_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status", sa.String(length=40), nullable=True),
        sa.Column("last_answer", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _account_fk("cxml_message"),
        _order_fk("cxml_message"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cxml_message")),
        sa.UniqueConstraint("payload_id", name=op.f("uq_cxml_message_payload_id")),
    )
    op.create_index(op.f("ix_cxml_message_account_id"), "cxml_message", ["account_id"])
    op.create_index("ix_cxml_message_due", "cxml_message", ["state", "next_attempt_at"])
    op.create_table(
        "punchout_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("payload_id", sa.String(length=250), nullable=False),
        sa.Column("operation", sa.String(length=10), nullable=False),
        sa.Column("buyer_cookie", sa.String(length=500), nullable=False),
        sa.Column("browser_form_post", sa.String(length=500), nullable=False),
        sa.Column("items", sa.JSON(), nullable=True),
        sa.Column("start_token_hash", sa.String(length=64), nullable=False),
        sa.Column("start_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _account_fk("punchout_session"),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_punchout_session_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_punchout_session")),
        sa.UniqueConstraint("start_token_hash", name=op.f("uq_punchout_session_start_token_hash")),
        sa.UniqueConstraint("account_id", "payload_id", name="uq_punchout_session_payload"),
    )


def downgrade():
    op.drop_table("punchout_session")
    op.drop_index("ix_cxml_message_due", table_name="cxml_message")
    op.drop_index(op.f("ix_cxml_message_account_id"), table_name="cxml_message")
    op.drop_table("cxml_message")
    op.drop_table("cxml_order")
    op.drop_index(op.f("ix_cxml_inbound_created_at"), table_name="cxml_inbound")
    op.drop_table("cxml_inbound")
    op.drop_table("cxml_credential")
