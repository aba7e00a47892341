"""Installed equipment at scale: adds 50,000 units across the accounts and their
sites of a database with the demo loaded, and 5,000 service requests on them,
then times a customer's equipment by site, the vendor's list (all, one account,
a serial's beginning) and a unit's page, in-process, with the SQL statements
each issues.

    .venv/bin/python bench/equipment.py --instance /tmp/portal-eq --generate
    .venv/bin/python bench/equipment.py --generate \
        --database-url postgresql+psycopg://postgres@127.0.0.1/eq

A new database gets the demo first (`flask demo load`'s data).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import time_pages, use_database  # noqa: E402

UNITS = 50_000
REQUESTS = 5_000


def add_units(rng: random.Random, count: int = UNITS) -> list[dict]:
    """Bulk-insert `count` units across the accounts and their sites (serials B0000000
    onwards: once per data set); returns their rows. A data set without equipment
    products (bench/generate.py's) gets twenty of its products marked as equipment."""
    from sqlalchemy import func, insert, select

    from portal.accounts.models import Address, CustomerAccount
    from portal.catalog.models import Product
    from portal.equipment.models import EquipmentSpec, EquipmentUnit
    from portal.extensions import db

    accounts = db.session.scalars(select(CustomerAccount.id)).all()
    sites: dict[int, list[int]] = {a: [] for a in accounts}
    for address_id, account_id in db.session.execute(select(Address.id, Address.account_id)):
        sites.setdefault(account_id, []).append(address_id)
    products = db.session.scalars(select(EquipmentSpec.product_id)).all()
    if not products:
        products = db.session.scalars(select(Product.id).order_by(Product.id).limit(20)).all()
        db.session.execute(
            insert(EquipmentSpec), [{"product_id": p, "warranty_months": 24} for p in products]
        )
    first = (db.session.scalar(select(func.max(EquipmentUnit.id))) or 0) + 1
    today = date.today()
    rows = []
    for n in range(count):
        account = accounts[n % len(accounts)]
        installed = today - timedelta(days=rng.randint(0, 2000))
        rows.append(
            {
                "id": first + n,
                "account_id": account,
                "product_id": products[n % len(products)],
                "serial": f"B{n:07d}",
                "serial_key": f"B{n:07d}",
                "site_id": rng.choice(sites[account]) if sites[account] else None,
                "status": "retired" if n % 50 == 0 else "in_service",
                "source": "imported",
                "installed_on": installed,
                "warranty_until": installed + timedelta(days=730),
                "created_at": datetime.now(UTC),
            }
        )
    for i in range(0, len(rows), 10_000):
        db.session.execute(insert(EquipmentUnit), rows[i : i + 10_000])
    db.session.commit()
    return rows


def generate(rng: random.Random) -> None:
    """Bulk-insert units and maintenance requests on them."""
    from sqlalchemy import insert

    from portal.extensions import db
    from portal.service.models import ServiceRequest

    rows = add_units(rng)
    now = datetime.now(UTC)
    requests = []
    for _ in range(REQUESTS):
        unit = rows[rng.randrange(len(rows))]
        opened = now - timedelta(days=rng.randint(1, 700))
        requests.append(
            {
                "account_id": unit["account_id"],
                "kind": "maintenance",
                "priority": "normal",
                "title": f"Maintenance {unit['serial']}",
                "description": "",
                "status": "closed",
                "on_behalf": False,
                "equipment_id": unit["id"],
                "product_id": unit["product_id"],
                "opened_at": opened,
                "resolved_at": opened + timedelta(days=1),
                "closed_at": opened + timedelta(days=2),
                "resolution": "Done.",
                "satisfaction_comment": "",
                "last_activity_at": opened + timedelta(days=2),
            }
        )
    db.session.execute(insert(ServiceRequest), requests)
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--generate", action="store_true", help="add the units first")
    args = parser.parse_args()
    use_database(args.instance, args.database_url, temp_prefix="portal-equipment-")

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal import demo as demo_data
    from portal.accounts.models import CustomerAccount
    from portal.equipment.models import EquipmentUnit
    from portal.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        if not demo_data.is_loaded():
            started = time.perf_counter()
            demo_data.load()
            print(f"demo loaded in {time.perf_counter() - started:.0f} s")
        if args.generate:
            started = time.perf_counter()
            generate(random.Random(13))
            print(f"generated in {time.perf_counter() - started:.0f} s")
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("ANALYZE equipment_unit; ANALYZE service_request")
            else:
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
        acme = db.session.scalar(
            select(CustomerAccount.id).where(CustomerAccount.number == "C-10001")
        )
        busiest = db.session.scalar(
            select(EquipmentUnit.id)
            .where(EquipmentUnit.account_id == acme)
            .order_by(EquipmentUnit.id.desc())
            .limit(1)
        )
        print(f"{db.session.scalar(select(func.count()).select_from(EquipmentUnit)):,} units")
        engine = db.engine

    pages = {
        # Not equipment: the same machine's cost of a small page, to read the others by.
        "baseline: the customer's home page": ("buyer@acme.test", "/"),
        "customer's equipment by site (first page)": ("buyer@acme.test", "/equipment"),
        "customer's equipment, last page": ("buyer@acme.test", "/equipment?page=60"),
        "vendor: all units": ("service@vendor.test", "/equipment"),
        "vendor: one account": ("service@vendor.test", f"/equipment?account={acme}"),
        "vendor: serial beginning": ("service@vendor.test", "/equipment?serial=B00123"),
        "a unit's page": ("buyer@acme.test", f"/equipment/{busiest}"),
    }
    time_pages(app, engine, {name: (*page, 50) for name, page in pages.items()}, runs=30, warmup=3)


if __name__ == "__main__":
    main()
