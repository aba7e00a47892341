"""Products, categories, stock and per-account contract prices."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.extensions import UTCDateTime, base_currency, db, utcnow

Money = Numeric(12, 2)
PRODUCT_STATUSES = ("active", "discontinued")


def sku_key(sku: str) -> str:
    """SKUs match exactly but regardless of case and surrounding spaces."""
    return sku.strip().upper()


class Category(db.Model):
    __tablename__ = "category"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(default=0)

    products: Mapped[list[Product]] = relationship(back_populates="category")


class Product(db.Model):
    """Something the vendor sells, in its unit (pieces, metres, ...)."""

    __tablename__ = "product"
    __table_args__ = (
        CheckConstraint(f"status IN {PRODUCT_STATUSES}", name="status"),
        CheckConstraint(
            "pack_size >= 1 AND min_order_qty >= 1 AND order_multiple >= 1", name="quantities"
        ),
        CheckConstraint("lead_time_days >= 0", name="lead_time"),
        CheckConstraint("list_price >= 0", name="list_price"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # As the vendor writes it: may hold dashes, dots, slashes and spaces.
    sku: Mapped[str] = mapped_column(String(64))
    # sku_key(sku): unique, and what look-ups and prefix searches use.
    sku_key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"), index=True)
    unit: Mapped[str] = mapped_column(String(10), default="pc")
    pack_size: Mapped[int] = mapped_column(default=1)
    min_order_qty: Mapped[int] = mapped_column(default=1)
    order_multiple: Mapped[int] = mapped_column(default=1)
    lead_time_days: Mapped[int] = mapped_column(default=14)
    list_price: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[str] = mapped_column(String(20), default="active")
    replacement_sku: Mapped[str | None] = mapped_column(String(64))
    # Cost of ownership per year, where known: service and consumables.
    yearly_service_cost: Mapped[Decimal | None] = mapped_column(Money)
    yearly_consumables_cost: Mapped[Decimal | None] = mapped_column(Money)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    category: Mapped[Category] = relationship(back_populates="products")
    # List prices in currencies other than the vendor's base one (`list_price`).
    other_prices: Mapped[list[ProductPrice]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductPrice.currency"
    )
    stock: Mapped[Stock] = relationship(
        back_populates="product", uselist=False, cascade="all, delete-orphan"
    )

    @validates("sku")
    def _keep_key_in_step(self, _key: str, value: str) -> str:
        value = value.strip()
        self.sku_key = sku_key(value)
        return value

    @property
    def is_discontinued(self) -> bool:
        return self.status == "discontinued"

    @property
    def yearly_cost_of_ownership(self) -> Decimal | None:
        parts = [c for c in (self.yearly_service_cost, self.yearly_consumables_cost) if c]
        return sum(parts, Decimal("0")) if parts else None


class ProductPrice(db.Model):
    """A product's list price in a currency other than the vendor's base currency.

    `Product.list_price` stays the price in the base currency (the CURRENCY setting),
    so every existing install, import and API client keeps working unchanged; a row
    here adds the price that accounts priced in another currency pay. A currency with
    no row has no list price: such an account cannot order the product at list price.
    """

    __tablename__ = "product_price"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount"),)

    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    # ISO 4217, upper case.
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    product: Mapped[Product] = relationship(back_populates="other_prices")


class Stock(db.Model):
    """On hand and reserved for placed orders. One small row per product, so a
    reservation is a single conditional UPDATE of it."""

    __tablename__ = "stock"
    __table_args__ = (
        CheckConstraint("on_hand >= 0 AND reserved >= 0 AND reserved <= on_hand", name="levels"),
    )

    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)

    product: Mapped[Product] = relationship(back_populates="stock")

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class ContractPrice(db.Model):
    """One quantity break of an account's agreed price for a product.

    An agreement is the set of rows for (account, product) with the same
    validity window; the row with the highest `min_quantity` not above the
    ordered quantity gives the unit price.
    """

    __tablename__ = "contract_price"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint("min_quantity >= 1", name="min_quantity"),
        CheckConstraint("unit_price >= 0", name="unit_price"),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="window"),
        Index("ix_contract_price_lookup", "account_id", "product_id", "valid_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), index=True
    )
    min_quantity: Mapped[int] = mapped_column(default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    # The account's currency when the price was agreed; only prices in the account's
    # current currency apply (an account moved to another currency needs new ones).
    currency: Mapped[str] = mapped_column(String(3), default=base_currency)
    valid_from: Mapped[date]
    valid_until: Mapped[date | None]

    product: Mapped[Product] = relationship()
