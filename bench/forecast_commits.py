"""Commitments at scale: an account publishes a products × 24 months forecast (150
products by default, the size planners answer by hand; --products 2000 for the
largest), then a planner commits it all as forecast, commits the whole grid as
typed (the page's form, every cell parsed and checked), and reads the commit page:
its first screen (time, bytes) and the next batch of rows. In-process median timings
and SQL statement counts.

    .venv/bin/python bench/forecast_commits.py                    # a new SQLite file in /tmp
    .venv/bin/python bench/forecast_commits.py --products 2000
    .venv/bin/python bench/forecast_commits.py --database-url postgresql+psycopg://postgres@127.0.0.1/fcbench
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MONTHS = 24
ROUNDS = 5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--products", type=int, default=150)
    args = parser.parse_args()
    if args.instance:
        os.environ["PORTAL_INSTANCE_PATH"] = args.instance
    elif not args.database_url:
        os.environ["PORTAL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="portal-cmbench-")
    if args.database_url:
        os.environ["PORTAL_DATABASE_URL"] = args.database_url

    from flask_migrate import upgrade
    from sqlalchemy import select

    from bench.forecasts import ensure_data, time_grid, wide_file
    from bench.terminal import report
    from portal import create_app
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.forecasts import commits, service, uploads, versions
    from portal.forecasts.months import month_label

    app = create_app()
    today = date.today()
    timings: dict[str, list[float]] = {}
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        skus = ensure_data(args.products)
        admin = db.session.scalar(select(User).where(User.email == "admin@acme.test"))
        planner = db.session.scalar(select(User).where(User.email == "planner@vendor.test"))
        account_id = admin.account_id
        service.set_horizon(admin, account_id, str(MONTHS))
        months = service.window(account_id, today)
        rng = random.Random(11)
        base = None
        for _ in range(ROUNDS):
            data, base = wide_file(rng, skus, months, "csv", base)
            uploads.upload(admin, data, today)
            version = versions.publish(admin, "bench", today)
            started = time.perf_counter()
            result = commits.commit_all_as_forecast(planner, account_id)
            timings.setdefault("commit all as forecast", []).append(time.perf_counter() - started)
            # The page's form: every cell typed, a tenth of them below forecast.
            cells = service.all_cells(version.id)
            entries = [
                commits.CommitEntry(
                    pid,
                    month_label(month),
                    str(quantity - 1 if quantity and rng.random() < 0.1 else quantity),
                    "capacity",
                )
                for (pid, month), quantity in cells.items()
            ]
            started = time.perf_counter()
            commits.commit(planner, account_id, entries)
            timings.setdefault("commit the typed grid", []).append(time.perf_counter() - started)
        print(
            f"{len(skus):,} products × {len(months)} months = {len(cells):,} cells; "
            f"the last commit all wrote {result.written:,} rows"
        )
        # As autovacuum would within a minute of these writes. Unanalysed (a new database,
        # 2,000 products), PostgreSQL planned the mismatch list's statement to run for
        # 36-48 s instead of ~0.1 s: the page then times the planner's guess, not the page.
        if db.engine.dialect.name == "postgresql":
            db.session.execute(db.text("ANALYZE"))
            db.session.commit()
        engine = db.engine

    for name, values in timings.items():
        report(name, values)

    time_grid(
        app, engine, "planner@vendor.test", f"/forecasts/accounts/{account_id}/commits",
        "the commit page (planner)",
    )  # fmt: skip


if __name__ == "__main__":
    main()
