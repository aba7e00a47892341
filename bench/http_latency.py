"""Median response time of the home page and /healthz under `gunicorn -w 2`.

Starts gunicorn on a throw-away instance folder (SQLite with demo data, or
--database-url for PostgreSQL), signs in as a demo user, then sends requests
from this process: first one at a time (latency), then from several threads
at once (latency under load, throughput). Loopback only; bounded counts.

    .venv/bin/python bench/http_latency.py [--requests 500] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def start_gunicorn(port: int, env: dict) -> subprocess.Popen:
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
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def sign_in(port: int, email: str) -> str:
    """The session cookie of a demo user (the tests' HTTP client does the form work)."""
    from tests.support import HttpPerson

    person = HttpPerson(f"http://127.0.0.1:{port}")
    assert person.login(email) == 303, "sign-in failed"
    return person.cookie


def timed_requests(port: int, path: str, count: int, cookie: str | None) -> list[float]:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Cookie": cookie} if cookie else {}
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        timings.append(time.perf_counter() - start)
        assert response.status == 200, (path, response.status)
    conn.close()
    return timings


def concurrent(port: int, path: str, count: int, threads: int, cookie: str | None):
    results: list[float] = []
    lock = threading.Lock()

    def worker():
        timings = timed_requests(port, path, count // threads, cookie)
        with lock:
            results.extend(timings)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return results, time.perf_counter() - start


def describe(timings: list[float]) -> str:
    ordered = sorted(timings)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return (
        f"median {statistics.median(ordered) * 1000:6.2f} ms   "
        f"p95 {p95 * 1000:6.2f} ms   n={len(ordered)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=5077)
    parser.add_argument(
        "--database-url",
        help="e.g. postgresql+psycopg://postgres@127.0.0.1/test "
        "(its tables must be empty or hold the demo data)",
    )
    parser.add_argument("--user", default="manager@vendor.test")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    env = {**os.environ, "PORTAL_INSTANCE_PATH": str(instance), "FLASK_APP": "wsgi"}
    if args.database_url:
        env["PORTAL_DATABASE_URL"] = args.database_url
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
    server = start_gunicorn(args.port, env)
    try:
        cookie = sign_in(args.port, args.user)
        for path, auth in (("/healthz", None), ("/", cookie)):
            timed_requests(args.port, path, 50, auth)  # warm up both workers
            sequential = timed_requests(args.port, path, args.requests, auth)
            print(f"{path:10} sequential        {describe(sequential)}")
            timings, elapsed = concurrent(args.port, path, args.requests, args.concurrency, auth)
            print(
                f"{path:10} {args.concurrency} at once         {describe(timings)}   "
                f"{len(timings) / elapsed:7.0f} req/s"
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)


if __name__ == "__main__":
    main()
