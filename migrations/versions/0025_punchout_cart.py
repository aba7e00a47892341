"""A PunchOut session keeps its own cart: cart lines name the cart they belong to

Starting a PunchOut emptied the procurement user's own cart (their browser cart was
lost). Lines now carry `cart_name` ("" the user's own, "punchout:<id>" a session's), and
a product is once per user and cart.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-01 04:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cart_line", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cart_name", sa.String(length=40), server_default="", nullable=False)
        )
        batch_op.drop_constraint("uq_cart_line_user_product", type_="unique")
        batch_op.create_unique_constraint(
            "uq_cart_line_user_cart_product", ["user_id", "cart_name", "product_id"]
        )


def downgrade():
    # The users' own carts stay; PunchOut carts have no place without the column.
    op.execute(sa.text("DELETE FROM cart_line WHERE cart_name <> ''"))
    with op.batch_alter_table("cart_line", schema=None) as batch_op:
        batch_op.drop_constraint("uq_cart_line_user_cart_product", type_="unique")
        batch_op.create_unique_constraint("uq_cart_line_user_product", ["user_id", "product_id"])
        batch_op.drop_column("cart_name")
