"""Demo forecasts: every demo account published a few versions over the last 18
months, near what it really orders per month (its order history), with noise
and drift between versions. Written in bulk: a handful of version rows, the
cells with one executemany per account."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, insert, select

from portal.accounts.models import CustomerAccount
from portal.accounts.roles import Role
from portal.catalog.models import Product
from portal.extensions import db
from portal.ordering.models import Order, OrderLine

from .models import DEFAULT_HORIZON_MONTHS, ForecastCell, ForecastEvent, ForecastVersion
from .months import add_months, first_of_month, month_label
from .versions import count_changes

# Months before this one in which each account published a version.
PUBLISHED_MONTHS_AGO = (17, 13, 9, 5, 1)
COMMENTS = [
    "",
    "New line starts in spring; pumps up from then.",
    "Plant shutdown in August.",
    "Lower volumes on the old series, we move to the 62xx bearings.",
    "",
    "Budget for next year agreed.",
]
MAX_PRODUCTS = 25
# Initech forecasts badly: its versions swing far from what it then orders.
POOR_FORECASTERS = {"C-10003"}
# Acme and Umbrella forecast carefully (steady consumption, a budget they keep to): their
# versions stay close to their run rate, so what remains of their error is the ordering's
# own month-to-month swing (and, for Umbrella, the months it stopped ordering).
CAREFUL_FORECASTERS = {"C-10001", "C-10004"}
# Accounts that went quiet publish nothing newer than this many months ago: Umbrella
# nothing for over a year (its last version, 13 months back, still covers the months
# measured since: a budget forecast), Initech nothing since its burst of complaints about
# four months ago (see service.demo).
NEWEST_MONTHS_AGO = {"C-10004": 13, "C-10003": 5}
# The healthy account: the vendor commits to all it forecasts.
HEALTHY_ACCOUNT = "C-10001"


def load(rng: random.Random, today: date) -> dict[str, int]:
    accounts = db.session.scalars(select(CustomerAccount).order_by(CustomerAccount.number)).all()
    versions = cells = 0
    this_month = first_of_month(today)
    for account in accounts:
        monthly = _monthly_orders(account.id, today)
        if not monthly:
            continue
        author = next(
            (u for u in account.users if u.has_role(Role.BUYER, Role.CUSTOMER_ADMIN)), None
        )
        previous: dict = {}
        # A lasting trend per product (some grow, some shrink), and noise per version.
        poor = account.number in POOR_FORECASTERS
        careful = account.number in CAREFUL_FORECASTERS
        trend_range = (0.4, 2.4) if poor else (0.95, 1.1) if careful else (0.85, 1.2)
        trend = {pid: rng.uniform(*trend_range) for pid in monthly}
        noise_range = (0.2, 2.2) if poor else (0.9, 1.1) if careful else (0.8, 1.2)
        newest = NEWEST_MONTHS_AGO.get(account.number, 0)
        published_ago = tuple(ago for ago in PUBLISHED_MONTHS_AGO if ago >= newest)
        for number, ago in enumerate(published_ago, start=1):
            first = add_months(this_month, -ago)
            published_at = datetime.combine(
                first + timedelta(days=rng.randint(2, 20)), time(rng.randint(8, 16)), tzinfo=UTC
            )
            progress = number / len(PUBLISHED_MONTHS_AGO)
            quantities = {}
            for pid, average in monthly.items():
                level = average * (1 + (trend[pid] - 1) * progress)
                for n in range(DEFAULT_HORIZON_MONTHS):
                    noise = rng.uniform(*noise_range)
                    quantities[(pid, add_months(first, n))] = max(0, round(level * noise))
            version = ForecastVersion(
                account_id=account.id,
                number=number,
                first_month=first,
                horizon_months=DEFAULT_HORIZON_MONTHS,
                created_by_id=author.id if author else None,
                created_at=published_at - timedelta(days=1),
                published_by_id=author.id if author else None,
                published_at=published_at,
                comment=COMMENTS[(number + account.id) % len(COMMENTS)],
                cells_changed=count_changes(quantities, previous),
                total_quantity=sum(quantities.values()),
            )
            db.session.add(version)
            db.session.flush()
            db.session.execute(
                insert(ForecastCell),
                [
                    {
                        "version_id": version.id,
                        "product_id": pid,
                        "month": month,
                        "account_id": account.id,
                        "quantity": q,
                    }
                    for (pid, month), q in quantities.items()
                ],
            )
            db.session.add(
                ForecastEvent(
                    account_id=account.id,
                    version_id=version.id,
                    at=published_at,
                    actor_id=version.published_by_id,
                    kind="published",
                    before="draft",
                    after=f"v{number}",
                    detail={"cells_changed": version.cells_changed},
                )
            )
            previous = quantities
            versions += 1
            cells += len(quantities)
    db.session.commit()
    commitments = _commit(rng)
    return {
        "forecast versions": versions,
        "forecast cells": cells,
        "forecast commitments": commitments,
    }


# (reason, text) of the demo's commitments below forecast.
SHORTFALLS = [
    ("capacity", ""),
    ("material", ""),
    ("lead_time", ""),
    ("other", "Tooling change on the press line"),
]


def _commit(rng: random.Random) -> int:
    """The planner answers every account's latest version at its forecast, then commits
    less for a few product-months of every account but the healthy one (mismatches with
    reasons): Acme's commitments all match its forecast."""
    from portal.accounts.models import User

    from . import commits, service

    planner = db.session.scalar(select(User).where(User.email == "planner@vendor.test"))
    if planner is None:
        return 0
    account_ids = db.session.scalars(
        select(ForecastVersion.account_id)
        .where(ForecastVersion.number > 0)
        .distinct()
        .order_by(ForecastVersion.account_id)
    ).all()
    healthy = db.session.scalar(
        select(CustomerAccount.id).where(CustomerAccount.number == HEALTHY_ACCOUNT)
    )
    written = 0
    for account_id in account_ids:
        written += commits.commit_all_as_forecast(planner, account_id).written
        if account_id == healthy:
            continue
        latest = service.latest_published(account_id)
        cells = sorted((k, q) for k, q in service.all_cells(latest.id).items() if q >= 4)
        entries = []
        for (pid, month), quantity in rng.sample(cells, min(4, len(cells))):
            reason, text = rng.choice(SHORTFALLS)
            short = round(quantity * rng.uniform(0.5, 0.9))
            entries.append(commits.CommitEntry(pid, month_label(month), str(short), reason, text))
        if entries:
            written += commits.commit(planner, account_id, entries).written
    return written


def _monthly_orders(account_id: int, today: date) -> dict[int, float]:
    """Average quantity per month over the last year of the account's most ordered products."""
    since = datetime.combine(today - timedelta(days=365), time(), tzinfo=UTC)
    rows = db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id)
        .where(
            Order.account_id == account_id,
            Order.placed_at >= since,
            Product.status == "active",
        )
        .group_by(OrderLine.product_id)
        .order_by(func.sum(OrderLine.quantity).desc(), OrderLine.product_id)
        .limit(MAX_PRODUCTS)
    ).all()
    totals: dict[int, float] = defaultdict(float)
    for product_id, quantity in rows:
        totals[product_id] = max(1.0, quantity / 12)
    return dict(totals)
