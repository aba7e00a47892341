"""Warnings and breach notices for promised response times, sent by the schedule.

For every open request, each of its two promises (first answer, resolution)
that is still running:

- at 75 % of its working time spent, the owner is warned (the service team
  while nobody owns it);
- once breached, the owner (or the service team) and the account's manager
  are told.

Each notice goes out once per request and promise: it is written as a
ServiceEvent ("promise_warning" / "promise_breached", `after` naming the
promise), and a run sends only what has no such event yet. A paused clock
(waiting for the customer) warns nobody; a promise already met needs nothing.
A promise breached while paused is still a breach. The clock itself is the
promise clock over the events (portal.service.promises), so nothing here keeps
a counter.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount
from portal.accounts.roles import Role
from portal.extensions import db

from . import promises
from .models import OPEN_STATUSES, ServiceEvent, ServiceRequest

WARN_SHARE = 0.75
WARNING, BREACH = "promise_warning", "promise_breached"
# Translated for each reader of the notification (portal.notifications.messages).
PROMISE_NAMES = {"response": _l("first answer"), "resolution": _l("resolution")}


def send_promise_alerts(now: datetime) -> int:
    """Warn and tell about the promises of open requests (see the module); returns
    how many notices were sent. A fixed number of statements whatever the number
    of requests (apart from the notifications written)."""
    from portal.notifications import service as notifications

    open_requests = list(
        db.session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.status.in_(OPEN_STATUSES))
            .options(
                selectinload(ServiceRequest.owner),
                selectinload(ServiceRequest.account).selectinload(CustomerAccount.account_manager),
            )
            .order_by(ServiceRequest.id)
        )
    )
    if not open_requests:
        return 0
    states = promises.promises_for(open_requests, now)
    already = set(
        db.session.execute(
            select(ServiceEvent.request_id, ServiceEvent.kind, ServiceEvent.after).where(
                ServiceEvent.kind.in_((WARNING, BREACH)),
                ServiceEvent.request_id.in_(
                    select(ServiceRequest.id).where(ServiceRequest.status.in_(OPEN_STATUSES))
                ),
            )
        ).all()
    )
    team = None
    sent = 0
    for request in open_requests:
        promise = states[request.id]
        for name, clock in (("response", promise.response), ("resolution", promise.resolution)):
            if clock.is_done:
                continue
            if clock.state == "breached":
                kind = BREACH
            elif clock.state == "due" and clock.spent_seconds >= WARN_SHARE * clock.target_seconds:
                kind = WARNING
            else:
                continue
            if (request.id, kind, name) in already:
                continue
            if request.owner is not None:
                people = [request.owner]
            else:
                team = team if team is not None else accounts.people_with_role(Role.SERVICE)
                people = list(team)
            what = PROMISE_NAMES[name]
            if kind == BREACH:
                manager = request.account.account_manager
                if manager is not None:
                    people.append(manager)
                left = None
            else:
                left = timedelta(seconds=max(0, clock.left_seconds))
            db.session.add(
                ServiceEvent(
                    request_id=request.id,
                    at=now,
                    actor_id=None,
                    kind=kind,
                    after=name,
                    detail={"spent_seconds": round(clock.spent_seconds)},
                )
            )
            notifications.notify(
                people,
                f"service_{kind}",
                {
                    "reference": request.reference,
                    "account": request.account.name,
                    "promise": what,
                    "left": left,
                    "title": request.title,
                },
                f"/service/{request.id}",
            )
            already.add((request.id, kind, name))
            sent += 1
    db.session.commit()
    return sent
