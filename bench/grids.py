"""The two large grids alone, on a database that already holds them: the customer's
forecast draft and the planner's commit grid, first screen and next batch (wall and
this process's CPU time, bytes, SQL statements). Make the data once with

    .venv/bin/python bench/forecast_commits.py --products 2000 --instance /tmp/grids

then time the pages as often as needed without writing 48,000 cells again:

    .venv/bin/python bench/grids.py --instance /tmp/grids
    .venv/bin/python bench/grids.py --database-url postgresql+psycopg://postgres@127.0.0.1/fcbench
    .venv/bin/python bench/grids.py --instance /tmp/grids --profile commits

The draft is started (one cell saved as it is) if the account has none, so the draft
grid shows a draft as a customer would while changing the forecast. Targets (#17):
first screen under 200 ms and 300 KB at 2,000 products × 24 months.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument(
        "--profile", choices=("draft", "commits"), help="cProfile one first screen instead"
    )
    parser.add_argument("--sort", default="tottime", help="the profile's order (cumulative, ...)")
    args = parser.parse_args()
    from bench.pages import use_database

    use_database(args.instance, args.database_url)

    import logging

    from sqlalchemy import select

    from bench.forecasts import time_grid
    from portal import create_app
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.forecasts import drafts, service

    app = create_app()
    # The request log's lines would be timed with the pages (and fill the terminal).
    logging.getLogger("portal.request").setLevel(logging.WARNING)
    today = date.today()
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        admin = db.session.scalar(select(User).where(User.email == "admin@acme.test"))
        account_id = admin.account_id
        if service.draft_of(account_id) is None:
            grid = drafts.grid(admin, today, limit=1)
            row = grid.rows[0]
            month = grid.months[0]
            drafts.save_cell(
                admin, row.product.id, f"{month:%Y-%m}", str(row.quantities[month]), today
            )
        grid = drafts.grid(admin, today, limit=1)
        print(f"{grid.products:,} products × {len(grid.months)} months in the draft")
        engine = db.engine
    pages = {
        "draft": ("admin@acme.test", "/forecasts", "the draft grid (customer)"),
        "commits": (
            "planner@vendor.test",
            f"/forecasts/accounts/{account_id}/commits",
            "the commit page (planner)",
        ),
    }
    if args.profile:
        profile(app, *pages[args.profile][:2], args.sort)
        return
    for email, url, name in pages.values():
        time_grid(app, engine, email, url, name, runs=args.runs)


def profile(app, email: str, url: str, sort: str = "tottime") -> None:
    """cProfile of one first screen (after two to warm up), the top 40 by own time."""
    import cProfile
    import pstats

    from tests.support import Browserless

    person = Browserless(app.test_client())
    assert person.login(email).status_code == 303
    for _ in range(2):
        person.client.get(url)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(5):
        person.client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats(sort).print_stats(45)


if __name__ == "__main__":
    main()
