"""One snapshot per account and day: the signals, the score and the status, written by
the scheduled job and `flask relationship refresh`, read by the pages.

Writing a day replaces that day's rows (delete, then insert, in one transaction), so
a refresh run twice on the same day leaves one row per account; the unique key on
(account, day) makes sure of it even when two run at once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select

from portal.days import vendor_today
from portal.extensions import db, utcnow

from . import signals, stats
from .models import Snapshot
from .phrases import Phrase, stored

HISTORY_DAYS = 365
SPARKLINE_WEEKS = 13


@dataclass
class Health:
    account_id: int
    day: date
    score: int
    status: str
    signals: dict[str, dict]

    def red_subjects(self) -> dict:
        """What is red: "account" and each red signal's key, with its reason."""
        red = {
            key: reading["reason"]
            for key, reading in self.signals.items()
            if reading.get("status") == stats.RED
        }
        if self.status == stats.RED:
            red = {"account": stored(Phrase(_l("score %(score)s"), score=self.score)), **red}
        return red


def assess(as_of: date, account_ids: list[int] | None = None, *, is_today: bool = True,
           now: datetime | None = None) -> dict[int, Health]:  # fmt: skip
    """Every account's health as of the end of `as_of` (a vendor's day), today's state
    judged at `now`."""
    chosen = signals.thresholds()
    readings = signals.compute(as_of, account_ids, is_today=is_today, chosen=chosen, now=now)
    weights = {key: t.weight for key, t in chosen.items() if key != "account"}
    account = chosen["account"]
    result = {}
    for account_id, by_signal in readings.items():
        statuses = {key: r.status for key, r in by_signal.items()}
        score = stats.score(statuses, weights)
        status = stats.account_status(
            score, statuses.values(), amber=account.amber, red=account.red
        )
        result[account_id] = Health(
            account_id, as_of, score, status, {k: r.as_dict() for k, r in by_signal.items()}
        )
    return result


def write(healths: dict[int, Health], day: date, now: datetime) -> int:
    """Replace the day's snapshots of these accounts; the caller commits."""
    ids = list(healths)
    if not ids:
        return 0
    db.session.execute(delete(Snapshot).where(Snapshot.day == day, Snapshot.account_id.in_(ids)))
    db.session.execute(
        insert(Snapshot),
        [
            {
                "account_id": h.account_id,
                "day": day,
                "score": h.score,
                "status": h.status,
                "signals": h.signals,
                "computed_at": now,
            }
            for h in healths.values()
        ],
    )
    return len(ids)


def refresh(as_of: date | None = None, *, now: datetime | None = None, alert: bool = True) -> int:
    """Compute and keep every account's snapshot for `as_of` (today by default); for
    today, open and close the red episodes and tell the managers. Commits."""
    from . import alerts

    now = now or utcnow()
    # A schedule of the vendor's that gathers every account: its day is the vendor's
    # (portal.days), the day the portfolio and the account pages look the snapshot up by.
    today = vendor_today(now)
    as_of = as_of or today
    healths = assess(as_of, is_today=as_of == today, now=now)
    written = write(healths, as_of, now)
    if alert and as_of == today:
        alerts.update(healths, as_of, now)
    db.session.commit()
    return written


def backfill(days: int = HISTORY_DAYS, *, step: int = 1, now: datetime | None = None) -> int:
    """Rebuild the snapshots of the last `days` days (every `step`-th day) from the events,
    without alerts; then today's, with them. Returns the number of days written."""
    now = now or utcnow()
    today = vendor_today(now)
    written = 0
    for back in range(days, 0, -step):
        refresh(today - timedelta(days=back), now=now, alert=False)
        written += 1
    refresh(today, now=now)
    return written + 1


# --- reading ---------------------------------------------------------------------------


def latest(account_ids) -> dict[int, Snapshot]:
    """Each account's newest snapshot (`account_ids`: a list or a select of ids)."""
    newest = (
        select(Snapshot.account_id, func.max(Snapshot.day).label("day"))
        .where(Snapshot.account_id.in_(account_ids))
        .group_by(Snapshot.account_id)
        .subquery()
    )
    rows = db.session.scalars(
        select(Snapshot).join(
            newest, (newest.c.account_id == Snapshot.account_id) & (newest.c.day == Snapshot.day)
        )
    )
    return {row.account_id: row for row in rows}


def scores_on(account_ids, days: list[date]) -> dict[int, dict[date, tuple[int, str]]]:
    """Score and status of each account on each of `days` that has a snapshot."""
    found: dict[int, dict[date, tuple[int, str]]] = defaultdict(dict)
    for account_id, day, score, status in db.session.execute(
        select(Snapshot.account_id, Snapshot.day, Snapshot.score, Snapshot.status).where(
            Snapshot.account_id.in_(account_ids), Snapshot.day.in_(days)
        )
    ):
        found[account_id][day] = (score, status)
    return found


def sparkline_days(today: date, weeks: int = SPARKLINE_WEEKS) -> list[date]:
    return [today - timedelta(days=7 * n) for n in range(weeks - 1, -1, -1)]


def history(account_id: int, today: date, days: int = HISTORY_DAYS) -> list[Snapshot]:
    """One account's snapshots of the last `days` days, oldest first."""
    return list(
        db.session.scalars(
            select(Snapshot)
            .where(Snapshot.account_id == account_id, Snapshot.day > today - timedelta(days=days))
            .order_by(Snapshot.day)
        )
    )


class Moved(NamedTuple):
    """A signal whose status changed between two snapshots."""

    key: str
    before: str | None  # green / amber / red; None: nothing to judge then
    now: str | None

    @property
    def direction(self) -> str | None:
        """ "better" or "worse" when both ends were judged; None when one side had nothing."""
        if self.before is None or self.now is None:
            return None
        return "better" if stats.POINTS[self.now] > stats.POINTS[self.before] else "worse"


def between(account_id: int, start: date, end: date) -> list[Snapshot]:
    """One account's snapshots from `start` to `end` (both included), oldest first."""
    return list(
        db.session.scalars(
            select(Snapshot)
            .where(Snapshot.account_id == account_id, Snapshot.day >= start, Snapshot.day <= end)
            .order_by(Snapshot.day)
        )
    )


@dataclass
class Trend:
    label: str | None  # improving / stable / deteriorating; None without history
    then: Snapshot | None
    moved: list[Moved]  # the signals whose status changed, in the order of SIGNALS
    back: int = 0  # days asked for; `then` may be a little older

    @property
    def worse(self) -> list[Moved]:
        return [m for m in self.moved if m.direction == "worse"]

    @property
    def better(self) -> list[Moved]:
        return [m for m in self.moved if m.direction == "better"]


def trend(current: Snapshot, past: list[Snapshot], back: int) -> Trend:
    """The score against the snapshot `back` days before `current` (or the nearest older
    one), and the signals whose status changed since."""
    target = current.day - timedelta(days=back)
    then = None
    for snapshot in past:
        if snapshot.day <= target:
            then = snapshot
    if then is None:
        return Trend(None, None, [], back)
    moved = []
    for key in current.signals.keys() | then.signals.keys():
        before = then.signals.get(key, {}).get("status")
        now = current.signals.get(key, {}).get("status")
        if before != now:
            moved.append(Moved(key, before, now))
    order = list(signals.by_key())
    moved.sort(key=lambda item: order.index(item.key) if item.key in order else len(order))
    return Trend(stats.trend(current.score, then.score), then, moved, back)
