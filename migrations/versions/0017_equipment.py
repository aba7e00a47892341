"""Installed equipment: products marked as equipment (warranty, maintenance plan, kit,
consumables), serialised units at customers' sites; service requests point to a unit

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 19:12:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "equipment_spec",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("warranty_months", sa.Integer(), nullable=False),
        sa.Column("maintenance_interval_months", sa.Integer(), nullable=True),
        sa.Column("maintenance_labour_hours", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("maintenance_labour_rate", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "maintenance_interval_months IS NULL OR maintenance_interval_months >= 1",
            name=op.f("ck_equipment_spec_interval"),
        ),
        sa.CheckConstraint(
            "maintenance_labour_hours IS NULL OR maintenance_labour_hours >= 0",
            name=op.f("ck_equipment_spec_labour"),
        ),
        sa.CheckConstraint(
            "maintenance_labour_rate IS NULL OR maintenance_labour_rate >= 0",
            name=op.f("ck_equipment_spec_rate"),
        ),
        sa.CheckConstraint("warranty_months >= 0", name=op.f("ck_equipment_spec_warranty")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_equipment_spec_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_equipment_spec")),
    )
    op.create_table(
        "equipment_consumable",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_product_id", sa.Integer(), nullable=False),
        sa.Column("consumable_product_id", sa.Integer(), nullable=False),
        sa.Column("quantity_per_year", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.CheckConstraint("quantity_per_year > 0", name=op.f("ck_equipment_consumable_quantity")),
        sa.ForeignKeyConstraint(
            ["consumable_product_id"],
            ["product.id"],
            name=op.f("fk_equipment_consumable_consumable_product_id_product"),
        ),
        sa.ForeignKeyConstraint(
            ["equipment_product_id"],
            ["equipment_spec.product_id"],
            name=op.f("fk_equipment_consumable_equipment_product_id_equipment_spec"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_consumable")),
        sa.UniqueConstraint(
            "equipment_product_id", "consumable_product_id", name="uq_equipment_consumable"
        ),
    )
    with op.batch_alter_table("equipment_consumable", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_equipment_consumable_consumable_product_id"),
            ["consumable_product_id"],
            unique=False,
        )

    op.create_table(
        "maintenance_kit_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("equipment_product_id", sa.Integer(), nullable=False),
        sa.Column("part_product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.CheckConstraint("quantity >= 1", name=op.f("ck_maintenance_kit_line_quantity")),
        sa.ForeignKeyConstraint(
            ["equipment_product_id"],
            ["equipment_spec.product_id"],
            name=op.f("fk_maintenance_kit_line_equipment_product_id_equipment_spec"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["part_product_id"],
            ["product.id"],
            name=op.f("fk_maintenance_kit_line_part_product_id_product"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_maintenance_kit_line")),
        sa.UniqueConstraint("equipment_product_id", "part_product_id", name="uq_kit_line_part"),
    )
    with op.batch_alter_table("maintenance_kit_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_maintenance_kit_line_part_product_id"), ["part_product_id"], unique=False
        )

    op.create_table(
        "equipment_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=100), nullable=False),
        sa.Column("serial_key", sa.String(length=100), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("shipped_on", sa.Date(), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("installed_on", sa.Date(), nullable=True),
        sa.Column("warranty_until", sa.Date(), nullable=True),
        sa.Column("order_line_id", sa.Integer(), nullable=True),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('shipped', 'imported')", name=op.f("ck_equipment_unit_source")
        ),
        sa.CheckConstraint(
            "status IN ('in_service', 'under_repair', 'retired')",
            name=op.f("ck_equipment_unit_status"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_equipment_unit_account_id_customer_account"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_equipment_unit_created_by_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_line_id"],
            ["order_line.id"],
            name=op.f("fk_equipment_unit_order_line_id_order_line"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_equipment_unit_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"],
            ["shipment.id"],
            name=op.f("fk_equipment_unit_shipment_id_shipment"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["address.id"],
            name=op.f("fk_equipment_unit_site_id_address"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_unit")),
        sa.UniqueConstraint("product_id", "serial_key", name="uq_equipment_unit_serial"),
    )
    with op.batch_alter_table("equipment_unit", schema=None) as batch_op:
        batch_op.create_index(
            "ix_equipment_unit_account", ["account_id", "site_id", "id"], unique=False
        )
        batch_op.create_index("ix_equipment_unit_order_line", ["order_line_id"], unique=False)
        batch_op.create_index(
            "ix_equipment_unit_product", ["product_id", "account_id"], unique=False
        )
        batch_op.create_index("ix_equipment_unit_shipment", ["shipment_id"], unique=False)
        batch_op.create_index("ix_equipment_unit_serial_key", ["serial_key"], unique=False)

    # The column existed without a key: values from before pointed at nothing.
    op.execute("UPDATE service_request SET equipment_id = NULL")
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.create_index(
            "ix_service_request_equipment", ["equipment_id", "kind", "resolved_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_service_request_equipment_id_equipment_unit"),
            "equipment_unit",
            ["equipment_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_service_request_equipment_id_equipment_unit"), type_="foreignkey"
        )
        batch_op.drop_index("ix_service_request_equipment")

    with op.batch_alter_table("equipment_unit", schema=None) as batch_op:
        batch_op.drop_index("ix_equipment_unit_serial_key")
        batch_op.drop_index("ix_equipment_unit_shipment")
        batch_op.drop_index("ix_equipment_unit_product")
        batch_op.drop_index("ix_equipment_unit_order_line")
        batch_op.drop_index("ix_equipment_unit_account")

    op.drop_table("equipment_unit")
    with op.batch_alter_table("maintenance_kit_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_maintenance_kit_line_part_product_id"))

    op.drop_table("maintenance_kit_line")
    with op.batch_alter_table("equipment_consumable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_consumable_consumable_product_id"))

    op.drop_table("equipment_consumable")
    op.drop_table("equipment_spec")
