"""Twelve months of relationship history for the demo, rebuilt from the demo's events:
weekly snapshots for the year (on the portfolio sparkline's days), daily ones for the
last five weeks (so the 30-day trend compares like with like), then today's, which opens
the red episodes and tells the managers. The demo's order dates are not changed: Umbrella
Process Labs (C-10004) already comes out red for order rhythm and silence."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.extensions import db

from . import snapshots

DAILY_DAYS = 35


def load(now: datetime) -> dict[str, int]:
    today = now.date()
    days = sorted(
        {today - timedelta(days=back) for back in range(364, DAILY_DAYS, -7)}
        | {today - timedelta(days=back) for back in range(DAILY_DAYS, 0, -1)}
    )
    for day in days:
        snapshots.refresh(day, now=now, alert=False)
    snapshots.refresh(today, now=now)
    db.session.commit()
    return {"relationship snapshot days": len(days) + 1}
