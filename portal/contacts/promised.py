"""Everything the vendor has promised one account, in one place.

Each area says what it owes through a small public function that reads any number of
accounts in a fixed number of statements (fulfilment.owed, ideas.owed, service.owed,
forecasts.owed, plans.owed, and the follow-ups here); this module only puts their rows
side by side, nearest promise first. What an area keeps confidential to some roles
(what a suggestion or a service request is about, a forecast) is counted for everyone
else, not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import url_for

from portal import days
from portal.accounts.models import CustomerAccount, User
from portal.forecasts import owed as forecasts_owed
from portal.fulfilment import owed as desk_owed
from portal.ideas import owed as ideas_owed
from portal.plans import owed as plans_owed
from portal.service import owed as service_owed

from . import service

SECTIONS = {
    "waiting": "Orders waiting for confirmation",
    "late": "Late lines",
    "at_risk": "Lines at risk",
    "changed": "Changed promises",
    "suggestion": "Suggestions waiting for an answer",
    "service": "Service requests",
    "forecast": "Forecast versions not answered",
    "plan": "Plans not acknowledged",
    "follow_up": "Follow-ups",
}


@dataclass(frozen=True)
class Item:
    section: str
    what: str
    owner: str
    # The promise's date (None where nothing was promised: then `since` says how long it waits).
    due: date | None
    since: date | None
    state: str  # "late", "at_risk", "due", "waiting", "paused", "open"
    link: str
    detail: str = ""

    @property
    def section_label(self) -> str:
        return SECTIONS[self.section]

    @property
    def sort_key(self) -> tuple:
        day = self.due or self.since or date.max
        return (day, self.section, self.what)


@dataclass
class Promised:
    account: CustomerAccount
    items: list[Item] = field(default_factory=list)
    # Sections the viewer may not read in detail: how many rows each holds.
    hidden: dict[str, int] = field(default_factory=dict)

    def count(self, section: str) -> int:
        return sum(1 for item in self.items if item.section == section) + self.hidden.get(
            section, 0
        )


def may_read(viewer: User, account: CustomerAccount) -> bool:
    """Account managers their accounts; admins, planners, engineers, service and
    fulfilment every account."""
    return service.may_work_on(viewer, account)


def promised(viewer: User, account: CustomerAccount, now: datetime) -> Promised:
    """What is owed to the account now, from every area, nearest promise first. Days
    (what is late, when something was asked) are the account's (portal.days)."""
    zone = days.account_zone(account)
    today = days.day_in(zone, now)

    def _day(moment: datetime | None) -> date | None:
        return days.local_day(moment, zone)

    ids = [account.id]
    manager = account.account_manager.name if account.account_manager else "No manager"
    found = Promised(account)
    items = found.items

    for order in desk_owed.waiting_orders(ids):
        items.append(
            Item(
                "waiting",
                f"Order {order.number} (PO {order.po_number})",
                "Order desk",
                order.requested_date,
                _day(order.placed_at),
                "waiting",
                url_for("ordering.order", number=order.number),
                "requested for " + order.requested_date.strftime("%d %b %Y")
                if order.requested_date
                else "",
            )
        )
    for line in desk_owed.open_lines(ids, today):
        state = line.state(today)
        section = {"late": "late", "at_risk": "at_risk"}.get(state, "changed")
        detail = f"{line.outstanding} to go"
        if line.changed and line.first_promised_on:
            detail += f"; first promised for {line.first_promised_on:%d %b %Y}"
        items.append(
            Item(
                section,
                f"{line.order_number} line {line.line_no}: {line.sku} {line.name}",
                "Order desk",
                line.promised_on,
                None,
                state if state != "on_track" else "open",
                url_for("ordering.order", number=line.order_number),
                detail,
            )
        )

    suggestions = ideas_owed.awaiting_answer(ids)
    if viewer.has_role(*ideas_owed.READERS):
        for idea in suggestions:
            state = "late" if idea.answer_due_on and idea.answer_due_on < today else "due"
            items.append(
                Item(
                    "suggestion",
                    f"{idea.reference} {idea.title}",
                    idea.assignee or "Engineering (not assigned)",
                    idea.answer_due_on,
                    _day(idea.submitted_at),
                    state,
                    url_for("ideas.detail", idea_id=idea.idea_id),
                    "first answer",
                )
            )
    elif suggestions:
        found.hidden["suggestion"] = len(suggestions)

    requests = service_owed.open_requests(ids, now)
    if viewer.has_role(*service_owed.READERS):
        for request in requests:
            state = {"breached": "late", "paused": "paused"}.get(request.clock_state or "", "due")
            items.append(
                Item(
                    "service",
                    f"{request.reference} {request.title}",
                    request.owner or "Service (not taken)",
                    _day(request.due_at),
                    _day(request.opened_at),
                    state,
                    url_for("service.detail", request_id=request.request_id),
                    f"{request.status_label}; {request.clock or 'no clock'}"
                    + (f" due {request.due_at:%d %b %H:%M} UTC" if request.due_at else ""),
                )
            )
    elif requests:
        found.hidden["service"] = len(requests)

    versions = forecasts_owed.unanswered_versions(ids)
    if viewer.has_role(*forecasts_owed.READERS):
        for version in versions:
            items.append(
                Item(
                    "forecast",
                    f"Forecast version {version.number}",
                    "Planning",
                    None,
                    _day(version.published_at),
                    "waiting",
                    url_for("forecasts.version", version_id=version.version_id),
                    "no commitment yet",
                )
            )
    elif versions:
        found.hidden["forecast"] = len(versions)

    for plan in plans_owed.unacknowledged_customer_plans(ids):
        items.append(
            Item(
                "plan",
                f"{plan.reference} {plan.title}",
                manager,
                plan.effective_from,
                _day(plan.published_at),
                "late" if plan.effective_from < today else "waiting",
                url_for("plans.detail", plan_id=plan.plan_id),
                "takes effect " + plan.effective_from.strftime("%d %b %Y"),
            )
        )

    for follow_up in service.due_follow_ups(ids, today):
        state = follow_up.state_on(today)
        items.append(
            Item(
                "follow_up",
                f"{follow_up.kind_label}: {follow_up.title}",
                follow_up.owner.name if follow_up.owner else manager,
                follow_up.due_on,
                _day(follow_up.created_at),
                {"overdue": "late"}.get(state, state),
                url_for("contacts.account", account_id=account.id, _anchor="follow-ups"),
                follow_up.reason,
            )
        )
    items.sort(key=lambda item: item.sort_key)
    return found
