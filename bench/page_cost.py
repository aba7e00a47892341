"""Every page's throughput as a share of the fortunes-style reference page's, in one run.

Starts gunicorn (`-w 2`) on a throw-away instance with the demo data, serving the
portal with the reference page of bench/reference.py added (one query of twelve
rows, one added, sorted, rendered by Jinja: the simplest dynamic page on the same
stack), and the bare hello-world app of bench/hello.py beside it. Then `wrk -t2
-c16` loads each page for --seconds, signed in as its person with a fresh cookie
(a page's first request of a run is checked to be 200). The reference page is
measured first and last; each page's ratio is to the mean of the two. In-process,
each page's SQL statements and median time for one view are counted too.

    .venv/bin/python bench/page_cost.py [--seconds 5] [--only home]
    .venv/bin/python bench/page_cost.py --database-url postgresql+psycopg://postgres@127.0.0.1/pagecost

The last row, the signed-in layout around an empty page (bench/reference.py), is no
page of the portal: it is the floor every page above stands on.

wrk comes from Debian (`make test-tools`). Targets (#17): every page at least 0.3 of
the reference; home pages at most 8 statements.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent

BUYER = "buyer@acme.test"
# (name, person, path): {order} and the like are filled in from the demo data.
PAGES = [
    ("/ (buyer)", BUYER, "/"),
    ("/orders", BUYER, "/orders"),
    ("/orders/<number>", BUYER, "/orders/{order}"),
    ("/order (quick order)", BUYER, "/order"),
    ("/promises", BUYER, "/promises"),
    ("/catalog", BUYER, "/catalog"),
    ("/desk", "fulfilment@vendor.test", "/desk"),
    ("/forecasts (draft)", BUYER, "/forecasts"),
    ("/ideas (suggestions, buyer)", BUYER, "/ideas"),
    ("/ideas (suggestions, engineer)", "engineer@vendor.test", "/ideas"),
    ("/plans (board, buyer)", BUYER, "/plans"),
    ("/plans (board, manager)", "manager@vendor.test", "/plans"),
    ("/ (admin)", "admin@vendor.test", "/"),
    ("/ (account manager)", "manager@vendor.test", "/"),
    ("/ (planner)", "planner@vendor.test", "/"),
    ("/ (engineer)", "engineer@vendor.test", "/"),
    ("/ (fulfilment)", "fulfilment@vendor.test", "/"),
    ("/ (service)", "service@vendor.test", "/"),
    ("/ (approver)", "approver@acme.test", "/"),
    ("/ (customer admin)", "admin@acme.test", "/"),
    # Not a page of the portal: the layout around nothing, what every page above pays.
    ("(signed-in layout alone)", "engineer@vendor.test", "/bench/layout"),
]
REFERENCE = "/bench/fortunes"
TARGET = 0.3


def demo_values(app) -> dict:
    """Values for the paths' placeholders: the buyer's newest order."""
    from sqlalchemy import select

    from portal.accounts.models import User
    from portal.extensions import db
    from portal.ordering.models import Order

    with app.app_context():
        buyer = db.session.scalar(select(User).where(User.email == BUYER))
        number = db.session.scalar(
            select(Order.number)
            .where(Order.account_id == buyer.account_id)
            .order_by(Order.id.desc())
            .limit(1)
        )
    return {"order": number}


def start(target: str, port: int, env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--no-control-socket",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        cwd=ROOT,
        env=env,
        stderr=subprocess.DEVNULL,  # the request log: one line per request
    )
    import http.client

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn {target} did not start")


def wrk(url: str, seconds: int, cookie: str | None = None) -> float:
    """Requests per second; any non-2xx/3xx answer or socket error stops the run."""
    # A long timeout: on a busy machine a slow page must be counted, not dropped.
    command = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--timeout", "30s", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    for problem in ("Non-2xx or 3xx responses", "Socket errors"):
        if problem in output:
            raise SystemExit(f"{url}: {problem}\n{output}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def statements_and_time(app, pages: list, values: dict) -> dict:
    """In-process: (SQL statements, median CPU ms, median wall ms) of one view of each page."""
    from sqlalchemy import event

    from portal.extensions import db
    from tests.support import Browserless

    people: dict = {}
    counts: list[int] = []
    result = {}
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", lambda *_: counts.append(1))
    for name, email, path in pages:
        if email not in people:
            people[email] = Browserless(app.test_client())
            if email != "-":  # the reference page needs no one signed in
                assert people[email].login(email).status_code == 303
        url = path.format(**values)
        timings, walls = [], []
        for _ in range(32):
            counts.clear()
            # CPU time of this process: what a page costs, whatever else the machine runs;
            # the wall time beside it shows how long the page waited for a core as well.
            started, started_wall = time.process_time(), time.perf_counter()
            response = people[email].client.get(url)
            timings.append(time.process_time() - started)
            walls.append(time.perf_counter() - started_wall)
            assert response.status_code == 200, (url, response.status_code)
        result[name] = (
            len(counts),
            statistics.median(timings[2:]) * 1000,
            statistics.median(walls[2:]) * 1000,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=5, help="wrk's duration per page")
    parser.add_argument("--port", type=int, default=5091)
    parser.add_argument("--only", help="only pages whose name contains this")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="serve without wsgi.py's gc.freeze() after start-up (to measure what it buys)",
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="only the in-process figures (statements, CPU ms), no gunicorn and wrk",
    )
    parser.add_argument("--instance", help="an instance folder with the demo data to reuse")
    parser.add_argument(
        "--database-url",
        help="e.g. postgresql+psycopg://postgres@127.0.0.1/pagecost "
        "(its tables must be empty or hold the demo data)",
    )
    args = parser.parse_args()
    if not args.in_process and shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: `make test-tools` installs it from Debian.")

    instance = Path(args.instance or tempfile.mkdtemp(prefix="portal-pagecost-"))
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi"}
    if args.database_url:
        env["PORTAL_DATABASE_URL"] = args.database_url
    os.environ.update(env)
    subprocess.run(
        [str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    subprocess.run(
        [str(BIN / "flask"), "demo", "load", "--if-empty"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )

    from bench.reference import create_fortunes, reference_app
    from tests.support import HttpPerson

    app = reference_app()
    # The in-process counts need no line per request (gunicorn's workers keep theirs).
    logging.getLogger("portal.request").setLevel(logging.WARNING)
    create_fortunes(app)
    values = demo_values(app)
    pages = [page for page in PAGES if not args.only or args.only in page[0]]

    inprocess = statements_and_time(app, pages, values)
    fortunes = statements_and_time(app, [("reference", "-", REFERENCE)], values)["reference"]
    if args.in_process:
        print(
            f"\nin-process, CPU and wall ms per view (median of 30); reference page"
            f" {fortunes[1]:.2f} ms CPU, {fortunes[2]:.2f} ms wall; load average"
            f" {' '.join(f'{load:.1f}' for load in os.getloadavg())}"
        )
        print(f"| {'page':32} | {'person':24} | SQL | CPU ms | wall ms |")
        print(f"|{'-' * 34}|{'-' * 26}|----:|-------:|--------:|")
        for name, email, _ in pages:
            statements, ms, wall = inprocess[name]
            print(f"| {name:32} | {email:24} | {statements:3} | {ms:6.2f} | {wall:7.2f} |")
        return
    target = f"bench.reference:reference_app(freeze={not args.no_freeze})"
    portal_server = start(target, args.port, env)
    hello_server = start("bench.hello:app", args.port + 1, env)
    base = f"http://127.0.0.1:{args.port}"
    rates: dict[str, float] = {}
    try:
        wrk(f"http://127.0.0.1:{args.port + 1}/", 1)
        hello = wrk(f"http://127.0.0.1:{args.port + 1}/", args.seconds)
        wrk(base + REFERENCE, 1)
        first = wrk(base + REFERENCE, args.seconds)
        for name, email, path in pages:
            person = HttpPerson(base)
            assert person.login(email) == 303, f"{email} could not sign in"
            url = path.format(**values)
            status, _, _ = person.request("GET", url)
            assert status == 200, (name, url, status)
            wrk(base + url, 1, person.cookie)
            rates[name] = wrk(base + url, args.seconds, person.cookie)
        last = wrk(base + REFERENCE, args.seconds)
    finally:
        for server in (portal_server, hello_server):
            server.terminate()
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:  # a busy machine: stop waiting for it
                server.kill()
                server.wait()
        if not args.instance:
            shutil.rmtree(instance, ignore_errors=True)

    reference = (first + last) / 2
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\n{database}, gunicorn -w 2, wrk -t2 -c16 -d{args.seconds}s")
    print(f"hello world (bare Flask)       {hello:8.0f} req/s")
    print(
        f"fortunes-style reference page  {reference:8.0f} req/s"
        f"  (first {first:.0f}, last {last:.0f})"
    )
    print()
    print(f"in-process, CPU ms per view (median): reference page {fortunes[1]:.2f} ms")
    print()
    print(f"| {'page':32} | {'person':24} | req/s | ratio | SQL | CPU ms in-process |")
    print(f"|{'-' * 34}|{'-' * 26}|------:|------:|----:|------------------:|")
    for name, email, _ in pages:
        ratio = rates[name] / reference
        statements, ms, _ = inprocess[name]
        flag = "" if ratio >= TARGET else "  < 0.3"
        print(
            f"| {name:32} | {email:24} | {rates[name]:5.0f} | {ratio:5.2f} | {statements:3} |"
            f" {ms:17.2f} |{flag}"
        )


if __name__ == "__main__":
    main()
