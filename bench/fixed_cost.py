"""What every signed-in page pays before its own work, in-process.

Beside the fortunes-style reference page and the layout alone (bench/reference.py:
base.html with an empty content block, signed in: navigation, bell, user menu, CSRF
tokens, static URLs) it adds two views to a throw-away app: a public "ok" and a
signed-in "ok" (the session cookie, the sign-in read, the idle check). Each is read 40
times per round, the rounds interleaved so a busy machine weighs on all alike; printed:
the lowest and the middle of the rounds' CPU-time medians (time.process_time) with the
wall-time median beside, and the load average. Extra paths are read the same way.

    .venv/bin/python bench/fixed_cost.py --instance DIR [--email engineer@vendor.test] [/ /ideas]

The instance must hold the demo data (bench/page_cost.py --instance makes it).
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance", required=True)
    parser.add_argument("--email", default="engineer@vendor.test")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("paths", nargs="*", help="pages of the signed-in person to add")
    args = parser.parse_args()
    os.environ["PORTAL_INSTANCE_PATH"] = args.instance

    from flask import Blueprint

    from bench.reference import create_fortunes, reference_app
    from portal.security import public
    from tests.support import Browserless

    bp = Blueprint("bench_fixed", __name__, template_folder="templates")

    @bp.get("/bench/public-ok")
    @public
    def public_ok():
        return "ok"

    @bp.get("/bench/signed-in-ok")
    def signed_in_ok():
        return "ok"

    app = reference_app()
    app.register_blueprint(bp)
    logging.getLogger("portal.request").setLevel(logging.WARNING)
    create_fortunes(app)
    anonymous, person = Browserless(app.test_client()), Browserless(app.test_client())
    assert person.login(args.email).status_code == 303
    pages = [
        ("public ok", anonymous, "/bench/public-ok"),
        ("reference page", anonymous, "/bench/fortunes"),
        ("signed-in ok", person, "/bench/signed-in-ok"),
        ("signed-in layout", person, "/bench/layout"),
    ] + [(path, person, path) for path in args.paths]
    for _, who, path in pages:
        for _ in range(5):
            assert who.client.get(path).status_code == 200, path
    cpu: dict[str, list[float]] = {name: [] for name, _, _ in pages}
    wall: dict[str, list[float]] = {name: [] for name, _, _ in pages}
    for _ in range(args.rounds):
        for name, who, path in pages:
            cpus, walls = [], []
            for _ in range(40):
                started, started_wall = time.process_time(), time.perf_counter()
                who.client.get(path)
                cpus.append(time.process_time() - started)
                walls.append(time.perf_counter() - started_wall)
            cpu[name].append(statistics.median(cpus) * 1000)
            wall[name].append(statistics.median(walls) * 1000)
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"CPU ms per view: lowest and middle of {args.rounds} medians of 40; load {load}")
    for name in cpu:
        print(
            f"{name:24} CPU {min(cpu[name]):6.3f} {statistics.median(cpu[name]):6.3f}"
            f"   wall {statistics.median(wall[name]):7.3f}"
        )


if __name__ == "__main__":
    main()
