"""Vendor admins keep the catalog: products, stock, contract prices, and imports.

An import applies every row or none: all rows are checked first and every bad
row is reported with its line number and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.audit import service as audit
from portal.errors import DomainError, Forbidden
from portal.extensions import db
from portal.spreadsheets import Column, Columns

from . import service
from .models import (
    PRODUCT_STATUSES,
    Category,
    ContractPrice,
    Product,
    ProductPrice,
    Stock,
    sku_key,
)

# Plain attributes of a product; the form and the import also set its category
# (by name) and its stock on hand.
PRODUCT_ATTRIBUTES = (
    "sku",
    "name",
    "description",
    "unit",
    "pack_size",
    "min_order_qty",
    "order_multiple",
    "lead_time_days",
    "list_price",
    "status",
    "replacement_sku",
    "yearly_service_cost",
    "yearly_consumables_cost",
)
PRODUCT_FIELDS = (*PRODUCT_ATTRIBUTES, "category", "on_hand")
# The import's column for a list price in another currency than the base one.
OTHER_PRICE_COLUMN = "list_price_{}"
REQUIRED_COLUMNS = ("sku", "name", "category", "list_price")
MAX_IMPORT_ROWS = 10_000

# The product import's columns: the header people read and write, in each language
# (portal.spreadsheets.Columns); the key is accepted too, as older files name them.
PRODUCT_COLUMNS = (
    Column("sku", _l("SKU")),
    Column("name", _l("Name")),
    Column("description", _l("Description")),
    Column("category", _l("Category")),
    Column("unit", _l("Unit of measure")),
    Column("pack_size", _l("Pack size")),
    Column("min_order_qty", _l("Minimum order quantity")),
    Column("order_multiple", _l("Order multiple")),
    Column("lead_time_days", _l("Lead time (days)")),
    Column("list_price", _l("List price")),
    Column("status", _l("Status")),
    Column("replacement_sku", _l("Replacement SKU")),
    Column("yearly_service_cost", _l("Yearly service cost")),
    Column("yearly_consumables_cost", _l("Yearly consumables cost")),
    Column("on_hand", _l("Stock on hand")),
)


def product_columns() -> Columns:
    """The product import's columns, with one list price column per other currency."""
    others = tuple(
        Column(OTHER_PRICE_COLUMN.format(c.lower()), _l("List price %(currency)s", currency=c))
        for c in service.other_currencies()
    )
    return Columns(*PRODUCT_COLUMNS, *others, required=("sku",))


class ImportRefused(DomainError):
    """Nothing was imported; `problems` holds (line number, reason) for every bad row."""

    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__(
            f"Nothing was imported: {len(problems)} problem"
            f"{'s' if len(problems) != 1 else ''} in the file."
        )
        self.problems = problems


def _require_admin(actor: User) -> None:
    if not (actor.is_vendor_staff and actor.has_role(Role.ADMIN)):
        raise Forbidden("Only a vendor admin keeps the catalog.")


def _snapshot(product: Product) -> dict:
    return {
        f: (
            str(getattr(product, f))
            if isinstance(getattr(product, f, None), Decimal)
            else getattr(product, f, None)
        )
        for f in PRODUCT_ATTRIBUTES
    } | {
        "category": product.category.name if product.category else None,
        "on_hand": product.stock.on_hand if product.stock else None,
        "other_prices": {p.currency: str(p.amount) for p in product.other_prices},
    }


def _category(name: str) -> Category:
    name = " ".join(name.split())
    found = db.session.scalar(select(Category).where(Category.name == name))
    if found is None:
        found = Category(name=name, position=100)
        db.session.add(found)
    return found


def _apply(product: Product, values: dict) -> None:
    """Set validated values on a product (and its stock)."""
    for key in PRODUCT_ATTRIBUTES:
        if key in values:
            setattr(product, key, values[key])
    if "category" in values:
        product.category = _category(values["category"])
    if values.get("on_hand") is not None:
        if product.stock is None:
            product.stock = Stock(on_hand=0, reserved=0)
        if values["on_hand"] < product.stock.reserved:
            raise DomainError(
                f"{product.stock.reserved} are reserved for orders; on hand cannot be less.",
                field="on_hand",
            )
        product.stock.on_hand = values["on_hand"]
    elif product.stock is None:
        product.stock = Stock(on_hand=0, reserved=0)
    if "other_prices" in values:
        _set_other_prices(product, values["other_prices"])


def _set_other_prices(product: Product, amounts: dict[str, Decimal | None]) -> None:
    """List prices in other currencies: an amount sets it, None removes it; a currency
    not named is left as it is."""
    current = {p.currency: p for p in product.other_prices}
    for currency, amount in amounts.items():
        if amount is None:
            if currency in current:
                product.other_prices.remove(current[currency])
        elif currency in current:
            current[currency].amount = amount
        else:
            product.other_prices.append(ProductPrice(currency=currency, amount=amount))


def check_product_values(values: dict, *, product_id: int | None) -> list[str]:
    """Problems with a product's values (shared by the form and the import)."""
    problems = []
    if values.get("sku") is not None:
        clash = db.session.scalar(
            select(Product.id).where(
                Product.sku_key == sku_key(values["sku"]), Product.id != (product_id or 0)
            )
        )
        if clash is not None:
            problems.append(f"SKU {values['sku']} already exists")
    if values.get("status", "active") not in PRODUCT_STATUSES:
        problems.append("status must be active or discontinued")
    for key in ("pack_size", "min_order_qty", "order_multiple"):
        if values.get(key) is not None and values[key] < 1:
            problems.append(f"{key.replace('_', ' ')} must be at least 1")
    if (
        values.get("min_order_qty")
        and values.get("order_multiple")
        and values["min_order_qty"] % values["order_multiple"]
    ):
        problems.append("the minimum order must be a multiple of the order multiple")
    for key in ("list_price", "yearly_service_cost", "yearly_consumables_cost"):
        if values.get(key) is not None and values[key] < 0:
            problems.append(f"{key.replace('_', ' ')} cannot be negative")
    if values.get("lead_time_days") is not None and not 0 <= values["lead_time_days"] <= 730:
        problems.append("lead time must be between 0 and 730 days")
    if values.get("on_hand") is not None and values["on_hand"] < 0:
        problems.append("on hand cannot be negative")
    amounts = {service.base_currency(): values.get("list_price")} | values.get("other_prices", {})
    for currency, amount in amounts.items():
        problem = service.amount_problem(amount, currency)
        if problem:
            problems.append(problem)
    return problems


def save_product(actor: User, product: Product | None, values: dict) -> Product:
    """Create a product, or change one; the change is audited."""
    _require_admin(actor)
    problems = check_product_values(values, product_id=product.id if product else None)
    if problems:
        raise DomainError(problems[0][0].upper() + problems[0][1:] + ".")
    creating = product is None
    before = None if creating else _snapshot(product)
    if creating:
        product = Product()
    with db.session.no_autoflush:  # the product is complete only after _apply
        _apply(product, values)
    db.session.add(product)
    db.session.flush()
    if creating:
        audit.record(
            "product_created",
            actor=actor,
            target=f"product:{product.id}",
            detail={"after": _snapshot(product)},
        )
    else:
        audit.record_change(
            "product_updated",
            actor=actor,
            target=f"product:{product.id}",
            before=before,
            after=_snapshot(product),
        )
    db.session.commit()
    return product


# --- import -------------------------------------------------------------------------


def _int(text: str, name: str, problems: list[str]) -> int | None:
    if text == "":
        return None
    try:
        value = Decimal(text)
        if value != value.to_integral_value():
            raise InvalidOperation
        return int(value)
    except InvalidOperation:
        problems.append(f"{name} “{text[:20]}” is not a whole number")
        return None


def _money(text: str, name: str, problems: list[str]) -> Decimal | None:
    if text == "":
        return None
    try:
        value = Decimal(
            text.replace(",", ".")
            if text.count(",") == 1 and "." not in text
            else text.replace(",", "")
        )
        if not value.is_finite() or value.as_tuple().exponent < -2:
            raise InvalidOperation
        return value
    except InvalidOperation:
        problems.append(f"{name} “{text[:20]}” is not an amount with at most two decimals")
        return None


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int


def import_products(actor: User, rows: list[tuple[int, list[str]]]) -> ImportResult:
    """Create or update products from rows whose first row names the columns.

    Known columns: sku, name, description, category, unit, pack_size,
    min_order_qty, order_multiple, lead_time_days, list_price, status,
    replacement_sku, yearly_service_cost, yearly_consumables_cost, on_hand.
    A product is found by its SKU (any case); empty cells leave a value as it is.
    """
    _require_admin(actor)
    if not rows:
        raise ImportRefused([(1, "the file has no rows")])
    header_line, header = rows[0]
    layout = product_columns()
    found = layout.locate(header)
    if problem := layout.problem(found):
        raise ImportRefused([(header_line, problem)])
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise ImportRefused([(header_line, f"more than {MAX_IMPORT_ROWS:,} rows")])
    # Each cell by its column's key, whatever language the header was written in.
    columns = [None] * len(header)
    for key, index in found.positions.items():
        columns[index] = key
    price_columns = {OTHER_PRICE_COLUMN.format(c.lower()): c for c in service.other_currencies()}

    sku_column = columns.index("sku")
    existing = service.products_by_sku_key(
        sku_key(cells[sku_column]) for _, cells in rows[1:] if len(cells) > sku_column
    )
    problems: list[tuple[int, str]] = []
    planned: list[tuple[Product | None, dict]] = []
    seen: dict[str, int] = {}
    for line, cells in rows[1:]:
        cells = (cells + [""] * len(columns))[: len(columns)]
        raw = {
            key: cell.strip() for key, cell in zip(columns, cells, strict=True) if key is not None
        }
        row_problems: list[str] = []
        sku = raw.get("sku", "")
        if not sku:
            problems.append((line, "no SKU"))
            continue
        key = sku_key(sku)
        if key in seen:
            problems.append((line, f"SKU {sku} already appears on line {seen[key]}"))
            continue
        seen[key] = line
        product = existing.get(key)
        values: dict = {"sku": sku}
        for name in ("name", "description", "category", "unit", "status", "replacement_sku"):
            if raw.get(name):
                values[name] = raw[name]
        for name in ("pack_size", "min_order_qty", "order_multiple", "lead_time_days", "on_hand"):
            if name in raw:
                parsed = _int(raw[name], name.replace("_", " "), row_problems)
                if parsed is not None:
                    values[name] = parsed
        for name in ("list_price", "yearly_service_cost", "yearly_consumables_cost"):
            if name in raw:
                parsed = _money(raw[name], name.replace("_", " "), row_problems)
                if parsed is not None:
                    values[name] = parsed
        for column, currency in price_columns.items():
            # An empty cell leaves the price as it is, like every other column.
            if raw.get(column):
                parsed = _money(raw[column], column.replace("_", " "), row_problems)
                if parsed is not None:
                    values.setdefault("other_prices", {})[currency] = parsed
        if product is None:
            for name in REQUIRED_COLUMNS:
                if name not in values:
                    row_problems.append(f"a new product needs a {name.replace('_', ' ')}")
        if len(values.get("name", "")) > 200 or len(sku) > 64:
            row_problems.append("the SKU (64) or the name (200 characters) is too long")
        if values.get("status") not in (None, *PRODUCT_STATUSES):
            row_problems.append("status must be active or discontinued")
        merged = (
            {f: getattr(product, f) for f in ("min_order_qty", "order_multiple")} if product else {}
        ) | values
        row_problems += [
            p for p in check_product_values(merged, product_id=None) if not p.startswith("SKU ")
        ]
        if (
            product
            and product.stock
            and values.get("on_hand") is not None
            and values["on_hand"] < product.stock.reserved
        ):
            row_problems.append(
                f"on hand {values['on_hand']} is below the "
                f"{product.stock.reserved} reserved for orders"
            )
        problems += [(line, p) for p in row_problems]
        planned.append((product, values))
    if problems:
        raise ImportRefused(problems)

    created = updated = 0
    with db.session.no_autoflush:
        for product, values in planned:
            if product is None:
                product = Product()
                created += 1
            else:
                updated += 1
            _apply(product, values)
            db.session.add(product)
    audit.record("products_imported", actor=actor, detail={"created": created, "updated": updated})
    db.session.commit()
    return ImportResult(created, updated)


# --- contract prices ----------------------------------------------------------------


def contract_prices(account: CustomerAccount) -> list[tuple[ContractPrice, str, str]]:
    """Every price break of the account (past, current, future), with SKU and name."""
    return list(
        db.session.execute(
            select(ContractPrice, Product.sku, Product.name)
            .join(Product, Product.id == ContractPrice.product_id)
            .where(ContractPrice.account_id == account.id)
            .order_by(Product.sku_key, ContractPrice.valid_from.desc(), ContractPrice.min_quantity)
        ).all()
    )


def add_contract_price(
    actor: User,
    account: CustomerAccount,
    *,
    sku: str,
    min_quantity: int,
    unit_price: Decimal,
    valid_from: date,
    valid_until: date | None,
) -> ContractPrice:
    """Add one quantity break of an account's agreed price for a product."""
    _require_admin(actor)
    product = db.session.scalar(select(Product).where(Product.sku_key == sku_key(sku)))
    if product is None:
        raise DomainError(f"No product has the SKU {sku}.", field="sku")
    if valid_until is not None and valid_until < valid_from:
        raise DomainError("The end of the validity is before its start.", field="valid_until")
    problem = service.amount_problem(unit_price, account.currency)
    if problem:
        raise DomainError(problem + ".", field="unit_price")
    duplicate = db.session.scalar(
        select(ContractPrice.id).where(
            ContractPrice.account_id == account.id,
            ContractPrice.product_id == product.id,
            ContractPrice.valid_from == valid_from,
            ContractPrice.min_quantity == min_quantity,
        )
    )
    if duplicate is not None:
        raise DomainError(
            "This break already exists for this start date; remove it first.", field="min_quantity"
        )
    price = ContractPrice(
        account_id=account.id,
        product_id=product.id,
        min_quantity=min_quantity,
        unit_price=unit_price,
        currency=account.currency,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    db.session.add(price)
    db.session.flush()
    audit.record(
        "contract_price_added",
        actor=actor,
        account_id=account.id,
        target=f"contract_price:{price.id}",
        detail={
            "after": {
                "sku": product.sku,
                "min_quantity": min_quantity,
                "unit_price": str(unit_price),
                "currency": account.currency,
                "valid_from": valid_from.isoformat(),
                "valid_until": valid_until.isoformat() if valid_until else None,
            }
        },
    )
    db.session.commit()
    return price


def remove_contract_price(actor: User, price: ContractPrice) -> None:
    _require_admin(actor)
    audit.record(
        "contract_price_removed",
        actor=actor,
        account_id=price.account_id,
        target=f"contract_price:{price.id}",
        detail={
            "before": {
                "sku": price.product.sku,
                "min_quantity": price.min_quantity,
                "unit_price": str(price.unit_price),
            }
        },
    )
    db.session.delete(price)
    db.session.commit()


# The contract price import's columns; valid until (no end date) and currency (the
# account's) may be left out.
PRICE_COLUMNS = Columns(
    Column("account_number", _l("Account number")),
    Column("sku", _l("SKU")),
    Column("min_quantity", _l("Minimum quantity")),
    Column("unit_price", _l("Unit price")),
    Column("valid_from", _l("Valid from")),
    Column("valid_until", _l("Valid until")),
    Column("currency", _l("Currency")),
    required=("account_number", "sku", "min_quantity", "unit_price", "valid_from"),
)


def _date(text: str, name: str, problems: list[str]) -> date | None:
    if text == "":
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        problems.append(f"{name} “{text[:20]}” is not a date (YYYY-MM-DD)")
        return None


def import_contract_prices(actor: User, rows: list[tuple[int, list[str]]]) -> ImportResult:
    """Add contract price breaks from rows whose first row names the columns
    account_number, sku, min_quantity, unit_price, valid_from, valid_until and,
    optionally, currency. A price is in its account's currency: a currency column
    that names another is a bad row, not a conversion. Every row or none; a break
    that already exists (same account, product, start and quantity) gets the new
    price and end date."""
    _require_admin(actor)
    if not rows:
        raise ImportRefused([(1, "the file has no rows")])
    header_line, header = rows[0]
    found = PRICE_COLUMNS.locate(header)
    if problem := PRICE_COLUMNS.problem(found):
        raise ImportRefused([(header_line, problem)])
    if len(rows) - 1 > MAX_IMPORT_ROWS:
        raise ImportRefused([(header_line, f"more than {MAX_IMPORT_ROWS:,} rows")])
    records = [
        (line, {key: found.cell(cells, key) for key in found.positions}) for line, cells in rows[1:]
    ]
    accounts = {
        number: (account_id, currency)
        for number, account_id, currency in db.session.execute(
            select(CustomerAccount.number, CustomerAccount.id, CustomerAccount.currency).where(
                CustomerAccount.number.in_(
                    {r.get("account_number", "").upper() for _, r in records}
                )
            )
        ).all()
    }
    products = dict(
        db.session.execute(
            select(Product.sku_key, Product.id).where(
                Product.sku_key.in_({sku_key(r.get("sku", "")) for _, r in records})
            )
        ).all()
    )
    problems: list[tuple[int, str]] = []
    planned = []
    seen: dict[tuple, int] = {}
    for line, raw in records:
        row_problems: list[str] = []
        account_id, currency = accounts.get(raw.get("account_number", "").upper(), (None, None))
        if account_id is None:
            row_problems.append(f"no customer account {raw.get('account_number') or '(empty)'}")
        given_currency = raw.get("currency", "").upper()
        currency_differs = bool(currency and given_currency and given_currency != currency)
        if currency_differs:
            row_problems.append(
                gettext(
                    "account %(number)s is priced in %(currency)s, not %(given)s",
                    number=raw.get("account_number", "").upper(),
                    currency=currency,
                    given=given_currency[:3],
                )
            )
        product_id = products.get(sku_key(raw.get("sku", "")))
        if product_id is None:
            row_problems.append(f"no product with the SKU {raw.get('sku') or '(empty)'}")
        min_quantity = _int(raw.get("min_quantity", ""), "min quantity", row_problems)
        if min_quantity is not None and min_quantity < 1:
            row_problems.append("min quantity must be at least 1")
        unit_price = _money(raw.get("unit_price", ""), "unit price", row_problems)
        if raw.get("unit_price", "") == "":
            row_problems.append("no unit price")
        elif unit_price is not None and unit_price < 0:
            row_problems.append("unit price cannot be negative")
        elif unit_price is not None and currency and not currency_differs:
            problem = service.amount_problem(unit_price, currency)
            if problem:
                row_problems.append(problem)
        valid_from = _date(raw.get("valid_from", ""), "valid from", row_problems)
        if raw.get("valid_from", "") == "":
            row_problems.append("no valid-from date")
        valid_until = _date(raw.get("valid_until", ""), "valid until", row_problems)
        if valid_from and valid_until and valid_until < valid_from:
            row_problems.append("valid until is before valid from")
        key = (account_id, product_id, valid_from, min_quantity)
        if not row_problems and key in seen:
            row_problems.append(f"the same break as line {seen[key]}")
        seen.setdefault(key, line)
        problems += [(line, p) for p in row_problems]
        planned.append(
            dict(
                account_id=account_id,
                product_id=product_id,
                min_quantity=min_quantity or 1,
                unit_price=unit_price,
                currency=currency,
                valid_from=valid_from,
                valid_until=valid_until,
            )
        )
    if problems:
        raise ImportRefused(problems)
    existing = {
        (p.account_id, p.product_id, p.valid_from, p.min_quantity): p
        for p in db.session.scalars(
            select(ContractPrice).where(
                ContractPrice.account_id.in_({r["account_id"] for r in planned})
            )
        )
    }
    created = updated = 0
    for values in planned:
        key = (
            values["account_id"],
            values["product_id"],
            values["valid_from"],
            values["min_quantity"],
        )
        if key in existing:
            existing[key].unit_price = values["unit_price"]
            existing[key].currency = values["currency"]
            existing[key].valid_until = values["valid_until"]
            updated += 1
        else:
            db.session.add(ContractPrice(**values))
            created += 1
    audit.record(
        "contract_prices_imported", actor=actor, detail={"created": created, "updated": updated}
    )
    db.session.commit()
    return ImportResult(created, updated)
