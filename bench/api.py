"""Server-side timings of the REST API (in this process, through Flask's test client).

- a 100-line order created through POST /api/v1/orders (target: under 200 ms);
- product search, GET /api/v1/products?q=... (target: p95 under 25 ms on the
  100,000-product data set of bench/generate.py);
- without targets: one 100-line order read, the order list, the forecast draft
  replaced as a whole (500 products × 12 months), the service request list.

Beside wall time it reports this process's CPU time for the two targets: on a shared
machine the wall time includes waiting for a core.

    .venv/bin/python bench/api.py --instance /tmp/portal-big
    .venv/bin/python bench/api.py --database-url postgresql+psycopg://postgres@127.0.0.1/big

Without --instance or --database-url it runs on the instance folder's database (the
demo after `make setup`). It makes a token with `tokens.create`, places orders as the
demo's Acme buyer and leaves them in the database (use a copy of the data set).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.terminal import report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--orders", type=int, default=15, help="100-line orders to time")
    parser.add_argument("--searches", type=int, default=200)
    args = parser.parse_args()
    if args.instance:
        os.environ["PORTAL_INSTANCE_PATH"] = args.instance
    if args.database_url:
        os.environ["PORTAL_DATABASE_URL"] = args.database_url
    # The benchmark is not about the rate limit.
    os.environ.setdefault("PORTAL_API_RATE_LIMIT", "1000000 per minute")

    from sqlalchemy import func, select

    from portal import create_app
    from portal.accounts.models import Address, User
    from portal.api import tokens
    from portal.catalog.models import Product
    from portal.extensions import db, utcnow

    app = create_app()
    rng = random.Random(7)
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        products = db.session.execute(
            select(Product.sku, Product.name, Product.min_order_qty, Product.order_multiple)
            .where(Product.status == "active")
            .order_by(Product.id)
        ).all()
        print(f"{db.session.scalar(select(func.count()).select_from(Product)):,} products")
        buyer = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        address_id = db.session.scalar(
            select(Address.id).where(
                Address.account_id == buyer.account_id, Address.kind == "shipping"
            )
        )
        token = tokens.create(
            None,
            acting_as=buyer,
            name="bench",
            scopes=[
                "catalog:read",
                "orders:read",
                "orders:write",
                "forecasts:write",
                "service:read",
            ],
            days=1,
            now=utcnow(),
        ).text
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def timed(name: str, call, times: int) -> None:
        """Time a request `times` times (after one untimed warm-up); each must succeed."""
        found = call()
        assert found.status_code < 300, found.get_data(as_text=True)[:300]
        spent = []
        for _ in range(times):
            started = time.perf_counter()
            found = call()
            spent.append(time.perf_counter() - started)
            assert found.status_code < 300, found.get_data(as_text=True)[:300]
        report(name, spent)

    # Product search: SKU prefixes and words from names, as an integration would send them.
    terms = []
    for sku, name, _, _ in rng.sample(products, min(len(products), args.searches)):
        is_sku = rng.random() < 0.5
        terms.append((is_sku, sku[: rng.randint(3, len(sku))] if is_sku else name.split()[0]))
    client.get("/api/v1/products", query_string={"q": terms[0][1]}, headers=headers)  # warm up
    timings: dict[bool, list[float]] = {True: [], False: []}
    search_cpu = []
    for is_sku, term in terms:
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(
            "/api/v1/products", query_string={"q": term, "per_page": 50}, headers=headers
        )
        timings[is_sku].append(time.perf_counter() - started)
        search_cpu.append(time.process_time() - cpu_started)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    report("GET /api/v1/products?q= (all)", timings[True] + timings[False], 25)
    report("  of them SKU prefixes", timings[True])
    # A common first word of names ("Nylon", "Standard") matches 15,000 products; the
    # search reads them in SKU order and stops at the page (portal.catalog.service).
    report("  of them words", timings[False])
    # On a shared machine wall time includes waiting for a core; the CPU time of this
    # process (Flask, SQLAlchemy, SQLite itself; not a PostgreSQL server's) does not.
    report("  CPU of this process", search_cpu)

    timings, cpu = [], []
    for _ in range(args.orders):
        lines = [
            {"sku": sku, "quantity": max(min_qty, multiple)}
            for sku, _, min_qty, multiple in rng.sample(products, 100)
        ]
        body = {"po_number": "PO-BENCH", "ship_to_address_id": address_id, "lines": lines}
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post(
            "/api/v1/orders",
            json=body,
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        assert response.status_code == 201, response.get_data(as_text=True)[:500]
    report("POST /api/v1/orders (100 lines)", timings, 200)
    report("  CPU of this process", cpu)
    number = response.get_json()["number"]
    timed(
        "GET /api/v1/orders/{number} (100 lines)",
        lambda: client.get(f"/api/v1/orders/{number}", headers=headers),
        20,
    )
    timed(
        "GET /api/v1/orders?limit=50",
        lambda: client.get("/api/v1/orders", query_string={"limit": 50}, headers=headers),
        20,
    )

    # The forecast draft as a whole: 500 products × the horizon (12 months by default).
    start = utcnow().date().replace(day=1)
    months = [
        f"{start.year + (start.month - 1 + n) // 12}-{(start.month - 1 + n) % 12 + 1:02d}"
        for n in range(12)
    ]
    rows = [
        {"sku": sku, "quantities": {m: rng.randint(0, 500) for m in months}}
        for sku, _, _, _ in rng.sample(products, 500)
    ]
    timed(
        "PUT /api/v1/forecasts/draft (500×12)",
        lambda: client.put("/api/v1/forecasts/draft", json={"rows": rows}, headers=headers),
        5,
    )
    timed(
        "GET /api/v1/service-requests",
        lambda: client.get("/api/v1/service-requests", query_string={"limit": 50}, headers=headers),
        20,
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
