"""order desk: promises, shipments, cancellation requests, promise ledger

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 19:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ORDER_STATUSES = (
    "('awaiting_approval', 'placed', 'confirmed', 'partly_shipped', 'shipped', 'delivered',"
    " 'rejected', 'cancelled')"
)
OLD_ORDER_STATUSES = "('awaiting_approval', 'placed', 'rejected', 'cancelled')"
LINE_STATUSES = "('open', 'confirmed', 'declined', 'cancelled')"


def upgrade():
    with op.batch_alter_table("customer_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "promise_basis", sa.String(length=10), nullable=False, server_default="delivery"
            )
        )
        batch_op.create_check_constraint(
            "promise_basis", "promise_basis IN ('delivery', 'shipment')"
        )

    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_customer_order_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN {ORDER_STATUSES}")
        batch_op.create_index("ix_customer_order_status_placed", ["status", "placed_at"])
        batch_op.create_index("ix_customer_order_placed", ["placed_at"])
    op.create_index("ix_customer_order_po_key", "customer_order", [sa.text("lower(po_number)")])

    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_promised_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("promised_on", sa.Date(), nullable=True))
        for name in ("shipped_quantity", "delivered_quantity", "cancelled_quantity"):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("split_from_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_order_line_split_from_id_order_line"),
            "order_line",
            ["split_from_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.drop_constraint(op.f("ck_order_line_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN {LINE_STATUSES}")
        batch_op.create_check_constraint(
            "shipped",
            "shipped_quantity >= 0 AND cancelled_quantity >= 0"
            " AND shipped_quantity + cancelled_quantity <= quantity",
        )
        batch_op.create_check_constraint(
            "delivered", "delivered_quantity >= 0 AND delivered_quantity <= shipped_quantity"
        )

    with op.batch_alter_table("order_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quantity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("on_date", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_order_event_line_id"), ["line_id"], unique=False)

    op.create_table(
        "shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=False),
        sa.Column("carrier", sa.String(length=80), nullable=False),
        sa.Column("tracking", sa.String(length=100), nullable=False),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_shipment_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_shipment_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["customer_order.id"],
            name=op.f("fk_shipment_order_id_customer_order"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment")),
    )
    with op.batch_alter_table("shipment", schema=None) as batch_op:
        batch_op.create_index("ix_shipment_order", ["order_id"], unique=False)

    op.create_table(
        "shipment_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("from_stock", sa.Integer(), nullable=False),
        sa.Column("received_quantity", sa.Integer(), nullable=True),
        sa.CheckConstraint("quantity >= 0", name=op.f("ck_shipment_line_quantity")),
        sa.CheckConstraint(
            "from_stock >= 0 AND from_stock <= quantity", name=op.f("ck_shipment_line_from_stock")
        ),
        sa.CheckConstraint(
            "received_quantity IS NULL OR (received_quantity >= 0"
            " AND received_quantity <= quantity)",
            name=op.f("ck_shipment_line_received"),
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["order_line.id"],
            name=op.f("fk_shipment_line_line_id_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipment.id"],
            name=op.f("fk_shipment_line_shipment_id_shipment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shipment_line")),
    )
    with op.batch_alter_table("shipment_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shipment_line_line_id"), ["line_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_shipment_line_shipment_id"), ["shipment_id"], unique=False
        )

    op.create_table(
        "cancellation_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("answered_by_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'declined')",
            name=op.f("ck_cancellation_request_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_cancellation_request_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["answered_by_id"],
            ["user.id"],
            name=op.f("fk_cancellation_request_answered_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["line_id"],
            ["order_line.id"],
            name=op.f("fk_cancellation_request_line_id_order_line"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["customer_order.id"],
            name=op.f("fk_cancellation_request_order_id_customer_order"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["user.id"],
            name=op.f("fk_cancellation_request_requested_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cancellation_request")),
    )
    with op.batch_alter_table("cancellation_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_cancellation_request_order_id"), ["order_id"], unique=False
        )
        batch_op.create_index(
            "ix_cancellation_request_status", ["status", "requested_at"], unique=False
        )
        batch_op.create_index(
            "uq_cancellation_request_pending",
            ["line_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )

    op.create_table(
        "promise_ledger_day",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("on_time", sa.Integer(), nullable=False),
        sa.Column("in_full", sa.Integer(), nullable=False),
        sa.Column("on_time_in_full", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.Column("slip_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_promise_ledger_day_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", "day", name=op.f("pk_promise_ledger_day")),
    )
    with op.batch_alter_table("promise_ledger_day", schema=None) as batch_op:
        batch_op.create_index("ix_promise_ledger_day_day", ["day"], unique=False)


def downgrade():
    op.drop_table("promise_ledger_day")
    op.drop_table("cancellation_request")
    op.drop_table("shipment_line")
    op.drop_table("shipment")
    with op.batch_alter_table("order_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_event_line_id"))
        batch_op.drop_column("on_date")
        batch_op.drop_column("quantity")
    with op.batch_alter_table("order_line", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_order_line_delivered"), type_="check")
        batch_op.drop_constraint(op.f("ck_order_line_shipped"), type_="check")
        batch_op.drop_constraint(op.f("ck_order_line_status"), type_="check")
        batch_op.create_check_constraint("status", "status IN ('open', 'cancelled')")
        batch_op.drop_constraint(
            batch_op.f("fk_order_line_split_from_id_order_line"), type_="foreignkey"
        )
        for name in (
            "split_from_id",
            "cancelled_quantity",
            "delivered_quantity",
            "shipped_quantity",
            "promised_on",
            "first_promised_on",
        ):
            batch_op.drop_column(name)
    op.drop_index("ix_customer_order_po_key", table_name="customer_order")
    with op.batch_alter_table("customer_order", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_order_placed")
        batch_op.drop_index("ix_customer_order_status_placed")
        batch_op.drop_constraint(op.f("ck_customer_order_status"), type_="check")
        batch_op.create_check_constraint("status", f"status IN {OLD_ORDER_STATUSES}")
    with op.batch_alter_table("customer_account", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_customer_account_promise_basis"), type_="check")
        batch_op.drop_column("promise_basis")
