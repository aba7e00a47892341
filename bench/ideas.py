"""Design suggestions at scale: adds 100,000 suggestions and 1,000,000 thread
messages across the accounts of the large data set (bench/generate.py), then
times the engineers' queue, an account's list and a suggestion page with a
long thread, in-process, with the SQL statements each issues.

    .venv/bin/python bench/ideas.py --instance /tmp/portal-big [--generate]
    .venv/bin/python bench/ideas.py --database-url postgresql+psycopg://postgres@127.0.0.1/big
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.pages import time_pages, use_database  # noqa: E402

STATUSES = ["submitted", "under_review", "needs_information", "accepted", "declined", "planned",
            "implemented"]  # fmt: skip


def generate(rng: random.Random, n_ideas: int, n_messages: int) -> int:
    """Bulk-insert suggestions and messages; returns the id of the one with the longest thread."""
    from sqlalchemy import func, select

    from bench.bulk import insert_rows, move_sequences
    from portal.accounts.models import CustomerAccount, User
    from portal.extensions import db
    from portal.ideas.models import Idea, IdeaMessage
    from portal.ideas.service import add_business_days

    accounts = db.session.scalars(select(CustomerAccount.id)).all()
    authors = dict(
        db.session.execute(
            select(User.account_id, func.min(User.id))
            .where(User.account_id.is_not(None))
            .group_by(User.account_id)
        ).all()
    )
    fallback = db.session.scalar(select(User.id).where(User.email == "buyer@acme.test"))
    engineer = db.session.scalar(select(User.id).where(User.email == "engineer@vendor.test"))
    start = datetime.now(UTC) - timedelta(days=730)
    first_id = (db.session.scalar(select(func.max(Idea.id))) or 0) + 1
    rows = []
    for n in range(n_ideas):
        sent = start + timedelta(seconds=n * 730 * 86400 / n_ideas)
        status = rng.choice(STATUSES)
        answered = None if status == "submitted" else sent + timedelta(hours=rng.randint(2, 300))
        account = accounts[n % len(accounts)]
        rows.append(
            {
                "id": first_id + n,
                "account_id": account,
                "direction": "customer",
                "title": f"Suggestion {n}: a better bracket",
                "body": "Use a stamped part.",
                "category": "design",
                "expected_saving": None,
                "expected_benefit": "",
                "status": status,
                "created_by_id": authors.get(account, fallback),
                "created_at": sent,
                "submitted_at": sent,
                "answer_due_on": add_business_days(sent.date(), 5),
                "first_answered_at": answered,
                "assignee_id": engineer if answered else None,
                "last_activity_at": answered or sent,
                "realised_saving": None,
            }
        )
    insert_rows(Idea, rows)
    db.session.commit()
    longest = first_id  # the first suggestion gets a thread of 500 posts
    batch = []
    for m in range(n_messages):
        idea_id = longest if m < 500 else first_id + rng.randrange(n_ideas)
        batch.append(
            {
                "idea_id": idea_id,
                "author_id": engineer if m % 2 else fallback,
                "kind": "note" if m % 7 == 0 else "message",
                "internal": m % 7 == 0,
                "body": f"Message {m}: **details** follow.",
                "body_html": f"<p>Message {m}: <strong>details</strong> follow.</p>",
                "created_at": start + timedelta(seconds=m * 600),
            }
        )
        if len(batch) == 20_000:
            insert_rows(IdeaMessage, batch)
            batch = []
    if batch:
        insert_rows(IdeaMessage, batch)
    db.session.commit()
    move_sequences("idea")
    return longest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--instance")
    parser.add_argument("--database-url")
    parser.add_argument("--generate", action="store_true", help="add the suggestions first")
    args = parser.parse_args()
    use_database(args.instance, args.database_url)

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from portal import create_app
    from portal.extensions import db
    from portal.ideas.models import Idea, IdeaMessage

    app = create_app()
    with app.app_context():
        upgrade()
        if args.generate:
            started = time.perf_counter()
            generate(random.Random(11), 100_000, 1_000_000)
            print(f"generated in {time.perf_counter() - started:.0f} s")
            # Fresh statistics, as after any bulk load, so the planner knows the tables.
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                    c.exec_driver_sql("ANALYZE idea; ANALYZE idea_message")
            else:
                db.session.execute(db.text("ANALYZE"))
                db.session.commit()
        longest = db.session.scalar(
            select(IdeaMessage.idea_id)
            .group_by(IdeaMessage.idea_id)
            .order_by(func.count().desc())
            .limit(1)
        )
        print(
            f"{db.session.scalar(select(func.count()).select_from(Idea)):,} suggestions, "
            f"{db.session.scalar(select(func.count()).select_from(IdeaMessage)):,} messages"
        )
        engine = db.engine

    pages = {
        "engineers' queue": ("engineer@vendor.test", "/ideas"),
        "all suggestions, latest first": ("engineer@vendor.test", "/ideas?view=all"),
        "an account's list (customer)": ("buyer@acme.test", "/ideas"),
        "suggestion with the longest thread": ("engineer@vendor.test", f"/ideas/{longest}"),
    }
    time_pages(app, engine, {name: (*page, 50) for name, page in pages.items()}, runs=30, warmup=3)


if __name__ == "__main__":
    main()
