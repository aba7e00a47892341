"""Installed equipment: the rules and the figures other areas read.

- Which products are equipment, their warranty and maintenance plan
  (`spec_of`, `specs_for`, `save_spec`).
- Units: made from a shipment on the desk (`check_serials`, `record_shipped`,
  `record_delivered`), read through one visibility rule (`visible_units`,
  `unit_for`), listed by site (`listing`, `by_site`), counted (`units_per_product`,
  `unit_count_of_account`).
- Dates worked by hand in the tests: `add_months`, `warranty_end`,
  `next_maintenance_due`.

Customers see their own account's units; service staff, engineers, fulfilment
and admins all units; an account manager the units of the accounts they manage.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import CUSTOMER_ROLES, Role
from portal.attachments import service as attachments
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.security import scoped

from .models import (
    UNIT_STATUSES,
    ConsumableUsage,
    EquipmentSpec,
    EquipmentUnit,
    MaintenanceKitLine,
    serial_key,
)

CUSTOMERS = tuple(CUSTOMER_ROLES)
# Vendor staff who see units: all accounts' …
ALL_ACCOUNTS = (Role.SERVICE, Role.ENGINEER, Role.FULFILMENT, Role.ADMIN)
# … or, for an account manager, their accounts'.
STAFF = (*ALL_ACCOUNTS, Role.ACCOUNT_MANAGER)
READERS = (*CUSTOMERS, *STAFF)
# Who keeps units (status, installation date, documents) and imports them.
KEEPERS = (Role.SERVICE, Role.ADMIN, Role.ACCOUNT_MANAGER)
SERIAL_MAX = 100
KIT_MAX_LINES = 50


# --- dates ------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the month's last day where it is shorter
    (31 Jan + 1 month = 28 or 29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def warranty_end(
    warranty_months: int, *, installed_on: date | None, delivered_on: date | None
) -> date | None:
    """The warranty runs from installation, else from delivery; before either, it
    has not started (None)."""
    start = installed_on or delivered_on
    return add_months(start, warranty_months) if start else None


def next_maintenance_due(
    interval_months: int | None,
    *,
    last_maintenance_on: date | None,
    installed_on: date | None,
    delivered_on: date | None,
) -> date | None:
    """One interval after the last maintenance, else after installation (else
    delivery). None without a plan or before the unit arrived."""
    if not interval_months:
        return None
    start = last_maintenance_on or installed_on or delivered_on
    return add_months(start, interval_months) if start else None


# --- which products are equipment ---------------------------------------------------------


def spec_of(product_id: int) -> EquipmentSpec | None:
    """The product's equipment terms, kit and consumables (with their products, three
    statements); None if it is not equipment."""
    return db.session.scalar(
        select(EquipmentSpec)
        .where(EquipmentSpec.product_id == product_id)
        .options(
            selectinload(EquipmentSpec.kit).joinedload(MaintenanceKitLine.part),
            selectinload(EquipmentSpec.consumables).joinedload(ConsumableUsage.consumable),
        )
    )


def specs_for(product_ids: Iterable[int]) -> dict[int, EquipmentSpec]:
    """Equipment terms of those of the products that are equipment (one statement)."""
    ids = set(product_ids)
    if not ids:
        return {}
    return {
        spec.product_id: spec
        for spec in db.session.scalars(
            select(EquipmentSpec).where(EquipmentSpec.product_id.in_(ids))
        )
    }


def equipment_product_ids() -> set[int]:
    return set(db.session.scalars(select(EquipmentSpec.product_id)))


@dataclass
class SpecValues:
    is_equipment: bool
    warranty_months: int | None = None
    interval_months: int | None = None
    labour_hours: Decimal | None = None
    labour_rate: Decimal | None = None
    kit: str = ""  # "SKU, quantity" per line
    consumables: str = ""  # "SKU, quantity per year" per line


def _lines(text: str, what: str, *, whole: bool) -> list[tuple[int, str, Decimal]]:
    """(line number, SKU, quantity) of "SKU, quantity" lines; DomainError naming the line."""
    found = []
    for number, raw in enumerate(text.splitlines(), start=1):
        raw = raw.strip()
        if not raw:
            continue
        parts = [p.strip() for p in raw.replace(";", ",").replace("\t", ",").split(",")]
        if len(parts) != 2 or not parts[0]:
            raise DomainError(
                f"{what}, line {number}: write “SKU, quantity”.", field=what_field(what)
            )
        try:
            quantity = Decimal(parts[1])
        except InvalidOperation:
            quantity = None
        if (
            quantity is None
            or not quantity.is_finite()
            or quantity <= 0
            or quantity > 10_000
            or (whole and quantity != quantity.to_integral_value())
            or quantity != quantity.quantize(Decimal("0.01"))
        ):
            kind = "a whole number from 1" if whole else "a number above 0"
            raise DomainError(
                f"{what}, line {number}: “{parts[1][:20]}” is not {kind} to 10,000.",
                field=what_field(what),
            )
        found.append((number, parts[0][:64], quantity))
    if len(found) > KIT_MAX_LINES:
        raise DomainError(f"{what}: at most {KIT_MAX_LINES} lines.", field=what_field(what))
    return found


def what_field(what: str) -> str:
    return "kit" if what == "Parts kit" else "consumables"


def _products_by_sku(skus: Iterable[str]) -> dict[str, Product]:
    keys = {sku_key(s) for s in skus}
    if not keys:
        return {}
    return {
        p.sku_key: p for p in db.session.scalars(select(Product).where(Product.sku_key.in_(keys)))
    }


def save_spec(actor: User, product: Product, values: SpecValues) -> EquipmentSpec | None:
    """Mark a product as equipment (or not), with its warranty, maintenance plan
    (interval, labour per visit, parts kit) and consumables. Vendor admins only.
    A product with units at customers stays equipment."""
    if not (actor.is_vendor_staff and actor.has_role(Role.ADMIN)):
        raise Forbidden("Only a vendor admin keeps the catalog.")
    spec = spec_of(product.id)
    if not values.is_equipment:
        if spec is not None:
            if units_per_product([product.id]).get(product.id):
                raise DomainError(
                    "Units of this product are installed at customers: it stays equipment.",
                    field="is_equipment",
                )
            db.session.delete(spec)
        db.session.commit()
        return None
    if values.warranty_months is None or not 0 <= values.warranty_months <= 600:
        raise DomainError("Warranty: 0 to 600 months.", field="warranty_months")
    plan = values.interval_months is not None
    if plan and not 1 <= values.interval_months <= 240:
        raise DomainError("Interval: 1 to 240 months.", field="interval_months")
    if not plan and (values.labour_hours or values.labour_rate or values.kit.strip()):
        raise DomainError(
            "Labour and a parts kit belong to a maintenance plan: give its interval.",
            field="interval_months",
        )
    for name, value, top in (
        ("labour_hours", values.labour_hours, Decimal("1000")),
        ("labour_rate", values.labour_rate, Decimal("100000")),
    ):
        if value is not None and not (0 <= value <= top):
            raise DomainError(f"Between 0 and {top:,}.", field=name)
    kit = _lines(values.kit, "Parts kit", whole=True)
    consumables = _lines(values.consumables, "Consumables", whole=False)
    products = _products_by_sku([sku for _, sku, _ in kit + consumables])
    for what, rows in (("Parts kit", kit), ("Consumables", consumables)):
        seen: set[int] = set()
        for number, sku, _ in rows:
            found = products.get(sku_key(sku))
            if found is None:
                raise DomainError(
                    f"{what}, line {number}: no product “{sku}”.", field=what_field(what)
                )
            if found.id == product.id:
                raise DomainError(
                    f"{what}, line {number}: the product cannot be part of itself.",
                    field=what_field(what),
                )
            if found.id in seen:
                raise DomainError(
                    f"{what}, line {number}: {found.sku} is given twice.", field=what_field(what)
                )
            seen.add(found.id)
    if spec is None:
        spec = EquipmentSpec(product_id=product.id)
        db.session.add(spec)
    spec.warranty_months = values.warranty_months
    spec.maintenance_interval_months = values.interval_months
    spec.maintenance_labour_hours = values.labour_hours if plan else None
    spec.maintenance_labour_rate = values.labour_rate if plan else None
    spec.kit = [
        MaintenanceKitLine(part_product_id=products[sku_key(sku)].id, quantity=int(quantity))
        for _, sku, quantity in kit
    ]
    spec.consumables = [
        ConsumableUsage(consumable_product_id=products[sku_key(sku)].id, quantity_per_year=quantity)
        for _, sku, quantity in consumables
    ]
    db.session.commit()
    return spec


def spec_as_text(spec: EquipmentSpec | None) -> dict[str, str]:
    """The kit and consumables as the form writes them."""
    if spec is None:
        return {"kit": "", "consumables": ""}
    return {
        "kit": "\n".join(f"{k.part.sku}, {k.quantity}" for k in spec.kit),
        "consumables": "\n".join(
            f"{c.consumable.sku}, {c.quantity_per_year.normalize():f}" for c in spec.consumables
        ),
    }


# --- who sees which units -----------------------------------------------------------------


def visible_units(viewer: User) -> Select:
    """The units the viewer may see, as a query to refine."""
    query = scoped(select(EquipmentUnit), EquipmentUnit, viewer)
    if not viewer.is_vendor_staff:
        return query
    if not viewer.has_role(*STAFF):
        raise Forbidden("Installed equipment is for service, fulfilment and account managers.")
    if not viewer.has_role(*ALL_ACCOUNTS):
        query = query.where(EquipmentUnit.account_id.in_(_managed(viewer)))
    return query


def _managed(viewer: User):
    return select(CustomerAccount.id).where(CustomerAccount.account_manager_id == viewer.id)


def may_see(viewer: User, unit_id: int) -> bool:
    """May the viewer see this unit (the rule for its documents)?"""
    try:
        query = visible_units(viewer)
    except Forbidden:
        return False
    found = query.with_only_columns(EquipmentUnit.id).where(EquipmentUnit.id == unit_id)
    return db.session.scalar(found) is not None


def unit_for(viewer: User, unit_id: int) -> EquipmentUnit:
    """One unit the viewer may see, with its product, account and site; NotFound otherwise."""
    unit = db.session.scalar(
        visible_units(viewer)
        .where(EquipmentUnit.id == unit_id)
        .options(
            joinedload(EquipmentUnit.product),
            joinedload(EquipmentUnit.account),
            joinedload(EquipmentUnit.site),
        )
    )
    if unit is None:
        raise NotFound("No such unit.")
    return unit


def may_keep(viewer: User, account_id: int) -> bool:
    """May the viewer change units of this account (status, installation, documents)?"""
    if not (viewer.is_vendor_staff and viewer.has_role(*KEEPERS)):
        return False
    if viewer.has_role(Role.SERVICE, Role.ADMIN):
        return True
    account = db.session.get(CustomerAccount, account_id)
    return account is not None and account.account_manager_id == viewer.id


def accounts_to_filter(viewer: User) -> list[CustomerAccount]:
    """The accounts whose units the viewer may list (vendor staff)."""
    query = select(CustomerAccount).order_by(CustomerAccount.name)
    if not viewer.has_role(*ALL_ACCOUNTS):
        query = query.where(CustomerAccount.account_manager_id == viewer.id)
    return list(db.session.scalars(query))


# --- figures other areas read --------------------------------------------------------------


def units_of_account(account_id: int, *, include_retired: bool = False) -> list[EquipmentUnit]:
    """An account's units with their products and sites (no viewer check: for other
    areas' service functions that have checked the account already)."""
    query = (
        select(EquipmentUnit)
        .where(EquipmentUnit.account_id == account_id)
        .options(joinedload(EquipmentUnit.product), joinedload(EquipmentUnit.site))
        .order_by(EquipmentUnit.site_id, EquipmentUnit.id)
    )
    if not include_retired:
        query = query.where(EquipmentUnit.status != "retired")
    return list(db.session.scalars(query))


def units_per_product(
    product_ids: Iterable[int], account_id: int | None = None, *, include_retired: bool = False
) -> dict[int, int]:
    """How many units of each product are installed (at one account, or everywhere)."""
    ids = set(product_ids)
    if not ids:
        return {}
    query = (
        select(EquipmentUnit.product_id, func.count())
        .where(EquipmentUnit.product_id.in_(ids))
        .group_by(EquipmentUnit.product_id)
    )
    if account_id is not None:
        query = query.where(EquipmentUnit.account_id == account_id)
    if not include_retired:
        query = query.where(EquipmentUnit.status != "retired")
    return dict(db.session.execute(query).all())


def unit_count_of_account(account_id: int) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(EquipmentUnit)
        .where(EquipmentUnit.account_id == account_id, EquipmentUnit.status != "retired")
    )


@dataclass(frozen=True)
class UnitDates:
    warranty_until: date | None
    under_warranty: bool | None  # None: not started (not delivered yet)
    last_maintenance_on: date | None
    next_maintenance_on: date | None
    maintenance_overdue: bool


def dates_of(
    units: list[EquipmentUnit], today: date, last_maintenance: dict[int, date]
) -> dict[int, UnitDates]:
    """Warranty and maintenance of many units at once; `last_maintenance` from
    the service area (`portal.service.reading.last_maintenance`)."""
    specs = specs_for(u.product_id for u in units)
    found = {}
    for unit in units:
        spec = specs.get(unit.product_id)
        last = last_maintenance.get(unit.id)
        following = (
            next_maintenance_due(
                spec.maintenance_interval_months if spec else None,
                last_maintenance_on=last,
                installed_on=unit.installed_on,
                delivered_on=unit.delivered_on,
            )
            if unit.status != "retired"
            else None
        )
        found[unit.id] = UnitDates(
            warranty_until=unit.warranty_until,
            under_warranty=None if unit.warranty_until is None else unit.warranty_until >= today,
            last_maintenance_on=last,
            next_maintenance_on=following,
            maintenance_overdue=following is not None and following < today,
        )
    return found


# --- units from the desk ------------------------------------------------------------------


def parse_serials(raw: str) -> list[str]:
    """Serial numbers as typed: one per line (commas also separate)."""
    return [s.strip() for s in raw.replace(",", "\n").splitlines() if s.strip()]


def check_serials(shipping: dict[int, tuple[str, int, int]], serials: dict[int, list[str]]) -> None:
    """Before anything ships: for each order line of an equipment product
    (line id → (label, product id, quantity)), one serial per unit, none given
    twice, none already recorded for that product. DomainError names the line."""
    for line_id, (label, _product_id, quantity) in shipping.items():
        given = serials.get(line_id, [])
        if len(given) != quantity:
            raise DomainError(
                f"{label} is equipment: enter one serial number per unit shipped "
                f"({quantity}), not {len(given)}."
            )
        for serial in given:
            if len(serial) > SERIAL_MAX:
                raise DomainError(f"{label}: a serial number has at most {SERIAL_MAX} characters.")
    by_product: dict[int, dict[str, tuple[str, str]]] = {}
    for line_id, (label, product_id, _) in shipping.items():
        seen = by_product.setdefault(product_id, {})
        for serial in serials.get(line_id, []):
            key = serial_key(serial)
            if key in seen:
                raise DomainError(f"{label}: serial number {serial} is given twice.")
            seen[key] = (label, serial)
    for product_id, typed in by_product.items():
        if not typed:
            continue
        taken = sorted(
            db.session.scalars(
                select(EquipmentUnit.serial_key).where(
                    EquipmentUnit.product_id == product_id, EquipmentUnit.serial_key.in_(typed)
                )
            )
        )
        if taken:
            label = typed[taken[0]][0]
            names = ", ".join(typed[key][1] for key in taken)
            raise DomainError(
                f"{label}: serial number{'s' if len(taken) > 1 else ''} {names} "
                f"{'are' if len(taken) > 1 else 'is'} already recorded for this product. "
                "Nothing was shipped."
            )


def record_shipped(
    user: User,
    *,
    account_id: int,
    site_id: int | None,
    shipment_id: int,
    shipped_on: date,
    lines: dict[int, int],
    serials: dict[int, list[str]],
) -> list[EquipmentUnit]:
    """One unit per serial of each shipped equipment line (line id → product id), in
    the caller's transaction. Warranty starts when the delivery is recorded."""
    units = [
        EquipmentUnit(
            account_id=account_id,
            product_id=product_id,
            serial=serial,
            site_id=site_id,
            status="in_service",
            source="shipped",
            shipped_on=shipped_on,
            order_line_id=line_id,
            shipment_id=shipment_id,
            created_by_id=user.id,
        )
        for line_id, product_id in lines.items()
        for serial in serials.get(line_id, [])
    ]
    db.session.add_all(units)
    return units


def record_delivered(shipment_id: int, delivered_on: date) -> None:
    """The shipment's units arrived: their warranty starts (unless installed already)."""
    units = list(
        db.session.scalars(select(EquipmentUnit).where(EquipmentUnit.shipment_id == shipment_id))
    )
    specs = specs_for(u.product_id for u in units)
    for unit in units:
        unit.delivered_on = delivered_on
        spec = specs.get(unit.product_id)
        if spec is not None:
            unit.warranty_until = warranty_end(
                spec.warranty_months, installed_on=unit.installed_on, delivered_on=delivered_on
            )


def units_of_shipments(shipment_ids: Iterable[int]) -> dict[int, list[EquipmentUnit]]:
    """Units by shipment, for the desk's and the customer's order pages."""
    ids = set(shipment_ids)
    found: dict[int, list[EquipmentUnit]] = {i: [] for i in ids}
    if ids:
        for unit in db.session.scalars(
            select(EquipmentUnit)
            .where(EquipmentUnit.shipment_id.in_(ids))
            .order_by(EquipmentUnit.id)
        ):
            found[unit.shipment_id].append(unit)
    return found


# --- keeping a unit -----------------------------------------------------------------------


def update_unit(
    user: User, unit: EquipmentUnit, *, status: str, installed_on: date | None, today: date
) -> EquipmentUnit:
    """Service staff record the installation date (the warranty then runs from it)
    and the status (in service, under repair, retired)."""
    if not may_keep(user, unit.account_id):
        raise Forbidden("Only service staff, admins and the account's manager keep units.")
    if status not in UNIT_STATUSES:
        raise DomainError("Choose a status.", field="status")
    if installed_on is not None:
        if installed_on > today:
            raise DomainError("The installation date is in the future.", field="installed_on")
        earliest = unit.delivered_on or unit.shipped_on
        if earliest is not None and installed_on < earliest:
            raise DomainError(
                f"The unit arrived on {earliest:%d %b %Y}: it cannot be installed before.",
                field="installed_on",
            )
    unit.status = status
    unit.installed_on = installed_on
    spec = spec_of(unit.product_id)
    if spec is not None:
        unit.warranty_until = (
            warranty_end(
                spec.warranty_months, installed_on=installed_on, delivered_on=unit.delivered_on
            )
            or unit.warranty_until
        )
    db.session.commit()
    return unit


# --- documents ----------------------------------------------------------------------------

DOCUMENT_KIND = "equipment_unit"
MAX_DOCUMENTS = 10


def documents_of(viewer: User, unit: EquipmentUnit) -> list:
    """A unit's documents (manuals, certificates); internal ones for vendor staff only."""
    return attachments.for_owner(DOCUMENT_KIND, [unit.id], viewer)[unit.id]


def add_documents(user: User, unit: EquipmentUnit, files, *, internal: bool = False) -> int:
    """Vendor staff attach manuals, certificates, reports to a unit. Files are
    checked and refused as everywhere else (portal.attachments)."""
    if not may_keep(user, unit.account_id):
        raise Forbidden("Only service staff, admins and the account's manager add documents.")
    uploads = [upload for upload in files or () if upload and upload.filename]
    if not uploads:
        raise DomainError("Choose a file to attach.", field="files")
    if len(uploads) > MAX_DOCUMENTS:
        raise DomainError(f"Attach at most {MAX_DOCUMENTS} files at a time.", field="files")
    stored = [attachments.store(user, unit.account_id, u, internal=internal) for u in uploads]
    attachments.attach(stored, DOCUMENT_KIND, unit.id)
    db.session.commit()
    return len(stored)


attachments.register_owner_check(DOCUMENT_KIND, may_see)


# --- lists --------------------------------------------------------------------------------

PAGE = 100


@dataclass(frozen=True)
class UnitFilter:
    account_id: int | None = None
    status: str = ""  # "" = every status, or one
    serial: str = ""  # the beginning of a serial number


def listing(viewer: User, filters: UnitFilter, page: int = 1) -> tuple[list[EquipmentUnit], int]:
    """A page of the units the viewer may see, by account and site, with products and
    sites loaded: three statements whatever the number of units (rows, count, and the
    joined loads inside the first)."""
    query = visible_units(viewer)
    if filters.account_id is not None:
        query = query.where(EquipmentUnit.account_id == filters.account_id)
    if filters.status in UNIT_STATUSES:
        query = query.where(EquipmentUnit.status == filters.status)
    order = (EquipmentUnit.account_id, EquipmentUnit.site_id, EquipmentUnit.id)
    if filters.serial:
        # A range on the key, as the catalog's SKU prefixes: it uses the index.
        key = serial_key(filters.serial)
        query = query.where(
            EquipmentUnit.serial_key >= key, EquipmentUnit.serial_key < key + "\uffff"
        )
        # In serial order: the index that finds them gives the order too (ordered by
        # account and site, SQLite would walk every unit of that index instead).
        order = (EquipmentUnit.serial_key, EquipmentUnit.id)
    total = db.session.scalar(query.with_only_columns(func.count()).order_by(None))
    rows = db.session.scalars(
        query.options(
            joinedload(EquipmentUnit.product),
            joinedload(EquipmentUnit.site),
            joinedload(EquipmentUnit.account),
        )
        .order_by(*order)
        .limit(PAGE)
        .offset((max(page, 1) - 1) * PAGE)
    ).all()
    return list(rows), total


def by_site(units: list[EquipmentUnit]) -> list[tuple[object, list[EquipmentUnit]]]:
    """Units grouped by (account, site) in the order given: [(site or None, units)]."""
    groups: list[tuple[object, list[EquipmentUnit]]] = []
    for unit in units:
        key = (unit.account_id, unit.site_id)
        if not groups or groups[-1][0] != key:
            groups.append((key, []))
        groups[-1][1].append(unit)
    return [(members[0].site, members) for _, members in groups]
