"""catalog: categories, products, stock, contract prices, product search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 15:51:45.208711

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "category",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
        sa.UniqueConstraint("name", name=op.f("uq_category_name")),
    )
    op.create_table(
        "product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("sku_key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("category_id", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=10), nullable=False),
        sa.Column("pack_size", sa.Integer(), nullable=False),
        sa.Column("min_order_qty", sa.Integer(), nullable=False),
        sa.Column("order_multiple", sa.Integer(), nullable=False),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("list_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("replacement_sku", sa.String(length=64), nullable=True),
        sa.Column("yearly_service_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("yearly_consumables_cost", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('active', 'discontinued')", name=op.f("ck_product_status")),
        sa.CheckConstraint("lead_time_days >= 0", name=op.f("ck_product_lead_time")),
        sa.CheckConstraint("list_price >= 0", name=op.f("ck_product_list_price")),
        sa.CheckConstraint(
            "pack_size >= 1 AND min_order_qty >= 1 AND order_multiple >= 1",
            name=op.f("ck_product_quantities"),
        ),
        sa.ForeignKeyConstraint(
            ["category_id"], ["category.id"], name=op.f("fk_product_category_id_category")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product")),
        sa.UniqueConstraint("sku_key", name=op.f("uq_product_sku_key")),
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_category_id"), ["category_id"], unique=False)

    op.create_table(
        "contract_price",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("min_quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.CheckConstraint("min_quantity >= 1", name=op.f("ck_contract_price_min_quantity")),
        sa.CheckConstraint("unit_price >= 0", name=op.f("ck_contract_price_unit_price")),
        sa.CheckConstraint(
            "valid_until IS NULL OR valid_until >= valid_from",
            name=op.f("ck_contract_price_window"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["customer_account.id"],
            name=op.f("fk_contract_price_account_id_customer_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_contract_price_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contract_price")),
    )
    with op.batch_alter_table("contract_price", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contract_price_lookup", ["account_id", "product_id", "valid_from"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contract_price_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "stock",
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("on_hand", sa.Integer(), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "on_hand >= 0 AND reserved >= 0 AND reserved <= on_hand", name=op.f("ck_stock_levels")
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["product.id"],
            name=op.f("fk_stock_product_id_product"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_stock")),
    )

    _create_product_search()


def downgrade():
    _drop_product_search()
    op.drop_table("stock")
    with op.batch_alter_table("contract_price", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contract_price_product_id"))
        batch_op.drop_index("ix_contract_price_lookup")

    op.drop_table("contract_price")
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_category_id"))

    op.drop_table("product")
    op.drop_table("category")


# Full-text search over product SKU, name and description (see portal/catalog/service.py).
# SQLite: an FTS5 index kept in step with `product` by triggers. PostgreSQL: a GIN
# index on the same expression the search query uses.
SQLITE_SEARCH = [
    """CREATE VIRTUAL TABLE product_search USING fts5(
        sku, name, description, content='product', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER product_search_insert AFTER INSERT ON product BEGIN
        INSERT INTO product_search(rowid, sku, name, description)
        VALUES (new.id, new.sku, new.name, new.description);
    END""",
    """CREATE TRIGGER product_search_delete AFTER DELETE ON product BEGIN
        INSERT INTO product_search(product_search, rowid, sku, name, description)
        VALUES ('delete', old.id, old.sku, old.name, old.description);
    END""",
    """CREATE TRIGGER product_search_update AFTER UPDATE OF sku, name, description ON product BEGIN
        INSERT INTO product_search(product_search, rowid, sku, name, description)
        VALUES ('delete', old.id, old.sku, old.name, old.description);
        INSERT INTO product_search(rowid, sku, name, description)
        VALUES (new.id, new.sku, new.name, new.description);
    END""",
]
POSTGRES_SEARCH = [
    """CREATE INDEX ix_product_search_document ON product
        USING gin (to_tsvector('simple', sku || ' ' || name || ' ' || description))""",
]


def _create_product_search():
    statements = SQLITE_SEARCH if op.get_bind().dialect.name == "sqlite" else POSTGRES_SEARCH
    for statement in statements:
        op.execute(statement)


def _drop_product_search():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS product_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS product_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_product_search_document")
