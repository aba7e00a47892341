"""The service measures for all accounts (`measures_for(select(ServiceRequest), now - days,
now)`), timed in-process, of whichever checkout is named: the same data and the same
script for the code before and after a change, run one after the other (alternate
them: the machine is shared). Prints the median and best of the wall and process time
(this process's CPU; on SQLite the database's work is in it) and the load average.
Start-up's objects are frozen out of the garbage collector's way, as wsgi.py does.
Nothing is migrated or written: run a checkout's own bench/service.py first.

    .venv/bin/python bench/service_measures.py /work/main --instance /tmp/portal-big
    .venv/bin/python bench/service_measures.py . \
        --database-url postgresql+psycopg://postgres@127.0.0.1/big --days 365
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkout", help="the Portal checkout whose code is timed")
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(args.checkout).resolve()))

    from datetime import UTC, datetime, timedelta

    from bench.pages import use_database

    use_database(args.instance, args.database_url)

    from sqlalchemy import select

    from portal import create_app
    from portal.extensions import db
    from portal.service import measures
    from portal.service.models import ServiceRequest

    app = create_app()
    gc.freeze()  # what start-up built is out of the collector's way, as wsgi.py does it
    with app.app_context():
        now = datetime.now(UTC)
        start = now - timedelta(days=args.days)
        requests = measures.measures_for(select(ServiceRequest), start, now).total.requests
        wall, cpu = [], []
        for _ in range(args.runs):
            db.session.expire_all()
            started, started_cpu = time.perf_counter(), time.process_time()
            measures.measures_for(select(ServiceRequest), start, now)
            wall.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
    print(
        f"{args.checkout}, {args.days} days, {requests:,} requests: "
        f"wall median {statistics.median(wall):.0f} ms (best {min(wall):.0f}), "
        f"process median {statistics.median(cpu):.0f} ms (best {min(cpu):.0f}); "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
