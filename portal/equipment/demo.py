"""Demo equipment: pumps, compressors, chillers, solenoid valves and controllers
marked as equipment with warranties and maintenance plans; a unit with a serial
number for every unit the demo year shipped, a few controllers sold before the
portal at every account, and service history on some units. Umbrella Process
Labs (C-10004) has units but asked for nothing: it stays silent."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.accounts.models import Address, CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog.models import Category, Product, Stock, sku_key
from portal.extensions import db
from portal.fulfilment.models import Shipment, ShipmentLine
from portal.ordering.models import Order, OrderLine

from .models import (
    ConsumableUsage,
    EquipmentSpec,
    EquipmentUnit,
    MaintenanceKitLine,
    OwnershipSettings,
)
from .service import warranty_end

# SKU prefix → (serial prefix, warranty months, interval months or None, labour hours,
# kit as (SKU, quantity), consumables as (SKU, per year))
TERMS = {
    "EQ-PMP-": (
        "P",
        24,
        6,
        "2.5",
        [("ORG-FKM-40x3.5", 4), ("BRG-6204-2RS", 2)],
        [("ORG-EPDM-40x3.5", "2")],
    ),
    "EQ-CMP-": ("C", 24, 12, "4", [("BRG-6306-2RS", 2), ("ORG-EPDM-50x3.5", 2)], []),
    "EQ-CHL-": ("K", 12, 12, "3", [("ORG-EPDM-50x3.5", 2)], [("EL-CBL-3G1.5-PVC", "0.5")]),
    "HYD-VLV-": ("V", 12, 24, "1", [("ORG-FKM-20x3.5", 2)], []),
    "EQ-CTL-": ("T", 36, None, None, [], []),
}
CONTROLLERS = [
    ("EQ-CTL-100", "Process controller PC-100, 4 loops", Decimal("2450.00")),
    ("EQ-CTL-200", "Process controller PC-200, 8 loops", Decimal("3980.00")),
    ("EQ-CTL-300", "Batch controller BC-300 with HMI", Decimal("6900.00")),
]
SILENT = "C-10004"
# Initech's equipment requests came with its burst of complaints about four months ago
# (see service.demo), and it has raised nothing since: its visits are dated back there.
BURST_DAYS_AGO = {"C-10003": (125, 135)}
LABOUR_RATE = Decimal("95.00")


def _add_controllers() -> None:
    category = db.session.scalar(select(Category).where(Category.name == "Equipment"))
    for sku, name, price in CONTROLLERS:
        product = Product(
            sku=sku,
            name=name,
            description=f"{name}. Delivered configured, with manual and calibration certificate.",
            category=category,
            unit="pc",
            list_price=price,
            lead_time_days=21,
        )
        product.stock = Stock(on_hand=6, reserved=0)
        db.session.add(product)
    db.session.flush()


def _existing(skus: list[str]) -> dict[str, Product]:
    keys = [sku_key(s) for s in skus]
    return {
        p.sku_key: p for p in db.session.scalars(select(Product).where(Product.sku_key.in_(keys)))
    }


def _mark(products: list[Product]) -> dict[int, tuple[str, EquipmentSpec]]:
    """Equipment terms for every product whose SKU starts with a prefix of TERMS."""
    parts = _existing([sku for terms in TERMS.values() for sku, _ in terms[4] + terms[5]])
    marked = {}
    for product in products:
        prefix = next((p for p in TERMS if product.sku.startswith(p)), None)
        if prefix is None:
            continue
        serial_prefix, warranty, interval, hours, kit, consumables = TERMS[prefix]
        spec = EquipmentSpec(
            product_id=product.id,
            warranty_months=warranty,
            maintenance_interval_months=interval,
            maintenance_labour_hours=Decimal(hours) if hours else None,
            maintenance_labour_rate=LABOUR_RATE if interval else None,
        )
        spec.kit = [
            MaintenanceKitLine(part_product_id=parts[sku_key(sku)].id, quantity=quantity)
            for sku, quantity in kit
            if sku_key(sku) in parts
        ]
        spec.consumables = [
            ConsumableUsage(
                consumable_product_id=parts[sku_key(sku)].id, quantity_per_year=Decimal(q)
            )
            for sku, q in consumables
            if sku_key(sku) in parts
        ]
        db.session.add(spec)
        marked[product.id] = (serial_prefix, spec)
    db.session.flush()
    return marked


def load(rng: random.Random, now: datetime) -> dict[str, int]:
    _add_controllers()
    products = list(
        db.session.scalars(
            select(Product)
            .where(Product.sku.like("EQ-%") | Product.sku.like("HYD-VLV-%"))
            .order_by(Product.id)
        )
    )
    marked = _mark(products)
    today = now.date()
    admin = db.session.scalar(select(User).where(User.email == "admin@vendor.test"))
    # A unit for every unit shipped of an equipment line, from the demo year's shipments.
    shipped = db.session.execute(
        select(ShipmentLine, OrderLine, Shipment, Order)
        .join(OrderLine, OrderLine.id == ShipmentLine.line_id)
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .where(OrderLine.product_id.in_(marked), ShipmentLine.quantity > 0)
        .order_by(Shipment.shipped_on, ShipmentLine.id)
    ).all()
    sequence = 0
    units = []
    for item, line, shipment, order in shipped:
        serial_prefix, spec = marked[line.product_id]
        for _ in range(item.quantity):
            sequence += 1
            delivered = shipment.delivered_on
            installed = (
                delivered + timedelta(days=rng.randint(2, 20))
                if delivered and rng.random() < 0.7
                else None
            )
            if installed and installed > today:
                installed = None
            units.append(
                EquipmentUnit(
                    account_id=order.account_id,
                    product_id=line.product_id,
                    serial=f"{serial_prefix}{shipment.shipped_on:%y}-{sequence:05d}",
                    site_id=order.ship_to_id,
                    status="in_service",
                    source="shipped",
                    shipped_on=shipment.shipped_on,
                    delivered_on=delivered,
                    installed_on=installed,
                    warranty_until=warranty_end(
                        spec.warranty_months, installed_on=installed, delivered_on=delivered
                    ),
                    order_line_id=line.id,
                    shipment_id=shipment.id,
                    created_by_id=shipment.created_by_id,
                )
            )
    # Controllers sold before the portal: two or three at each account's first site.
    controllers = [p for p in products if p.sku.startswith("EQ-CTL-")]
    accounts = list(db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)))
    for account in accounts:
        site = db.session.scalar(
            select(Address)
            .where(Address.account_id == account.id, Address.kind == "shipping")
            .order_by(Address.id)
        )
        for _ in range(rng.randint(2, 3)):
            sequence += 1
            product = rng.choice(controllers)
            installed = today - timedelta(days=rng.randint(400, 1500))
            units.append(
                EquipmentUnit(
                    account_id=account.id,
                    product_id=product.id,
                    serial=f"T{installed:%y}-{sequence:05d}",
                    site_id=site.id if site else None,
                    status="in_service",
                    source="imported",
                    installed_on=installed,
                    warranty_until=warranty_end(
                        marked[product.id][1].warranty_months,
                        installed_on=installed,
                        delivered_on=None,
                    ),
                    created_by_id=admin.id if admin else None,
                )
            )
    # One retired and one under repair, so the statuses show.
    if len(units) > 10:
        units[0].status = "retired"
        units[3].status = "under_repair"
    db.session.add_all(units)
    db.session.add_all(_ownership_terms(accounts))
    db.session.commit()
    made = _history(rng, now, units, accounts)
    return {"equipment units": len(units), "equipment service requests": made}


# Accounts' own terms for the cost of ownership: (years, a day's delay, a defect).
OWNERSHIP_TERMS = {
    "C-10001": (5, Decimal("450.00"), Decimal("120.00")),
    "C-10003": (8, Decimal("1200.00"), Decimal("300.00")),
}


def _ownership_terms(accounts: list[CustomerAccount]) -> list[OwnershipSettings]:
    """Acme and Initech set their own period and costs, so the expected cost of delays
    and defects shows; the others keep the default period of five years."""
    return [
        OwnershipSettings(
            account_id=a.id, years=terms[0], delay_day_cost=terms[1], defect_cost=terms[2]
        )
        for a in accounts
        if (terms := OWNERSHIP_TERMS.get(a.number))
    ]


def _history(rng: random.Random, now: datetime, units, accounts) -> int:
    """A resolved maintenance visit and a repair on a few units of every account but
    the silent one, through the service area's own workflow."""
    from portal.service import workflow

    people = {u.email: u for u in db.session.scalars(select(User).where(User.account_id.is_(None)))}
    service = people["service@vendor.test"]
    made = 0
    for account in accounts:
        if account.number == SILENT:
            continue
        customers = [u for u in account.users if u.has_role(Role.BUYER, Role.CUSTOMER_ADMIN)]
        mine = [
            u
            for u in units
            if u.account_id == account.id and u.delivered_on and u.source == "shipped"
        ]
        if not customers or not mine:
            continue
        days_ago = BURST_DAYS_AGO.get(account.number, (20, 120))
        if account.number in BURST_DAYS_AGO:
            # Units it had by then.
            by_then = (now - timedelta(days=days_ago[0])).date()
            mine = [u for u in mine if u.delivered_on < by_then] or mine
        for unit, kind in zip(
            rng.sample(mine, min(2, len(mine))), ("maintenance", "repair"), strict=False
        ):
            start = max(
                datetime.combine(unit.delivered_on, time(9), tzinfo=now.tzinfo),
                now - timedelta(days=rng.randint(*days_ago)),
            )
            if start > now - timedelta(days=2):
                continue
            request = workflow.open_request(
                rng.choice(customers),
                kind=kind,
                priority="normal" if kind == "maintenance" else "high",
                title=f"{'Scheduled maintenance' if kind == 'maintenance' else 'Noise at start-up'}"
                f" — serial {unit.serial}",
                description="Please send a technician." if kind == "repair" else "Due per plan.",
                now=start,
                equipment_id=unit.id,
            )
            made += 1
            workflow.take(service, request, start + timedelta(hours=2))
            workflow.change_status(service, request, "in_progress", now=start + timedelta(hours=3))
            workflow.change_status(
                service,
                request,
                "resolved",
                now=start + timedelta(days=1),
                resolution="Serviced per the maintenance plan; seals replaced, unit tested."
                if kind == "maintenance"
                else "Bearing replaced under warranty; runs quietly.",
            )
    return made
