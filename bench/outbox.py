"""The e-mail outbox at scale: what writing mail adds to a request, and how fast the
worker hands 10,000 queued e-mails to a local SMTP sink (aiosmtpd), checking that each
arrives exactly once.

    .venv/bin/python bench/outbox.py                    # a new SQLite file (and queue) in /tmp
    .venv/bin/python bench/outbox.py --messages 2000
    .venv/bin/python bench/outbox.py --database-url postgresql+psycopg://postgres@127.0.0.1/obench

The enqueue cost is measured in a POST request context (on SQLite the transaction
takes the write lock first, as a page does): `notify` to one user who gets e-mail at
once, against the same notification for a user who chose no e-mail; the difference
is the outbox row. The nudge after the commit (one per transaction, whatever the
number of messages) is timed on its own. Delivery runs the worker's own function
(`outbox.deliver_due`), one SMTP connection per batch of 100.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ROUNDS = 300


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    instance = tempfile.mkdtemp(prefix="portal-outbox-bench-")
    os.environ["PORTAL_INSTANCE_PATH"] = instance
    if args.database_url:
        os.environ["PORTAL_DATABASE_URL"] = args.database_url

    from aiosmtpd.controller import Controller
    from flask_migrate import upgrade
    from sqlalchemy import delete, func, select

    from portal import create_app, jobs
    from portal import demo as demo_data
    from portal.accounts.models import User
    from portal.extensions import db
    from portal.notifications import outbox, preferences, service
    from portal.notifications.models import Notification, OutboxMessage

    class Sink:
        def __init__(self):
            self.ids: list[str] = []
            self.lock = threading.Lock()

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            for line in envelope.content.split(b"\r\n"):
                if line.lower().startswith(b"message-id:"):
                    with self.lock:
                        self.ids.append(line.split(b":", 1)[1].strip().decode())
                    break
            return "250 OK"

    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()

    app = create_app()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_USE_TLS=False)
    with app.app_context():
        upgrade()
        print(f"database: {db.engine.url.render_as_string(hide_password=True)}")
        queue = jobs.queue_of(app)
        print(f"queue:    {queue.backend} at {queue.location}")
        if not demo_data.is_loaded():
            demo_data.load_people()
        db.session.execute(delete(OutboxMessage))
        db.session.commit()
        mailed = db.session.scalar(select(User).where(User.email == "buyer@acme.test"))
        silent = db.session.scalar(select(User).where(User.email == "admin@acme.test"))
        preferences.save(silent, {"order_confirmed": "none"})
        mailed_id, silent_id = mailed.id, silent.id

    def one_request(user_id: int) -> float:
        with app.test_request_context(method="POST"):
            started = time.perf_counter()
            person = db.session.get(User, user_id)
            service.notify([person], "order_confirmed", "Order 2026-000001 was confirmed.", "/")
            db.session.flush()
            elapsed = time.perf_counter() - started
            db.session.rollback()  # the commit (and its nudge) is timed separately
            return elapsed

    for user_id in (mailed_id, silent_id):  # warm up
        one_request(user_id)
    with_mail = [one_request(mailed_id) for _ in range(ROUNDS)]
    without = [one_request(silent_id) for _ in range(ROUNDS)]
    added = statistics.median(with_mail) - statistics.median(without)
    print(f"\nenqueue cost inside a request (median of {ROUNDS})")
    print(f"  notify, e-mail at once : {statistics.median(with_mail) * 1000:7.3f} ms")
    print(f"  notify, no e-mail      : {statistics.median(without) * 1000:7.3f} ms")
    print(f"  the outbox row adds    : {added * 1000:7.3f} ms per message  (target < 2 ms)")

    with app.test_request_context(method="POST"):
        nudges = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            jobs.enqueue("deliver_outbox")
            nudges.append(time.perf_counter() - started)
        queue.huey.flush()
    print(f"  the nudge after commit : {statistics.median(nudges) * 1000:7.3f} ms per commit")

    # Many recipients in one transaction: the per-message share of a bigger notify.
    with app.test_request_context(method="POST"):
        people = list(db.session.scalars(select(User).where(User.account_id.is_not(None))))
        started = time.perf_counter()
        service.notify(people, "order_placed", "Many recipients.", "/")
        db.session.flush()
        many = time.perf_counter() - started
        db.session.rollback()
    print(f"  notify to {len(people)} users   : {many * 1000 / len(people):7.3f} ms per recipient")

    print(f"\nqueueing {args.messages} e-mails …")
    with app.test_request_context(method="POST"):
        person = db.session.get(User, mailed_id)
        for start in range(0, args.messages, 1000):
            for n in range(start, min(args.messages, start + 1000)):
                outbox.queue_mail(person, "bench", f"Message {n}", f"Body of message {n}.")
            db.session.commit()
        queue.huey.flush()
        db.session.execute(delete(Notification))
        db.session.commit()

    started = time.perf_counter()
    runs = 0
    with app.app_context():
        while True:
            runs += 1
            report = outbox.deliver_due(worker="bench")
            if not report.sent and not report.retrying:
                break
        elapsed = time.perf_counter() - started
        states = dict(
            db.session.execute(
                select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
            ).all()
        )
        stored = set(db.session.scalars(select(OutboxMessage.message_id)))
    controller.stop()
    unique = set(sink.ids)
    print(
        f"\ndelivered {len(sink.ids)} e-mails in {elapsed:.1f} s over {runs} runs: "
        f"{len(sink.ids) / elapsed:,.0f} per second"
    )
    print(f"  rows by state      : {states}")
    print(f"  duplicates         : {len(sink.ids) - len(unique)}")
    print(f"  missing            : {len(stored - unique)}")
    ok = len(sink.ids) == len(unique) == args.messages and unique == stored
    print("  exactly once       : " + ("yes" if ok else "NO"))
    print(f"\ninstance: {instance}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
