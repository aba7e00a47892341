"""Build the large data set the terminal's benchmarks run on.

100,000 products, 500 customer accounts with contract prices, and 1,000,000
order lines (100,000 orders over the last year), on top of the demo's people
(so the demo logins work). Orders older than three days are confirmed,
shipped and delivered with the events the desk would write (about one line
in ten late, some promises moved); the promise ledger's daily figures are
folded from those events by `portal.fulfilment.ledger.line_figures`. Rows go
in with Core bulk inserts in batches; deterministic (Random(7)).

    .venv/bin/python bench/generate.py --instance /tmp/portal-big            # SQLite
    .venv/bin/python bench/generate.py --database-url postgresql+psycopg://postgres@127.0.0.1/big

The target database must be empty (a new SQLite file, or a new PostgreSQL database).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import namedtuple
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 10_000
WORDS = [
    "bearing",
    "valve",
    "seal",
    "pump",
    "filter",
    "bolt",
    "nut",
    "washer",
    "hose",
    "fitting",
    "coupling",
    "gear",
    "shaft",
    "sensor",
    "relay",
    "cable",
    "connector",
    "bracket",
    "spring",
    "bushing",
    "clamp",
    "motor",
    "belt",
    "chain",
    "sprocket",
    "nozzle",
    "gasket",
    "flange",
    "pin",
    "rivet",
]
ADJECTIVES = [
    "stainless",
    "brass",
    "steel",
    "nylon",
    "heavy",
    "compact",
    "sealed",
    "flexible",
    "high-pressure",
    "low-noise",
    "corrosion-resistant",
    "precision",
    "standard",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", help="instance folder for a SQLite database")
    parser.add_argument("--database-url")
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--order-lines", type=int, default=1_000_000)
    args = parser.parse_args()
    if args.instance:
        os.environ["PORTAL_INSTANCE_PATH"] = args.instance
    if args.database_url:
        os.environ["PORTAL_DATABASE_URL"] = args.database_url

    from flask_migrate import upgrade

    from portal import create_app
    from portal import demo as demo_data
    from portal.extensions import db

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        upgrade()
        if demo_data.is_loaded():
            raise SystemExit("The database is not empty; give a new one.")
        demo_data.load_people()
        generate(random.Random(7), args.products, args.accounts, args.order_lines)
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("ANALYZE")
        else:
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        print(f"done in {time.perf_counter() - started:.0f} s")


def _event(order_id, line_id, at, actor_id, kind, quantity, on_date) -> dict:
    return {
        "order_id": order_id,
        "line_id": line_id,
        "at": at,
        "actor_id": actor_id,
        "kind": kind,
        "quantity": quantity,
        "on_date": on_date,
        "detail": None,
    }


def _insert(table, rows: list[dict]) -> None:
    from bench.bulk import insert_rows
    from portal.extensions import db

    insert_rows(table, rows)
    db.session.commit()


def generate(rng: random.Random, n_products: int, n_accounts: int, n_lines: int) -> None:
    from sqlalchemy import select

    from portal.accounts.models import Address, CustomerAccount, User
    from portal.catalog.models import Category, ContractPrice, Product, Stock
    from portal.extensions import db
    from portal.fulfilment.ledger import Figures, line_figures
    from portal.fulfilment.models import PromiseLedgerDay, Shipment, ShipmentLine
    from portal.ordering.models import Order, OrderEvent, OrderLine, OrderNumberSequence

    today = date.today()
    step = time.perf_counter()

    def lap(what: str) -> None:
        nonlocal step
        print(f"  {what}: {time.perf_counter() - step:.1f} s", flush=True)
        step = time.perf_counter()

    categories = [
        Category(name=f"{word.capitalize()}s", position=n) for n, word in enumerate(WORDS[:20])
    ]
    db.session.add_all(categories)
    db.session.commit()
    category_ids = [c.id for c in categories]
    products = []
    for n in range(n_products):
        word = rng.choice(WORDS)
        sku = f"{word[:3].upper()}-{n:06d}-{rng.choice('ABCDEFGH')}"
        multiple = rng.choice((1, 1, 1, 5, 10, 100))
        products.append(
            {
                "sku": sku,
                "sku_key": sku.upper(),
                "category_id": rng.choice(category_ids),
                "name": f"{rng.choice(ADJECTIVES).capitalize()} {word} {n % 997}",
                "description": f"{rng.choice(ADJECTIVES)} {word} for {rng.choice(WORDS)}s, "
                f"type {n % 53}",
                "unit": "pc",
                "pack_size": multiple,
                "min_order_qty": multiple,
                "order_multiple": multiple,
                "lead_time_days": rng.choice((3, 7, 14, 28, 42)),
                "list_price": Decimal(rng.randint(50, 500_000)) / 100,
                "status": "active",
                "replacement_sku": None,
                "yearly_service_cost": None,
                "yearly_consumables_cost": None,
            }
        )
    _insert(Product, products)
    product_rows = db.session.execute(
        select(Product.id, Product.list_price, Product.order_multiple).order_by(Product.id)
    ).all()
    _insert(
        Stock,
        [
            {"product_id": pid, "on_hand": rng.randint(0, 50) * 10, "reserved": 0}
            for pid, _, _ in product_rows
        ],
    )
    lap(f"{n_products:,} products with stock")

    existing = db.session.scalar(select(db.func.count()).select_from(CustomerAccount))
    accounts = [
        {
            "number": f"B-{n:05d}",
            "name": f"Bench Customer {n}",
            "status": "active",
            "timezone": "Europe/Berlin",
            "account_manager_id": None,
            "approval_limit": None,
            "created_at": datetime.now(UTC),
        }
        for n in range(n_accounts - existing)
    ]
    _insert(CustomerAccount, accounts)
    account_ids = list(db.session.scalars(select(CustomerAccount.id).order_by(CustomerAccount.id)))
    _insert(
        Address,
        [
            {
                "account_id": aid,
                "kind": "shipping",
                "label": "Main",
                "recipient": "",
                "line1": "Road 1",
                "line2": "",
                "postal_code": "10000",
                "city": "Town",
                "region": "",
                "country": "DE",
                "is_default": True,
            }
            for aid in account_ids[existing:]
        ],
    )
    prices = []
    for account_id in account_ids:
        for pid, list_price, _ in rng.sample(product_rows, 200):
            prices.append(
                {
                    "account_id": account_id,
                    "product_id": pid,
                    "min_quantity": 1,
                    "unit_price": (list_price * Decimal("0.9")).quantize(Decimal("0.01")),
                    "valid_from": today - timedelta(days=365),
                    "valid_until": None,
                }
            )
    _insert(ContractPrice, prices)
    lap(f"{len(account_ids)} accounts, {len(prices):,} contract prices")

    placed_by = dict(
        db.session.execute(
            select(User.account_id, db.func.min(User.id))
            .where(User.account_id.is_not(None))
            .group_by(User.account_id)
        ).all()
    )
    fallback_user = db.session.scalar(select(User.id).where(User.email == "buyer@acme.test"))
    n_orders = n_lines // 10
    orders, lines, events, shipments, shipment_lines = [], [], [], [], []
    ledger_days: dict[tuple[int, date], Figures] = {}
    fulfilled_before = today - timedelta(days=3)
    Event = namedtuple("Event", "kind quantity on_date")
    start_day = datetime.now(UTC) - timedelta(days=365)
    order_ids = iter(range(1, n_orders + 1))
    line_id = 0
    for n in range(n_orders):
        order_id = next(order_ids)
        account_id = account_ids[n % len(account_ids)]
        # Spread evenly over the year up to now, so the newest wait for confirmation.
        when = start_day + timedelta(seconds=n * 365 * 86400 / n_orders)
        chosen = rng.sample(product_rows, 10)
        total = Decimal("0")
        fulfilled = when.date() < fulfilled_before
        actor = placed_by.get(account_id, fallback_user)
        if fulfilled:
            shipped_on = when.date() + timedelta(days=rng.randint(2, 9))
            shipments.append(
                {
                    "id": order_id,
                    "order_id": order_id,
                    "account_id": account_id,
                    "shipped_on": shipped_on,
                    "carrier": "DHL Freight",
                    "tracking": f"JJD{n:09d}",
                    "delivered_on": shipped_on + timedelta(days=2),
                    "created_by_id": actor,
                    "created_at": when + timedelta(days=1),
                }
            )
        for line_no, (pid, price, multiple) in enumerate(chosen, start=1):
            line_id += 1
            quantity = multiple * rng.randint(1, 5)
            promise = None
            if fulfilled:
                # Promised so that most lines arrive on time; some promises move.
                promise = shipped_on + timedelta(days=2 + rng.choice((0, 0, 0, 1, 2, -1, -3)))
                line_events = [Event("confirmed", quantity, promise)]
                events.append(
                    _event(
                        order_id,
                        line_id,
                        when + timedelta(days=1),
                        actor,
                        "confirmed",
                        quantity,
                        promise,
                    )
                )
                if rng.random() < 0.05:
                    moved = promise + timedelta(days=rng.randint(1, 5))
                    line_events.append(Event("promise_changed", None, moved))
                    events.append(
                        _event(
                            order_id,
                            line_id,
                            when + timedelta(days=1),
                            actor,
                            "promise_changed",
                            None,
                            moved,
                        )
                    )
                for kind, on in (
                    ("shipped", shipped_on),
                    ("delivered", shipped_on + timedelta(days=2)),
                ):
                    line_events.append(Event(kind, quantity, on))
                    events.append(
                        _event(
                            order_id, line_id, when + timedelta(days=2), actor, kind, quantity, on
                        )
                    )
                shipment_lines.append(
                    {
                        "shipment_id": order_id,
                        "line_id": line_id,
                        "quantity": quantity,
                        "from_stock": 0,
                        "received_quantity": quantity,
                    }
                )
                figures = line_figures(line_events, "delivery")
                share = figures.contribution()
                if share:
                    ledger_days.setdefault((account_id, figures.first_promise), Figures()).add(
                        share
                    )
            lines.append(
                {
                    "id": line_id,
                    "order_id": order_id,
                    "line_no": line_no,
                    "product_id": pid,
                    "sku": f"SKU-{pid}",
                    "name": f"Product {pid}",
                    "unit": "pc",
                    "quantity": quantity,
                    "unit_price": price,
                    "line_total": price * quantity,
                    "reserved_quantity": 0,
                    "estimated_ship_date": when.date() + timedelta(days=7),
                    "status": "confirmed" if fulfilled else "open",
                    "first_promised_on": promise,
                    "promised_on": promise,
                    "shipped_quantity": quantity if fulfilled else 0,
                    "delivered_quantity": quantity if fulfilled else 0,
                    "cancelled_quantity": 0,
                }
            )
            total += price * quantity
        orders.append(
            {
                "id": order_id,
                "number": f"{when.year - 2000:02d}B-{n:07d}",
                "account_id": account_id,
                "placed_by_id": placed_by.get(account_id, fallback_user),
                "status": "delivered" if fulfilled else "placed",
                "po_number": f"PO-{n}",
                "ship_to_id": None,
                "ship_to_text": "Main: Road 1, 10000 Town, DE",
                "requested_date": None,
                "notes": "",
                "total": total,
                "currency": "EUR",
                "idempotency_key": f"bench-{n}",
                "placed_at": when,
                "decided_by_id": None,
                "decided_at": None,
                "decision_comment": None,
            }
        )
        events.append(_event(order_id, None, when, actor, "placed", None, None))
        if len(lines) >= 100_000:
            _insert(Order, orders)
            _insert(OrderLine, lines)
            _insert(OrderEvent, events)
            _insert(Shipment, shipments)
            _insert(ShipmentLine, shipment_lines)
            orders, lines, events, shipments, shipment_lines = [], [], [], [], []
    _insert(Order, orders)
    _insert(OrderLine, lines)
    _insert(OrderEvent, events)
    _insert(Shipment, shipments)
    _insert(ShipmentLine, shipment_lines)
    _insert(
        PromiseLedgerDay,
        [
            {"account_id": account_id, "day": day, **vars(figures)}
            for (account_id, day), figures in ledger_days.items()
        ],
    )
    db.session.add(OrderNumberSequence(year=today.year, last_number=0))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # Explicit ids were inserted: move the sequences past them.
        for table in ("customer_order", "order_line", "shipment"):
            db.session.execute(
                db.text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()
    lap(f"{n_orders:,} orders, {line_id:,} order lines")


if __name__ == "__main__":
    main()
