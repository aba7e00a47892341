"""Timing pages in-process as signed-in people, with the SQL statements each issues.

Shared by the benchmarks (ideas, forecasts, planning): every one signs in a few
demo people, warms each page up, reports median and p95 against a target and
prints how many statements one view of each page costs.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time

from bench.terminal import report


def use_database(instance: str | None, database_url: str | None, temp_prefix: str | None = None):
    """Point the app at the benchmark's database before it is created: an instance
    folder (SQLite), a database URL, or a new temporary instance folder."""
    if instance:
        os.environ["PORTAL_INSTANCE_PATH"] = instance
    elif temp_prefix and not database_url:
        os.environ["PORTAL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix=temp_prefix)
    if database_url:
        os.environ["PORTAL_DATABASE_URL"] = database_url


def time_pages(app, engine, pages: dict, *, runs: int, warmup: int = 2, cpu=False) -> None:
    """`pages`: name -> (email, url, target in ms or None). Each page is read by
    that person `warmup` times, then `runs` times for the report; with `cpu` also the
    median of this process's CPU time (a shared machine's waits for a core left out)."""
    import gc

    from sqlalchemy import event

    from tests.support import Browserless

    gc.freeze()  # what start-up built is out of the collector's way, as wsgi.py does it
    people = {}
    for email in {email for email, _, _ in pages.values()}:
        people[email] = Browserless(app.test_client())
        assert people[email].login(email).status_code == 303

    cpu_times: list[float] = []

    def timed(email: str, url: str) -> float:
        started, started_cpu = time.perf_counter(), time.process_time()
        response = people[email].client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        cpu_times.append(time.process_time() - started_cpu)
        return time.perf_counter() - started

    for name, (email, url, target) in pages.items():
        for _ in range(warmup):
            timed(email, url)
        cpu_times.clear()
        report(name, [timed(email, url) for _ in range(runs)], target)
        if cpu:
            print(f"{'':34} process time median {statistics.median(cpu_times) * 1000:7.1f} ms")

    statements: list[int] = []

    def count(*_):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    print("SQL statements per page:")
    try:
        for name, (email, url, _) in pages.items():
            statements.clear()
            timed(email, url)
            print(f"  {name:40} {len(statements)}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
