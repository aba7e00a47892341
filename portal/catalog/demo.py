"""Demo catalog: about 300 products in six categories, stock, and contract prices for
every demo account. Deterministic: everything random comes from the caller's Random(42)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from portal.accounts.models import CustomerAccount
from portal.extensions import db

from .models import Category, ContractPrice, Product, ProductPrice, Stock

# Demo prices in other currencies than the base (euro) one: units per euro, and the
# step an amount is rounded to (rupiah lists are written in whole hundreds).
DEMO_RATES = {"IDR": (Decimal(17_500), Decimal(100))}


def in_currency(euros: Decimal, currency: str) -> Decimal:
    """A demo euro amount in `currency`, rounded to that currency's usual step."""
    rate, step = DEMO_RATES[currency]
    return max(step, (euros * rate / step).quantize(Decimal(1)) * step)


SEALS = {"2RS": "rubber seals", "ZZ": "metal shields"}


def _bearings(rng: random.Random):
    for series in ("60", "62", "63"):
        for size in range(0, 20):
            for seal in ("2RS", "ZZ"):
                code = f"{series}{size:02d}-{seal}"
                yield dict(
                    sku=f"BRG-{code}",
                    name=f"Deep groove ball bearing {code}",
                    description=f"Single row deep groove ball bearing, {SEALS[seal]}, "
                    f"series {series}, bore code {size:02d}. Steel cage, C3 clearance.",
                    unit="pc",
                    pack_size=1,
                    min_order_qty=1,
                    order_multiple=1,
                    list_price=Decimal(rng.randint(350, 4800)) / 100,
                )


def _fasteners(rng: random.Random):
    for size, lengths in (
        ("M6", (16, 20, 25, 30)),
        ("M8", (20, 25, 30, 40, 50)),
        ("M10", (25, 30, 40, 60)),
        ("M12", (30, 40, 60, 80)),
    ):
        for length in lengths:
            for grade, material in (
                ("A2", "stainless steel A2"),
                ("8.8", "zinc plated steel 8.8"),
                ("A4", "stainless steel A4"),
            ):
                yield dict(
                    sku=f"FST-{size}x{length}-{grade}",
                    name=f"Hex bolt {size}×{length} {material}",
                    description=f"ISO 4017 hexagon head screw, fully threaded, {material}.",
                    unit="pc",
                    pack_size=100,
                    min_order_qty=100,
                    order_multiple=100,
                    list_price=Decimal(rng.randint(4, 90)) / 100,
                )


def _seals(rng: random.Random):
    for material, label in (
        ("NBR", "nitrile"),
        ("FKM", "fluoroelastomer (Viton)"),
        ("EPDM", "EPDM"),
    ):
        for inner in (10, 12, 16, 20, 25, 30, 40, 50, 63, 80):
            for section in (2.5, 3.5):
                if rng.random() < 0.3:
                    continue
                yield dict(
                    sku=f"ORG-{material}-{inner}x{section}",
                    name=f"O-ring {inner}×{section} {material}",
                    description=f"O-ring in {label}, 70 Shore A, inner diameter {inner} mm, "
                    f"cross section {section} mm.",
                    unit="pc",
                    pack_size=50,
                    min_order_qty=50,
                    order_multiple=50,
                    list_price=Decimal(rng.randint(8, 160)) / 100,
                )


def _hydraulics(rng: random.Random):
    for kind, label in (("VLV", "Solenoid valve"), ("BLV", "Ball valve"), ("CHK", "Check valve")):
        for thread in ("1/4", "3/8", "1/2", "3/4", "1"):
            for variant, text in (
                ("NC", "normally closed"),
                ("NO", "normally open"),
                ("SS", "stainless body"),
            ):
                if rng.random() < 0.15:
                    continue
                yield dict(
                    sku=f"HYD-{kind}-{thread}-{variant}",
                    name=f'{label} G{thread}" {text}',
                    description=f"{label} with G{thread} BSPP ports, {text}, rated 250 bar.",
                    unit="pc",
                    pack_size=1,
                    min_order_qty=1,
                    order_multiple=1,
                    list_price=Decimal(rng.randint(1800, 42000)) / 100,
                )


def _electrical(rng: random.Random):
    for cores in ("2G", "3G", "4G", "5G", "7G"):
        for section in ("0.75", "1.5", "2.5", "4", "6"):
            for kind, text in (("PUR", "PUR sheath, drag chain"), ("PVC", "PVC sheath")):
                if rng.random() < 0.25:
                    continue
                yield dict(
                    sku=f"EL-CBL-{cores}{section}-{kind}",
                    name=f"Control cable {cores}{section} mm² {kind}",
                    description=f"Flexible control cable, {cores[:-1]} cores of {section} mm², "
                    f"{text}.",
                    unit="m",
                    pack_size=1,
                    min_order_qty=10,
                    order_multiple=5,
                    list_price=Decimal(rng.randint(60, 1400)) / 100,
                )


def _equipment(rng: random.Random):
    machines = [
        ("PMP", "Centrifugal pump", "l/min", (100, 200, 300, 500, 800)),
        ("CMP", "Screw compressor", "kW", (7, 11, 15, 22, 37)),
        ("FLT", "Hydraulic filter unit", "µm", (3, 10, 25)),
        ("CHL", "Process chiller", "kW", (5, 10, 20, 40)),
    ]
    for code, label, unit_label, sizes in machines:
        for size in sizes:
            for edition in ("", " X"):
                price = Decimal(rng.randint(120_000, 2_400_000)) / 100
                yield dict(
                    sku=f"EQ-{code}-{size}{edition}",
                    name=f"{label} {size} {unit_label}{' (extended)' if edition else ''}",
                    description=f"{label}, {size} {unit_label}. "
                    "Delivered tested, with manual and CE declaration.",
                    unit="pc",
                    pack_size=1,
                    min_order_qty=1,
                    order_multiple=1,
                    list_price=price,
                    yearly_service_cost=(price * Decimal("0.06")).quantize(Decimal("0.01")),
                    yearly_consumables_cost=(price * Decimal(rng.randint(2, 9)) / 100).quantize(
                        Decimal("0.01")
                    ),
                )


CATEGORIES = [
    ("Bearings", _bearings),
    ("Fasteners", _fasteners),
    ("Seals and O-rings", _seals),
    ("Hydraulic valves", _hydraulics),
    ("Cables", _electrical),
    ("Equipment", _equipment),
]


def load(rng: random.Random, today: date) -> dict[str, int]:
    """Insert the demo catalog; returns counts. Core inserts keep `make run` quick."""
    product_rows = []
    for position, (name, generate) in enumerate(CATEGORIES):
        category = Category(name=name, position=position)
        db.session.add(category)
        db.session.flush()
        for row in generate(rng):
            product_rows.append(
                {
                    "category_id": category.id,
                    "sku_key": row["sku"].upper(),
                    "status": "active",
                    "lead_time_days": rng.choice((3, 5, 7, 10, 14, 21, 28, 42, 60)),
                    "yearly_service_cost": None,
                    "yearly_consumables_cost": None,
                    "replacement_sku": None,
                    **row,
                }
            )
    # About one in twenty is discontinued, replaced by the next product of its category.
    for index, row in enumerate(product_rows[:-1]):
        following = product_rows[index + 1]
        if rng.random() < 0.05 and following["category_id"] == row["category_id"]:
            row["status"] = "discontinued"
            row["replacement_sku"] = following["sku"]
    db.session.execute(insert(Product), product_rows)
    ids = dict(db.session.execute(select(Product.sku_key, Product.id)).all())
    db.session.execute(
        insert(Stock),
        [
            {
                "product_id": ids[row["sku_key"]],
                "reserved": 0,
                "on_hand": 0 if rng.random() < 0.2 else rng.randint(1, 60) * row["order_multiple"],
            }
            for row in product_rows
        ],
    )

    # Every product has a rupiah list price too, for the Indonesian account: the euro
    # price at a round rate, in whole hundreds of rupiah as an Indonesian list reads.
    other_price_rows = [
        {
            "product_id": ids[row["sku_key"]],
            "currency": currency,
            "amount": in_currency(row["list_price"], currency),
        }
        for row in product_rows
        for currency in DEMO_RATES
    ]
    db.session.execute(insert(ProductPrice), other_price_rows)

    price_rows = []
    accounts = db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)).all()
    for account in accounts:
        convert = (
            (lambda amount, c=account.currency: in_currency(amount, c))
            if account.currency in DEMO_RATES
            else (lambda amount: amount.quantize(Decimal("0.01")))
        )
        share = rng.uniform(0.3, 0.5)
        for row in product_rows:
            if row["status"] != "active" or rng.random() > share:
                continue
            product_id, list_price = ids[row["sku_key"]], row["list_price"]
            start = today - timedelta(days=rng.randint(30, 400))
            until = None if rng.random() < 0.7 else today + timedelta(days=rng.randint(30, 300))
            discount = Decimal(rng.randint(5, 20)) / 100
            breaks = [(row["min_order_qty"], discount)]
            if rng.random() < 0.35:
                step = row["order_multiple"] * rng.choice((10, 20, 50))
                breaks += [
                    (row["min_order_qty"] + step, discount + Decimal("0.04")),
                    (row["min_order_qty"] + 5 * step, discount + Decimal("0.08")),
                ]
            for min_quantity, off in breaks:
                price_rows.append(
                    {
                        "account_id": account.id,
                        "product_id": product_id,
                        "min_quantity": min_quantity,
                        "unit_price": convert(list_price * (1 - off)),
                        "currency": account.currency,
                        "valid_from": start,
                        "valid_until": until,
                    }
                )
            if rng.random() < 0.1:
                # An agreement that has run out: it must no longer apply.
                price_rows.append(
                    {
                        "account_id": account.id,
                        "product_id": product_id,
                        "min_quantity": 1,
                        "unit_price": convert(list_price * Decimal("0.5")),
                        "currency": account.currency,
                        "valid_from": start - timedelta(days=400),
                        "valid_until": start - timedelta(days=1),
                    }
                )
    db.session.execute(insert(ContractPrice), price_rows)
    return {
        "products": len(product_rows),
        "contract prices": len(price_rows),
        "list prices in other currencies": len(other_price_rows),
    }
