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
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import days, formatting
from portal.accounts.models import CustomerAccount, User
from portal.forecasts import owed as forecasts_owed
from portal.fulfilment import owed as desk_owed
from portal.ideas import owed as ideas_owed
from portal.plans import owed as plans_owed
from portal.service import owed as service_owed

from . import service

SECTIONS = {
    "waiting": _l("Orders waiting for confirmation"),
    "late": _l("Late lines"),
    "at_risk": _l("Lines at risk"),
    "changed": _l("Changed promises"),
    "suggestion": _l("Suggestions waiting for an answer"),
    "service": _l("Service requests"),
    "forecast": _l("Forecast versions not answered"),
    "plan": _l("Plans not acknowledged"),
    "follow_up": _l("Follow-ups"),
}


# The service clocks' names (the service area's codes) in the reader's words.
CLOCK_NAMES = {"first answer": _l("first answer"), "resolution": _l("resolution")}


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
    manager = account.account_manager.name if account.account_manager else _("No manager")
    found = Promised(account)
    items = found.items

    for order in desk_owed.waiting_orders(ids):
        items.append(
            Item(
                "waiting",
                _("Order %(number)s (PO %(po)s)", number=order.number, po=order.po_number),
                _("Order desk"),
                order.requested_date,
                _day(order.placed_at),
                "waiting",
                url_for("ordering.order", number=order.number),
                _("requested for %(day)s", day=formatting.day(order.requested_date))
                if order.requested_date
                else "",
            )
        )
    for line in desk_owed.open_lines(ids, today):
        state = line.state(today)
        section = {"late": "late", "at_risk": "at_risk"}.get(state, "changed")
        detail = _("%(num)s to go", num=line.outstanding)
        if line.changed and line.first_promised_on:
            detail = _(
                "%(num)s to go; first promised for %(day)s",
                num=line.outstanding,
                day=formatting.day(line.first_promised_on),
            )
        items.append(
            Item(
                section,
                _(
                    "%(order)s line %(line)s: %(sku)s %(name)s",
                    order=line.order_number,
                    line=line.line_no,
                    sku=line.sku,
                    name=line.name,
                ),
                _("Order desk"),
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
                    idea.assignee or _("Engineering (not assigned)"),
                    idea.answer_due_on,
                    _day(idea.submitted_at),
                    state,
                    url_for("ideas.detail", idea_id=idea.idea_id),
                    _("first answer"),
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
                    request.owner or _("Service (not taken)"),
                    _day(request.due_at),
                    _day(request.opened_at),
                    state,
                    url_for("service.detail", request_id=request.request_id),
                    f"{request.status_label}; "
                    f"{CLOCK_NAMES.get(request.clock, request.clock) or _('no clock')}"
                    + (
                        " " + _("due %(when)s", when=formatting.localtime(request.due_at))
                        if request.due_at
                        else ""
                    ),
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
                    _("Forecast version %(number)s", number=version.number),
                    _("Planning"),
                    None,
                    _day(version.published_at),
                    "waiting",
                    url_for("forecasts.version", version_id=version.version_id),
                    _("no commitment yet"),
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
                _("takes effect %(day)s", day=formatting.day(plan.effective_from)),
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
