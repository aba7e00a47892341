"""Refused requests while others write: never a server error, every refusal in the audit trail.

A refusal is written to the audit trail by a request that otherwise only
reads. On SQLite that write used to begin inside a read transaction and fail
at once ("database is locked") whenever another request had committed
meanwhile: the refusal became a 500 and its audit row was lost. Here people
sign in and out (writes: sessions, audit rows) while others ask for a page
their role may not see (403) and for another account's object (404), all at
once against a live server, for a few seconds.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.extensions import db

from .support import HttpPerson, csrf_token_from

SECONDS = 4


def _loop(stop: threading.Event, work, tally: Counter, lock: threading.Lock) -> None:
    while not stop.is_set():
        for outcome in work():
            with lock:
                tally[outcome] += 1


def test_refusals_while_others_write(app, live_server, ids):
    approver = HttpPerson(live_server.url)
    assert approver.login("approver@acme.test") == 303
    stranger = HttpPerson(live_server.url)  # Globex's buyer, asking for Acme's account
    assert stranger.login("buyer@globex.test") == 303
    reader = HttpPerson(live_server.url)
    assert reader.login("buyer@acme.test") == 303

    def refused_by_role():
        status, _, _ = approver.request("GET", "/desk")
        yield f"desk {status}"

    def refused_by_account():
        status, _, _ = stranger.request("GET", f"/accounts/{ids['acme']}")
        yield f"other account {status}"

    def plain_read():
        status, _, _ = reader.request("GET", "/orders")
        yield f"read {status}"

    def writer(email):
        def sign_in_and_out():
            person = HttpPerson(live_server.url)
            yield f"sign in {person.login(email)}"
            _, _, page = person.request("GET", "/")
            status, _, _ = person.request("POST", "/logout", {"csrf_token": csrf_token_from(page)})
            yield f"sign out {status}"

        return sign_in_and_out

    work = [
        refused_by_role,
        refused_by_role,
        refused_by_account,
        refused_by_account,
        plain_read,
        writer("admin@acme.test"),
        writer("planner@vendor.test"),
    ]
    tally: Counter = Counter()
    lock = threading.Lock()
    stop = threading.Event()
    threads = [threading.Thread(target=_loop, args=(stop, w, tally, lock)) for w in work]
    for thread in threads:
        thread.start()
    time.sleep(SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)

    assert set(tally) == {
        "desk 403",
        "other account 404",
        "read 200",
        "sign in 303",
        "sign out 303",
    }, tally
    # Enough of each happened at the same time for the test to mean something.
    assert min(tally.values()) >= 5, tally
    refusals = tally["desk 403"] + tally["other account 404"]
    with app.app_context():
        denied = db.session.scalar(select(func.count()).where(AuditEvent.action == "access_denied"))
        by_target = dict(
            db.session.execute(
                select(AuditEvent.target, func.count())
                .where(AuditEvent.action == "access_denied")
                .group_by(AuditEvent.target)
            ).all()
        )
    assert denied == refusals, (denied, tally)
    assert by_target == {
        "GET /desk": tally["desk 403"],
        f"customer_account:{ids['acme']}": tally["other account 404"],
    }
