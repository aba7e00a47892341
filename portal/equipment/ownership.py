"""Cost of ownership beside the price.

`cost_of_ownership` is one pure function over plain records, so every figure
can be checked by hand. For a period of `years`:

- maintenance: one visit every `interval_months`, so 12 / interval visits a
  year (on average: every 5 months is 2.4 visits a year); a visit costs its kit
  (each part's quantity × the account's price of that part) and its labour
  (hours × rate). Over the period: visit cost × 12 × years / interval.
- consumables: each one's quantity per year × the account's price of it.
- the vendor's stated yearly figures (`Product.yearly_service_cost`,
  `yearly_consumables_cost`) count only for products without a maintenance plan:
  a plan replaces them.
- total = unit price + (maintenance + consumables + stated) over the period.

A part without a price for the account is never counted as zero: the sums it
belongs to are None and the part is named in `missing`. Prices come from the
catalog's `price_lists` (what the quick order charges): the account's contract
where one is agreed, else the list price, which is said (`PricedPart.contract`).

Expected cost of delays and defects, from the observed record (see
`portal.equipment.observed`) and the account's own costs:

- delays: days late per order line (sum of days late / lines measured) × the
  cost of a day's delay — for one order of the product;
- defects: parts found defective per part delivered (affected / delivered) ×
  the number of units × the cost of a defect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.catalog import service as catalog
from portal.catalog.models import Product
from portal.extensions import db

from .models import (
    OWNERSHIP_YEARS_DEFAULT,
    OWNERSHIP_YEARS_MAX,
    EquipmentSpec,
    OwnershipSettings,
)

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


# --- the calculation ----------------------------------------------------------------------


@dataclass(frozen=True)
class PricedPart:
    """A kit part (quantity per visit) or a consumable (quantity per year) at the
    account's price; `unit_price` None: no price known for the account."""

    sku: str
    name: str
    quantity: Decimal
    unit_price: Decimal | None
    contract: bool = True  # False: the list price (no contract price agreed)
    product_id: int | None = None

    @property
    def cost(self) -> Decimal | None:
        return None if self.unit_price is None else self.unit_price * self.quantity


@dataclass(frozen=True)
class Plan:
    """What the cost of owning one unit of a product is made of."""

    unit_price: Decimal | None
    price_is_contract: bool = True
    warranty_months: int | None = None
    interval_months: int | None = None
    labour_hours: Decimal | None = None
    labour_rate: Decimal | None = None
    kit: tuple[PricedPart, ...] = ()
    consumables: tuple[PricedPart, ...] = ()
    stated_service: Decimal | None = None  # the vendor's yearly figure, where no plan
    stated_consumables: Decimal | None = None
    # The vendor keeps its labour rate and stated yearly figures in the base currency.
    # For an account priced in another one they cannot be added to its prices (the
    # portal keeps no exchange rates): set to the base currency's code, those figures
    # are shown in it and the totals that would mix the two are not given.
    vendor_currency: str | None = None


@dataclass(frozen=True)
class Ownership:
    plan: Plan
    years: int
    visits_per_year: Decimal
    kit_per_visit: Decimal | None
    labour_per_visit: Decimal
    maintenance_per_year: Decimal | None
    maintenance_over_period: Decimal | None
    consumables_per_year: Decimal | None
    consumables_over_period: Decimal | None
    stated_per_year: Decimal
    per_year: Decimal | None
    total: Decimal | None  # unit price + everything over the period
    missing: tuple[str, ...] = ()  # SKUs without a price for the account

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def has_running_costs(self) -> bool:
        return bool(
            self.plan.interval_months
            or self.plan.consumables
            or self.plan.stated_service
            or self.plan.stated_consumables
        )

    @property
    def list_priced(self) -> tuple[str, ...]:
        """SKUs priced at list price: the account has no contract price for them."""
        return tuple(
            p.sku
            for p in (*self.plan.kit, *self.plan.consumables)
            if not p.contract and p.unit_price is not None
        )


def _sum(parts: Iterable[PricedPart]) -> Decimal | None:
    total = Decimal("0")
    for part in parts:
        if part.cost is None:
            return None
        total += part.cost
    return total


def cost_of_ownership(plan: Plan, years: int) -> Ownership:
    """The cost of owning one unit for `years` (see the module's definitions)."""
    if not 1 <= years <= OWNERSHIP_YEARS_MAX:
        raise ValueError(f"the period is 1 to {OWNERSHIP_YEARS_MAX} years, not {years}")
    period = Decimal(years)
    missing = tuple(p.sku for p in (*plan.kit, *plan.consumables) if p.unit_price is None)
    if plan.interval_months:
        visits_per_year = Decimal(12) / Decimal(plan.interval_months)
        labour = (plan.labour_hours or Decimal("0")) * (plan.labour_rate or Decimal("0"))
        kit = _sum(plan.kit)
        visit = None if kit is None else kit + labour
        maintenance_year = None if visit is None else _cents(visit * visits_per_year)
        maintenance_period = (
            None if visit is None else _cents(visit * 12 * period / plan.interval_months)
        )
        stated = Decimal("0")
    else:
        visits_per_year, labour, kit = Decimal("0"), Decimal("0"), Decimal("0")
        maintenance_year = maintenance_period = Decimal("0")
        stated = (plan.stated_service or Decimal("0")) + (plan.stated_consumables or Decimal("0"))
    consumables = _sum(plan.consumables)
    consumables_year = None if consumables is None else _cents(consumables)
    consumables_period = None if consumables is None else _cents(consumables * period)
    per_year = total = None
    mixes_currencies = plan.vendor_currency is not None and bool(
        (plan.interval_months and plan.labour_hours and plan.labour_rate) or stated
    )
    if mixes_currencies and plan.interval_months:
        maintenance_year = maintenance_period = None
    # A unit price may be missing too: no list price in the account's currency.
    if (
        not mixes_currencies
        and maintenance_year is not None
        and consumables_year is not None
        and plan.unit_price is not None
    ):
        per_year = maintenance_year + consumables_year + stated
        total = plan.unit_price + maintenance_period + consumables_period + stated * period
    return Ownership(
        plan=plan,
        years=years,
        visits_per_year=visits_per_year,
        kit_per_visit=kit,
        labour_per_visit=labour,
        maintenance_per_year=maintenance_year,
        maintenance_over_period=maintenance_period,
        consumables_per_year=consumables_year,
        consumables_over_period=consumables_period,
        stated_per_year=stated,
        per_year=per_year,
        total=total,
        missing=missing,
    )


@dataclass(frozen=True)
class Observed:
    """What happened with a product: order lines judged against their first promise,
    parts delivered and found defective, repairs resolved (working hours)."""

    lines: int = 0
    on_time: int = 0
    late_days: int = 0  # days late summed over the lines that arrived late
    delivered: int = 0
    affected: int = 0
    repairs: int = 0
    repair_hours_median: float | None = None

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.lines if self.lines else None

    @property
    def ppm(self) -> float | None:
        return self.affected * 1_000_000 / self.delivered if self.delivered else None


@dataclass(frozen=True)
class Risk:
    """Expected cost of delays (one order) and defects (`units` units)."""

    delay: Decimal | None
    defects: Decimal | None

    @property
    def total(self) -> Decimal | None:
        known = [v for v in (self.delay, self.defects) if v is not None]
        return sum(known, Decimal("0")) if known else None


def expected_costs(
    observed: Observed,
    *,
    delay_day_cost: Decimal | None,
    defect_cost: Decimal | None,
    units: int = 1,
) -> Risk:
    """The account's cost of a day's delay and of a defect applied to the observed
    record; None where the account set no cost or nothing was observed."""
    delay = defects = None
    if delay_day_cost is not None and observed.lines:
        delay = _cents(Decimal(observed.late_days) / observed.lines * delay_day_cost)
    if defect_cost is not None and observed.delivered:
        defects = _cents(Decimal(observed.affected) / observed.delivered * units * defect_cost)
    return Risk(delay, defects)


# --- reading it for an account -------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """An account's period and own costs (defaults where it set none)."""

    years: int = OWNERSHIP_YEARS_DEFAULT
    delay_day_cost: Decimal | None = None
    defect_cost: Decimal | None = None


def terms_of(account_id: int | None) -> Terms:
    """The account's terms; vendor staff (no account) see the default period."""
    if account_id is None:
        return Terms()
    row = db.session.get(OwnershipSettings, account_id)
    if row is None:
        return Terms()
    return Terms(row.years, row.delay_day_cost, row.defect_cost)


def save_terms(actor, account_id: int, years: int, delay_day_cost, defect_cost) -> Terms:
    """A customer admin sets the account's period and own costs (checked again here:
    the database refuses them too)."""
    from portal.errors import DomainError

    if not 1 <= years <= OWNERSHIP_YEARS_MAX:
        raise DomainError(f"Choose 1 to {OWNERSHIP_YEARS_MAX} years.", field="years")
    for name, value in (("delay_day_cost", delay_day_cost), ("defect_cost", defect_cost)):
        if value is not None and value < 0:
            raise DomainError("A cost cannot be negative.", field=name)
    row = db.session.get(OwnershipSettings, account_id) or OwnershipSettings(account_id=account_id)
    row.years, row.delay_day_cost, row.defect_cost = years, delay_day_cost, defect_cost
    row.updated_by_id = actor.id
    db.session.add(row)
    db.session.commit()
    return Terms(years, delay_day_cost, defect_cost)


@dataclass
class ProductOwnership:
    """One product's cost of ownership for an account, its record and expected costs."""

    product: Product
    ownership: Ownership
    observed: Observed = field(default_factory=Observed)
    risk: Risk = field(default_factory=lambda: Risk(None, None))
    is_equipment: bool = False

    @property
    def total_with_risk(self) -> Decimal | None:
        # Only when something is expected: an equal figure would read as "no risk".
        if self.ownership.total is None or self.risk.total is None:
            return None
        return self.ownership.total + self.risk.total


def _unit_count(quantity: Decimal) -> int:
    """The order quantity whose price break applies to a part: at least one."""
    return max(1, math.ceil(quantity))


def plans_for(account_id: int | None, products: list[Product], on: date) -> dict[int, Plan]:
    """Each product's plan at the account's prices: one statement for the terms, one for
    the parts' products, one for every price (the catalog's, as the quick order's)."""
    from sqlalchemy.orm import selectinload

    from .models import ConsumableUsage, MaintenanceKitLine

    specs = (
        {
            s.product_id: s
            for s in db.session.scalars(
                select(EquipmentSpec)
                .where(EquipmentSpec.product_id.in_([p.id for p in products]))
                .options(
                    selectinload(EquipmentSpec.kit).joinedload(MaintenanceKitLine.part),
                    selectinload(EquipmentSpec.consumables).joinedload(ConsumableUsage.consumable),
                )
            )
        }
        if products
        else {}
    )
    priced: dict[int, Product] = {p.id: p for p in products}
    for spec in specs.values():
        priced.update({line.part.id: line.part for line in spec.kit})
        priced.update({use.consumable.id: use.consumable for use in spec.consumables})
    prices = catalog.price_lists(account_id, list(priced.values()), on)
    base = catalog.base_currency()
    vendor_currency = base if catalog.account_currency(account_id) != base else None

    def part(product: Product, quantity: Decimal) -> PricedPart:
        price_list = prices.get(product.id)
        return PricedPart(
            sku=product.sku,
            name=product.name,
            quantity=quantity,
            unit_price=price_list.unit_price(_unit_count(quantity)) if price_list else None,
            contract=bool(price_list and price_list.is_contract),
            product_id=product.id,
        )

    result = {}
    for product in products:
        spec = specs.get(product.id)
        own_price = prices[product.id]
        common = {
            "unit_price": own_price.from_price,
            "price_is_contract": own_price.is_contract,
            "vendor_currency": vendor_currency,
            "stated_service": product.yearly_service_cost,
            "stated_consumables": product.yearly_consumables_cost,
        }
        if spec is None:
            result[product.id] = Plan(**common)
            continue
        result[product.id] = Plan(
            **common,
            warranty_months=spec.warranty_months,
            interval_months=spec.maintenance_interval_months,
            labour_hours=spec.maintenance_labour_hours,
            labour_rate=spec.maintenance_labour_rate,
            kit=tuple(part(line.part, Decimal(line.quantity)) for line in spec.kit),
            consumables=tuple(
                part(use.consumable, use.quantity_per_year) for use in spec.consumables
            ),
        )
    return result


def ownership_for(
    account_id: int | None,
    products: list[Product],
    on: date,
    *,
    years: int | None = None,
    with_record: bool = True,
    now=None,
) -> dict[int, ProductOwnership]:
    """The cost of ownership of each product for the account, over its period (or
    `years`), with the vendor's observed record and the expected cost of delays and
    defects at the account's own costs. A fixed number of statements for any number
    of products."""
    from . import observed as observed_record

    terms = terms_of(account_id)
    period = years or terms.years
    plans = plans_for(account_id, products, on)
    record = observed_record.observed_for([p.id for p in products], on, now) if with_record else {}
    specs = {pid for pid, plan in plans.items() if plan.warranty_months is not None}
    result = {}
    for product in products:
        seen = record.get(product.id, Observed())
        result[product.id] = ProductOwnership(
            product=product,
            ownership=cost_of_ownership(plans[product.id], period),
            observed=seen,
            risk=expected_costs(
                seen, delay_day_cost=terms.delay_day_cost, defect_cost=terms.defect_cost
            ),
            is_equipment=product.id in specs,
        )
    return result
