"""Server-side timings of the ordering terminal on the large data set (bench/generate.py).

Runs the app in this process and times requests through Flask's test client
(no network): SKU suggestions, a 200-line paste checked, a 100-line order
submitted, the order list and an order page; also the SQL statements each
page issues. Then, under `gunicorn -w 2`, the order page's throughput next to
a hello-world Flask app's (wrk, same settings, same run), and the bytes a cold
load of the quick order page transfers.

    .venv/bin/python bench/terminal.py --instance /tmp/portal-big
    .venv/bin/python bench/terminal.py --database-url postgresql+psycopg://postgres@127.0.0.1/big
"""

from __future__ import annotations

import argparse
import gzip
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(len(ordered) * fraction)) - 1)]


def report(name: str, timings: list[float], target_ms: float | None = None) -> None:
    median, p95 = statistics.median(timings) * 1000, percentile(timings, 0.95) * 1000
    verdict = "" if target_ms is None else ("  ok" if p95 < target_ms else "  OVER TARGET")
    print(
        f"{name:34} median {median:7.1f} ms   p95 {p95:7.1f} ms   n={len(timings)}"
        f"{'   target ' + str(target_ms) + ' ms' if target_ms else ''}{verdict}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process timings")
    args = parser.parse_args()
    if args.instance:
        os.environ["PORTAL_INSTANCE_PATH"] = args.instance
    if args.database_url:
        os.environ["PORTAL_DATABASE_URL"] = args.database_url

    from sqlalchemy import event, func, select

    from portal import create_app
    from portal.accounts.models import User
    from portal.catalog.models import Product
    from portal.extensions import db
    from portal.ordering import service
    from portal.ordering.models import CartLine, Order
    from tests.support import Browserless

    app = create_app()
    rng = random.Random(1)
    with app.app_context():
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        products = db.session.execute(
            select(Product.id, Product.sku, Product.order_multiple).order_by(Product.id)
        ).all()
        print(
            f"{len(products):,} products, "
            f"{db.session.scalar(select(func.count()).select_from(Order)):,} orders"
        )
        buyer_id = db.session.scalar(select(User.id).where(User.email == "buyer@acme.test"))

    person = Browserless(app.test_client())
    assert person.login("buyer@acme.test").status_code == 303

    statements: list[int] = []
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(1))

    def timed(method: str, url: str, data=None, expect=200) -> float:
        started = time.perf_counter()
        response = person.client.get(url) if method == "GET" else person.client.post(url, data=data)
        elapsed = time.perf_counter() - started
        assert response.status_code == expect, (url, response.status_code)
        return elapsed

    # SKU suggestions while typing: prefixes of real SKUs, 3 to 7 characters.
    for _ in range(20):
        timed("GET", "/order/suggest?sku=BEA")
    report(
        "SKU suggestion",
        [
            timed("GET", f"/order/suggest?sku={rng.choice(products)[1][: rng.randint(3, 7)]}")
            for _ in range(300)
        ],
        25,
    )

    token = person.token("/order")

    def paste_of(n: int) -> str:
        return "\n".join(
            f"{sku}\t{multiple * rng.randint(1, 4)}" for _, sku, multiple in rng.sample(products, n)
        )

    report(
        "paste of 200 lines checked",
        [timed("POST", "/order", {"csrf_token": token, "paste": paste_of(200)}) for _ in range(20)],
        300,
    )

    submissions = []
    for n in range(11):
        with app.app_context():
            buyer = db.session.get(User, buyer_id)
            db.session.execute(CartLine.__table__.delete().where(CartLine.user_id == buyer_id))
            service.add_to_cart(
                buyer, [(pid, multiple) for pid, _, multiple in rng.sample(products, 100)]
            )
        page = person.client.get("/checkout").get_data(as_text=True)
        form = {
            "csrf_token": token,
            "po_number": f"BENCH-{n}",
            "notes": "",
            "requested_date": "",
            "ship_to_id": re.search(r'<option (?:selected )?value="(\d+)"', page)[1],
            "idempotency_key": re.search(
                r'name="idempotency_key" type="hidden" value="([^"]+)"', page
            )[1],
        }
        submissions.append(timed("POST", "/checkout", form, expect=303))
    # The first submission warms caches (statement compilation, pages): not counted.
    report("100-line order submitted", submissions[1:], 200)

    statements.clear()
    timed("GET", "/orders")
    list_queries = len(statements)
    report("order list (50 of ~200)", [timed("GET", "/orders") for _ in range(50)], 50)
    with app.app_context():
        number = db.session.scalar(
            select(Order.number)
            .join(User, Order.placed_by_id == User.id)
            .where(User.id == buyer_id)
            .order_by(Order.id)
            .limit(1)
        )
    statements.clear()
    timed("GET", f"/orders/{number}")
    page_queries = len(statements)
    report("order page (10 lines)", [timed("GET", f"/orders/{number}") for _ in range(50)], 50)
    statements.clear()
    timed("GET", "/catalog?q=valve")
    print(
        f"SQL statements: order list {list_queries}, order page {page_queries}, "
        f"catalog search {len(statements)}"
    )

    if not args.skip_http:
        http_checks(args, number)


def http_checks(args, number: str) -> None:
    """Throughput under gunicorn -w 2 against hello world, and cold-load bytes."""
    from tests.support import HttpPerson

    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk): throughput skipped")
        return
    env = {**os.environ}
    gunicorn = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--no-control-socket",
        "--workers",
        "2",
        "--log-level",
        "warning",
    ]

    def serve(app_spec: str, port: int) -> subprocess.Popen:
        process = subprocess.Popen(
            [*gunicorn, "--bind", f"127.0.0.1:{port}", app_spec], cwd=ROOT, env=env
        )
        time.sleep(2.5)
        return process

    def wrk(url: str, cookie: str | None = None) -> float:
        command = ["wrk", "-t2", "-c16", "-d8s", url]
        if cookie:
            command[1:1] = ["-H", f"Cookie: {cookie}"]
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])

    hello = serve("bench.hello:app", 5091)
    try:
        hello_rps = wrk("http://127.0.0.1:5091/")
    finally:
        hello.terminate()
        hello.wait()
    portal = serve("wsgi:app", 5092)
    try:
        person = HttpPerson("http://127.0.0.1:5092")
        assert person.login("buyer@acme.test") == 303
        order_rps = wrk(f"http://127.0.0.1:5092/orders/{number}", person.cookie)
        sizes = {}
        status, _, html = person.request("GET", "/order")
        sizes["quick order page (HTML)"] = html.encode()
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            sizes[asset] = (ROOT / "portal" / asset.lstrip("/")).read_bytes()
    finally:
        portal.terminate()
        portal.wait()
    print(
        f"order page under gunicorn -w 2: {order_rps:,.0f} req/s; hello world {hello_rps:,.0f} "
        f"req/s; ratio {order_rps / hello_rps:.1%}"
    )
    raw = sum(len(b) for b in sizes.values())
    zipped = sum(len(gzip.compress(b)) for b in sizes.values())
    print(
        f"cold load of the quick order page: {raw / 1024:.0f} KiB "
        f"({zipped / 1024:.0f} KiB if gzipped by a proxy) in {len(sizes)} files:"
    )
    for name, body in sizes.items():
        print(f"    {len(body) / 1024:6.1f} KiB  {name}")


if __name__ == "__main__":
    main()
