"""Forecasts at scale: a customer uploads a 2,000 products × 24 months grid (48,000
cells) and publishes it, several rounds, each changing about a tenth of the
cells; in-process, median timings of the upload (read, check, write into the
draft) and of publishing (count the changes, number the version, notify).
Then the page that compares two such versions and the draft grid.

    .venv/bin/python bench/forecasts.py                      # a new SQLite file in /tmp
    .venv/bin/python bench/forecasts.py --instance /tmp/portal-big
    .venv/bin/python bench/forecasts.py --database-url postgresql+psycopg://postgres@127.0.0.1/fcbench

Products are added when the database has fewer than 2,000 active ones; the
demo people are loaded when it has none. Target: upload + publish under 3 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PRODUCTS = 2_000
MONTHS = 24
ROUNDS = 5
TARGET_S = 3.0


def ensure_data(n_products: int) -> list[str]:
    """The demo people and at least `n_products` active products; their SKUs."""
    from sqlalchemy import func, insert, select

    from portal import demo
    from portal.catalog.models import Category, Product
    from portal.extensions import db

    if not demo.is_loaded():
        demo.load_people()
        db.session.commit()
    have = db.session.scalar(
        select(func.count()).select_from(Product).where(Product.status == "active")
    )
    if have < n_products:
        category = Category(name=f"Bench forecasts {time.time_ns()}")
        db.session.add(category)
        db.session.flush()
        db.session.execute(
            insert(Product),
            [
                {
                    "sku": f"FCB-{n:05d}",
                    "sku_key": f"FCB-{n:05d}",
                    "name": f"Forecast bench part {n}",
                    "category_id": category.id,
                    "list_price": 1,
                }
                for n in range(n_products - have)
            ],
        )
        db.session.commit()
    return list(
        db.session.scalars(
            select(Product.sku)
            .where(Product.status == "active")
            .order_by(Product.sku_key)
            .limit(n_products)
        )
    )


def wide_file(rng: random.Random, skus: list[str], months: list[date], fmt: str, base=None):
    """A wide template filled in: `base` quantities with about a tenth changed."""
    from portal.forecasts.months import month_label
    from portal.spreadsheets import xlsx_bytes

    quantities = {}
    for sku in skus:
        for m in months:
            old = base.get((sku, m)) if base else None
            quantities[(sku, m)] = (
                old if old is not None and rng.random() > 0.1 else rng.randint(0, 500)
            )
    header = ["SKU", "Product", *(month_label(m) for m in months)]
    rows = [[sku, "", *(quantities[(sku, m)] for m in months)] for sku in skus]
    if fmt == "xlsx":
        return xlsx_bytes(header, rows), quantities
    lines = [",".join(header)] + [",".join(str(v) for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode(), quantities


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    from bench.pages import time_pages, use_database

    use_database(args.instance, args.database_url, "portal-fcbench-")

    from flask_migrate import upgrade
    from sqlalchemy import select

    from bench.terminal import report
    from portal import create_app
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.forecasts import service, uploads, versions

    app = create_app()
    today = date.today()
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        skus = ensure_data(PRODUCTS)
        admin = db.session.scalar(select(User).where(User.email == "admin@acme.test"))
        service.set_horizon(admin, admin.account_id, str(MONTHS))
        months = service.window(admin.account_id, today)
        rng = random.Random(7)
        timings: dict[str, list[float]] = {}
        base = None
        last_version = None
        for fmt in ("xlsx", "csv"):
            for _ in range(args.rounds):
                data, base = wide_file(rng, skus, months, fmt, base)
                started = time.perf_counter()
                result = uploads.upload(admin, data, today)
                uploaded = time.perf_counter()
                version = versions.publish(admin, "bench", today)
                published = time.perf_counter()
                assert result.cells == PRODUCTS * MONTHS, result
                timings.setdefault(f"upload {fmt}", []).append(uploaded - started)
                timings.setdefault(f"publish after {fmt} upload", []).append(published - uploaded)
                timings.setdefault(f"upload {fmt} + publish", []).append(published - started)
                last_version = version.id
        print(
            f"{len(skus):,} products × {len(months)} months = {len(skus) * len(months):,} cells "
            f"per version; last version changed {version.cells_changed:,} cells"
        )
        engine = db.engine

    for name, values in timings.items():
        target = TARGET_S * 1000 if name.endswith("publish") and "+" in name else None
        report(name, values, target)

    pages = {
        "version beside the previous": (
            "planner@vendor.test",
            f"/forecasts/versions/{last_version}",
        ),
        "the draft grid (customer)": ("admin@acme.test", "/forecasts"),
        "forecast inbox": ("planner@vendor.test", "/forecasts/inbox"),
    }
    time_pages(app, engine, {name: (*page, None) for name, page in pages.items()}, runs=5, warmup=1)


if __name__ == "__main__":
    main()
