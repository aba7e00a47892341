"""Currency per account: accounts, contract prices and products' list prices per currency

A customer account is priced in its own currency (`customer_account.currency`); its
contract prices carry the currency they were agreed in (`contract_price.currency`);
`product_price` holds a product's list prices in currencies other than the vendor's
base one. `product.list_price` stays the price in the base currency (the CURRENCY
setting), so existing accounts, prices and orders read exactly as before: every
account and contract price is filled with the setting.

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-01 10:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def _base_currency() -> str:
    # `flask db upgrade` runs inside the app; a bare `alembic` run gets the shipped default.
    from flask import current_app, has_app_context

    return current_app.config.get("CURRENCY", "EUR") if has_app_context() else "EUR"


def upgrade():
    base = _base_currency()
    for table in ("customer_account", "contract_price"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("currency", sa.String(length=3), server_default=base, nullable=False)
            )
        # The model supplies the default from the setting at insert time; a server
        # default frozen at migration time would outlive a change of the setting.
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("currency", server_default=None)
    op.create_table(
        "product_price",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_product_price_amount")),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_product_price_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", "currency", name=op.f("pk_product_price")),
    )


def downgrade():
    op.drop_table("product_price")
    for table in ("contract_price", "customer_account"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("currency")
