"""Installed equipment.

`EquipmentSpec` marks a catalogue product as equipment: serialised, with its
warranty and an optional maintenance plan (interval, labour, a kit of parts)
and the consumables it uses per year. These are the inputs of a later cost of
ownership. `EquipmentUnit` is one serialised unit at a customer's site: shipped
through the desk, or imported for units sold before the portal.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import Address, CustomerAccount, User
    from portal.catalog.models import Product
    from portal.fulfilment.models import Shipment
    from portal.ordering.models import OrderLine

Money = Numeric(12, 2)
UNIT_STATUSES = {
    "in_service": _l("In service"),
    "under_repair": _l("Under repair"),
    "retired": _l("Retired"),
}
# Where a unit's record came from.
UNIT_SOURCES = ("shipped", "imported")


def serial_key(serial: str) -> str:
    """Serial numbers compare regardless of case and surrounding spaces."""
    return serial.strip().upper()


class EquipmentSpec(db.Model):
    """A catalogue product that is equipment: each unit has a serial number.

    The maintenance plan is optional: without an interval there is none, and
    labour hours, rate and kit do not apply."""

    __tablename__ = "equipment_spec"
    __table_args__ = (
        CheckConstraint("warranty_months >= 0", name="warranty"),
        CheckConstraint(
            "maintenance_interval_months IS NULL OR maintenance_interval_months >= 1",
            name="interval",
        ),
        CheckConstraint(
            "maintenance_labour_hours IS NULL OR maintenance_labour_hours >= 0", name="labour"
        ),
        CheckConstraint(
            "maintenance_labour_rate IS NULL OR maintenance_labour_rate >= 0", name="rate"
        ),
    )

    product_id: Mapped[int] = mapped_column(
        ForeignKey("product.id", ondelete="CASCADE"), primary_key=True
    )
    warranty_months: Mapped[int] = mapped_column(default=12)
    # The maintenance plan: one visit every N months, its labour per visit.
    maintenance_interval_months: Mapped[int | None]
    maintenance_labour_hours: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    maintenance_labour_rate: Mapped[Decimal | None] = mapped_column(Money)  # per hour
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product: Mapped[Product] = relationship(foreign_keys=[product_id])
    kit: Mapped[list[MaintenanceKitLine]] = relationship(
        back_populates="spec", cascade="all, delete-orphan", order_by="MaintenanceKitLine.id"
    )
    consumables: Mapped[list[ConsumableUsage]] = relationship(
        back_populates="spec", cascade="all, delete-orphan", order_by="ConsumableUsage.id"
    )

    @property
    def has_maintenance_plan(self) -> bool:
        return self.maintenance_interval_months is not None


class MaintenanceKitLine(db.Model):
    """A catalogue product and how many of it one maintenance visit uses."""

    __tablename__ = "maintenance_kit_line"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity"),
        UniqueConstraint("equipment_product_id", "part_product_id", name="uq_kit_line_part"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_product_id: Mapped[int] = mapped_column(
        ForeignKey("equipment_spec.product_id", ondelete="CASCADE")
    )
    part_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity: Mapped[int]

    spec: Mapped[EquipmentSpec] = relationship(back_populates="kit")
    part: Mapped[Product] = relationship(foreign_keys=[part_product_id])


class ConsumableUsage(db.Model):
    """A catalogue product the equipment uses up, and how much of it per year
    (in the consumable's unit; may be a fraction: one filter every two years is 0.5)."""

    __tablename__ = "equipment_consumable"
    __table_args__ = (
        CheckConstraint("quantity_per_year > 0", name="quantity"),
        UniqueConstraint(
            "equipment_product_id", "consumable_product_id", name="uq_equipment_consumable"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    equipment_product_id: Mapped[int] = mapped_column(
        ForeignKey("equipment_spec.product_id", ondelete="CASCADE")
    )
    consumable_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    quantity_per_year: Mapped[Decimal] = mapped_column(Numeric(10, 2))

    spec: Mapped[EquipmentSpec] = relationship(back_populates="consumables")
    consumable: Mapped[Product] = relationship(foreign_keys=[consumable_product_id])


class EquipmentUnit(db.Model):
    """One serialised unit of equipment at a customer's site.

    `warranty_until` is fixed when the record is made (installation, else
    delivery, else shipment + the product's warranty months then): later changes
    of the product's terms do not change what was sold."""

    __tablename__ = "equipment_unit"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"status IN {tuple(UNIT_STATUSES)}", name="status"),
        CheckConstraint(f"source IN {UNIT_SOURCES}", name="source"),
        # A serial number is unique per product.
        UniqueConstraint("product_id", "serial_key", name="uq_equipment_unit_serial"),
        # An account's units by site; all units of a product; where a line's units went.
        Index("ix_equipment_unit_account", "account_id", "site_id", "id"),
        Index("ix_equipment_unit_product", "product_id", "account_id"),
        Index("ix_equipment_unit_order_line", "order_line_id"),
        Index("ix_equipment_unit_shipment", "shipment_id"),
        # A serial number looked up by its beginning, whatever the product.
        Index("ix_equipment_unit_serial_key", "serial_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    serial: Mapped[str] = mapped_column(String(100))
    # serial_key(serial): what uniqueness and look-ups use.
    serial_key: Mapped[str] = mapped_column(String(100))
    # The site: the ship-to address of the order (or as imported).
    site_id: Mapped[int | None] = mapped_column(ForeignKey("address.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="in_service")
    source: Mapped[str] = mapped_column(String(10), default="shipped")
    shipped_on: Mapped[date | None]
    delivered_on: Mapped[date | None]
    installed_on: Mapped[date | None]
    warranty_until: Mapped[date | None]
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_line.id", ondelete="SET NULL")
    )
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[CustomerAccount] = relationship()
    product: Mapped[Product] = relationship()
    site: Mapped[Address | None] = relationship()
    order_line: Mapped[OrderLine | None] = relationship()
    shipment: Mapped[Shipment | None] = relationship()
    created_by: Mapped[User | None] = relationship()

    @validates("serial")
    def _keep_key_in_step(self, _key: str, value: str) -> str:
        value = value.strip()
        self.serial_key = serial_key(value)
        return value

    @property
    def status_label(self) -> str:
        return UNIT_STATUSES[self.status]

    @property
    def reference(self) -> str:
        return f"EQ-{self.id:05d}"

    def __repr__(self) -> str:
        return f"<EquipmentUnit {self.id} {self.serial!r}>"


OWNERSHIP_YEARS_DEFAULT = 5
OWNERSHIP_YEARS_MAX = 15


class OwnershipSettings(db.Model):
    """An account's own terms for the cost of ownership, kept by its customer admin:
    the period the cost is shown over, and what a day's delay and a defective part
    cost the account (for the expected cost of delays and defects)."""

    __tablename__ = "ownership_settings"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"years BETWEEN 1 AND {OWNERSHIP_YEARS_MAX}", name="years"),
        CheckConstraint("delay_day_cost IS NULL OR delay_day_cost >= 0", name="delay_day_cost"),
        CheckConstraint("defect_cost IS NULL OR defect_cost >= 0", name="defect_cost"),
    )

    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), primary_key=True
    )
    years: Mapped[int] = mapped_column(default=OWNERSHIP_YEARS_DEFAULT)
    delay_day_cost: Mapped[Decimal | None] = mapped_column(Money)
    defect_cost: Mapped[Decimal | None] = mapped_column(Money)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
