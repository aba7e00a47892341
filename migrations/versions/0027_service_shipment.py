"""A service request may concern a shipment (a delivery complaint, damage in transit):
the shipment it was opened from, shown and linked on the request

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shipment_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_service_request_shipment_id_shipment"),
            "shipment",
            ["shipment_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_service_request_shipment", ["shipment_id"], unique=False)


def downgrade():
    with op.batch_alter_table("service_request", schema=None) as batch_op:
        batch_op.drop_index("ix_service_request_shipment")
        batch_op.drop_constraint(
            batch_op.f("fk_service_request_shipment_id_shipment"), type_="foreignkey"
        )
        batch_op.drop_column("shipment_id")
