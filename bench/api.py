"""Server-side timings of the REST API (in this process, through Flask's test client).

- a 100-line order created through POST /api/v1/orders (target: under 200 ms);
- product search, GET /api/v1/products?q=... (target: p95 under 25 ms on the
  100,000-product data set of bench/generate.py).

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
            scopes=["catalog:read", "orders:write"],
            days=1,
            now=utcnow(),
        ).text
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    # Product search: SKU prefixes and words from names, as an integration would send them.
    terms = []
    for sku, name, _, _ in rng.sample(products, min(len(products), args.searches)):
        is_sku = rng.random() < 0.5
        terms.append((is_sku, sku[: rng.randint(3, len(sku))] if is_sku else name.split()[0]))
    client.get("/api/v1/products", query_string={"q": terms[0][1]}, headers=headers)  # warm up
    timings: dict[bool, list[float]] = {True: [], False: []}
    for is_sku, term in terms:
        started = time.perf_counter()
        response = client.get(
            "/api/v1/products", query_string={"q": term, "per_page": 50}, headers=headers
        )
        timings[is_sku].append(time.perf_counter() - started)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
    report("GET /api/v1/products?q= (all)", timings[True] + timings[False], 25)
    report("  of them SKU prefixes", timings[True])
    # A common first word of names ("Nylon", "Standard") matches thousands of products,
    # which catalog.search orders by SKU: the slow end of the distribution.
    report("  of them words", timings[False])

    timings = []
    for _ in range(args.orders):
        lines = [
            {"sku": sku, "quantity": max(min_qty, multiple)}
            for sku, _, min_qty, multiple in rng.sample(products, 100)
        ]
        body = {"po_number": "PO-BENCH", "ship_to_address_id": address_id, "lines": lines}
        started = time.perf_counter()
        response = client.post(
            "/api/v1/orders",
            json=body,
            headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
        )
        timings.append(time.perf_counter() - started)
        assert response.status_code == 201, response.get_data(as_text=True)[:500]
    report("POST /api/v1/orders (100 lines)", timings, 200)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
