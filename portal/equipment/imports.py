"""Units sold before the portal, from a CSV or XLSX file: every row or none.

The file has a header row naming its columns (any order, any case):
sku, serial, account (the account number, C-10001), site (the label of one of
the account's shipping addresses), and optionally installed_on, delivered_on
(YYYY-MM-DD) and status (in_service, under_repair, retired). Every bad row is
named with its line number and reason; one bad row imports nothing.

The look-ups are one statement each for the whole file (products, equipment
terms, accounts, sites, serials already recorded), whatever its length.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_

from portal import spreadsheets
from portal.accounts.models import Address, CustomerAccount, User
from portal.accounts.roles import Role
from portal.catalog.models import Product, sku_key
from portal.errors import DomainError, Forbidden
from portal.extensions import db

from . import service
from .models import UNIT_STATUSES, EquipmentUnit, serial_key

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000
# The header people read and write, in each language; the keys (sku, serial, account,
# installed_on, ...) are accepted too, as files written before the translation name them.
COLUMNS = spreadsheets.Columns(
    spreadsheets.Column("sku", _l("SKU")),
    spreadsheets.Column("serial", _l("Serial number")),
    spreadsheets.Column("account", _l("Account number")),
    spreadsheets.Column("site", _l("Site")),
    spreadsheets.Column("installed_on", _l("Installed on")),
    spreadsheets.Column("delivered_on", _l("Delivered on")),
    spreadsheets.Column("status", _l("Status")),
    required=("sku", "serial", "account", "site"),
)
# Look-ups of many keys are sent in slices SQLite's variable limit allows.
SLICE = 500


class ImportRefused(DomainError):
    """Nothing was imported; `problems` holds (line number, reason) for every bad row."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(
            f"Nothing was imported: {len(problems)} row{'s' if len(problems) != 1 else ''} "
            "to correct."
        )
        self.problems = problems


def may_import(user: User) -> bool:
    return user.is_vendor_staff and user.has_role(*service.KEEPERS)


def read(data: bytes) -> list[tuple[int, list[str]]]:
    """The rows of an uploaded file; DomainError when it cannot be read."""
    if not data.strip():
        raise DomainError("Choose a file: it is missing or empty.")
    if len(data) > MAX_BYTES:
        raise DomainError("The file is larger than 5 MB.")
    try:
        return spreadsheets.read_rows(data, max_rows=MAX_ROWS + 1)
    except spreadsheets.SpreadsheetError as error:
        raise DomainError(str(error)) from None


def _date(text: str, name: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10] if len(text) > 10 and text[10] in " T" else text)
    except ValueError:
        raise ValueError(f"{name} “{text[:20]}” is not a date (use YYYY-MM-DD)") from None


def _sliced(keys):
    keys = list(keys)
    for start in range(0, len(keys), SLICE):
        yield keys[start : start + SLICE]


def import_units(user: User, rows: list[tuple[int, list[str]]], today: date) -> int:
    """Create a unit for each row, or none. Vendor admins and service staff for any
    account; an account manager for the accounts they manage (another account is
    unknown to them)."""
    if not may_import(user):
        raise Forbidden("Only service staff, admins and account managers import units.")
    if not rows:
        raise DomainError("The file is empty.")
    header_line, header = rows[0]
    found = COLUMNS.locate(header)
    if problem := COLUMNS.problem(found):
        raise ImportRefused([(header_line, problem)])
    body = rows[1:]
    if not body:
        raise DomainError("The file has a header row but no units.")
    if len(body) > MAX_ROWS:
        raise DomainError(f"At most {MAX_ROWS:,} units per file.")

    records = [
        (line, {column.key: found.cell(cells, column.key) for column in COLUMNS})
        for line, cells in body
    ]
    products = {}
    for keys in _sliced({sku_key(r["sku"]) for _, r in records if r["sku"]}):
        products |= {
            p.sku_key: p
            for p in db.session.scalars(select(Product).where(Product.sku_key.in_(keys)))
        }
    specs = service.specs_for(p.id for p in products.values())
    visible_accounts = select(CustomerAccount.id, CustomerAccount.number)
    if not user.has_role(Role.SERVICE, Role.ADMIN):
        visible_accounts = visible_accounts.where(CustomerAccount.account_manager_id == user.id)
    accounts: dict[str, int] = {}
    for numbers in _sliced({r["account"].upper() for _, r in records if r["account"]}):
        accounts |= {
            number.upper(): account_id
            for account_id, number in db.session.execute(
                visible_accounts.where(func.upper(CustomerAccount.number).in_(numbers))
            )
        }
    sites: dict[tuple[int, str], int] = {}
    for ids in _sliced(set(accounts.values())):
        for address_id, account_id, label in db.session.execute(
            select(Address.id, Address.account_id, Address.label).where(
                Address.account_id.in_(ids), Address.kind == "shipping"
            )
        ):
            sites.setdefault((account_id, label.strip().lower()), address_id)
    wanted_serials = {
        (products[sku_key(r["sku"])].id, serial_key(r["serial"]))
        for _, r in records
        if r["serial"] and sku_key(r["sku"]) in products
    }
    taken: set[tuple[int, str]] = set()
    for pairs in _sliced(wanted_serials):
        taken |= set(
            db.session.execute(
                select(EquipmentUnit.product_id, EquipmentUnit.serial_key).where(
                    tuple_(EquipmentUnit.product_id, EquipmentUnit.serial_key).in_(pairs)
                )
            ).all()
        )

    problems: list[tuple[int, str]] = []
    seen: dict[tuple[int, str], int] = {}
    units: list[EquipmentUnit] = []
    for line, r in records:
        reasons = []
        product = products.get(sku_key(r["sku"])) if r["sku"] else None
        spec = specs.get(product.id) if product else None
        if not r["sku"]:
            reasons.append("the SKU is missing")
        elif product is None:
            reasons.append(f"unknown SKU “{r['sku'][:64]}”")
        elif spec is None:
            reasons.append(f"{product.sku} is not an equipment product")
        serial = r["serial"]
        if not serial:
            reasons.append("the serial number is missing")
        elif len(serial) > service.SERIAL_MAX:
            reasons.append(f"the serial number is longer than {service.SERIAL_MAX} characters")
        elif product is not None:
            key = (product.id, serial_key(serial))
            if key in seen:
                reasons.append(f"serial {serial} of {product.sku} is on line {seen[key]} already")
            elif key in taken:
                reasons.append(f"serial {serial} of {product.sku} is already recorded")
            else:
                seen[key] = line
        account_id = accounts.get(r["account"].upper()) if r["account"] else None
        if not r["account"]:
            reasons.append("the account is missing")
        elif account_id is None:
            reasons.append(f"unknown account “{r['account'][:20]}”")
        site_id = None
        if not r["site"]:
            reasons.append("the site is missing")
        elif account_id is not None:
            site_id = sites.get((account_id, r["site"].lower()))
            if site_id is None:
                reasons.append(f"unknown site “{r['site'][:80]}” for account {r['account']}")
        dates = {}
        for name in ("installed_on", "delivered_on"):
            try:
                dates[name] = _date(r[name], name.replace("_", " "))
            except ValueError as error:
                reasons.append(str(error))
                dates[name] = None
            else:
                if dates[name] is not None and dates[name] > today:
                    reasons.append(
                        f"{name.replace('_', ' ')} {dates[name]:%Y-%m-%d} is in the future"
                    )
        status = r["status"].lower().replace(" ", "_") or "in_service"
        if status not in UNIT_STATUSES:
            reasons.append(f"status “{r['status'][:20]}” is not one of {', '.join(UNIT_STATUSES)}")
        if reasons:
            problems.append((line, "; ".join(reasons)))
            continue
        units.append(
            EquipmentUnit(
                account_id=account_id,
                product_id=product.id,
                serial=serial,
                site_id=site_id,
                status=status,
                source="imported",
                installed_on=dates["installed_on"],
                delivered_on=dates["delivered_on"],
                warranty_until=service.warranty_end(
                    spec.warranty_months,
                    installed_on=dates["installed_on"],
                    delivered_on=dates["delivered_on"],
                ),
                created_by_id=user.id,
            )
        )
    if problems:
        raise ImportRefused(problems)
    db.session.add_all(units)
    db.session.commit()
    return len(units)
