"""The vendor's home: what each person owes, by role, nearest promise first.

Each area says what it owes through its public `owed` functions (the same ones the
contact area's "everything promised to one account" reads); called for every account
at once here. The lists are bounded by what is owed now (orders not yet confirmed,
lines due within days or late, unanswered suggestions, open requests), not by history,
so they are read whole and cut in Python: the count behind "N more" is exact.

- planner: forecast versions not answered, forecast exceptions not answered, products
  short of forecast demand, customers' plans not acknowledged;
- fulfilment: orders waiting for confirmation, lines due or late;
- engineer: suggestions waiting for their first answer;
- service: open service requests by their clock;
- account manager (vendor admin: every account): the portfolio, worst first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import TypeVar

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Row, Select, bindparam, select

from portal import days
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.extensions import db
from portal.forecasts import owed as forecasts_owed
from portal.formatting import day
from portal.fulfilment import owed as desk_owed
from portal.ideas import owed as ideas_owed
from portal.plans import owed as plans_owed
from portal.relationship import service as relationship
from portal.service import owed as service_owed

LIMIT = 20
PORTFOLIO_LIMIT = 10
T = TypeVar("T")

# state -> what a person reads beside the date (never colour alone)
STATES = {
    "overdue": _l("Overdue"),
    "due_soon": _l("Due soon"),
    "due": _l("Due"),
    "waiting": _l("Waiting"),
    "paused": _l("Paused"),
}

# A portfolio row's status, in words beside its colour.
HEALTH = {"red": _l("Red"), "amber": _l("Amber"), "green": _l("Green")}


@dataclass(slots=True)
class Duty:
    account_id: int | None  # None: owed across accounts (a product's shortage)
    what: str
    link: str
    # The promise's date; None where nothing was promised (then `since` says how long
    # it has waited).
    due: date | None
    since: date | None
    state: str
    owner: str | None = None
    detail: str = ""
    account: Row | None = None  # the account's (id, name, number)
    # Set with the account for the rows shown: STATES[state] in the reader's words,
    # the promise's date and `due_text`.
    state_label: str = ""
    due_day: str = ""
    due_text: str = ""


@dataclass
class Section:
    key: str
    title: str
    empty: str
    full_list: str
    full_list_label: str
    items: list[Duty] = field(default_factory=list)
    total: int = 0

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _cut(
    section: Section,
    found: Iterable[T],
    limit: int,
    key: Callable[[T], tuple[date | None, date | None, str]],
    duty: Callable[[T, str], Duty],
) -> Section:
    """The first `limit` of `found` as duties, nearest promise (or longest wait) first,
    then by their text; `key` gives a row's (due, since, text), `duty` makes a shown
    row's duty from it and its text. Only the rows shown are made into duties (their
    links and details are most of a row's cost: the lines due number 40 where 20 are
    shown); the count is of all."""
    keyed = [(key(row), row) for row in found]
    keyed.sort(key=lambda pair: (pair[0][0] or pair[0][1] or date.max, pair[0][2]))
    section.total = len(keyed)
    section.items = [duty(row, what) for (_due, _since, what), row in keyed[:limit]]
    return section


def _day(moment: datetime | None) -> date | None:
    return moment.date() if moment else None


def _late_or(due: date | None, today: date, otherwise: str) -> str:
    return "overdue" if due is not None and due < today else otherwise


# --- one function per section -------------------------------------------------------------
# A row's texts are the section's formats, translated once, filled in per row (what
# gettext with parameters does, less its lookup of the translations each time).


def waiting_orders(today: date, limit: int) -> Section:
    """Orders the desk has not confirmed: the customer's requested date is the promise
    to keep; without one, how long the order has waited."""
    what = _("Order %(number)s (PO %(po)s)")
    requested, not_requested = _("requested date"), _("no requested date")
    return _cut(
        Section(
            "waiting",
            _("Orders waiting for confirmation"),
            _("Nothing owed: no order waits for confirmation."),
            url_for("fulfilment.inbox"),
            _("Open the order desk"),
        ),
        desk_owed.waiting_orders(None),
        limit,
        lambda order: (
            order.requested_date,
            _day(order.placed_at),
            what % {"number": order.number, "po": order.po_number},
        ),
        lambda order, text: Duty(
            order.account_id,
            text,
            url_for("fulfilment.order", number=order.number),
            order.requested_date,
            _day(order.placed_at),
            _late_or(order.requested_date, today, "waiting"),
            detail=requested if order.requested_date else not_requested,
        ),
    )


def lines_due(today: date, limit: int) -> Section:
    """Confirmed lines whose promise falls due within days or has passed."""
    what = _("%(number)s line %(line)s: %(sku)s %(name)s")
    to_go = _("%(count)s to go")
    return _cut(
        Section(
            "lines",
            _("Lines due or late"),
            _(
                "Nothing owed: no promised line falls due in the next %(days)s days.",
                days=desk_owed.AT_RISK_DAYS,
            ),
            url_for("fulfilment.inbox", view="in_progress"),
            _("Confirmed orders not yet shipped"),
        ),
        desk_owed.open_lines(None, today, changed=False),
        limit,
        lambda line: (
            line.promised_on,
            None,
            what
            % {
                "number": line.order_number,
                "line": line.line_no,
                "sku": line.sku,
                "name": line.name,
            },
        ),
        lambda line, text: Duty(
            line.account_id,
            text,
            url_for("fulfilment.order", number=line.order_number),
            line.promised_on,
            None,
            "overdue" if line.state(today) == "late" else "due_soon",
            detail=to_go % {"count": line.outstanding},
        ),
    )


def suggestions_due(today: date, limit: int) -> Section:
    """Customers' suggestions waiting for the engineers' first answer."""
    first_answer = _("first answer")
    return _cut(
        Section(
            "suggestions",
            _("Suggestions waiting for an answer"),
            _("Nothing owed: every suggestion has its first answer."),
            url_for("ideas.index", view="queue"),
            _("The engineers' queue"),
        ),
        ideas_owed.awaiting_answer(None),
        limit,
        lambda idea: (
            idea.answer_due_on,
            _day(idea.submitted_at),
            f"{idea.reference} {idea.title}",
        ),
        lambda idea, text: Duty(
            idea.account_id,
            text,
            url_for("ideas.detail", idea_id=idea.idea_id),
            idea.answer_due_on,
            _day(idea.submitted_at),
            _late_or(idea.answer_due_on, today, "due"),
            owner=idea.assignee,
            detail=first_answer,
        ),
    )


def requests_due(now: datetime, limit: int) -> Section:
    """Open service requests by the clock a person should look at next."""
    clocks = {"first answer": _("first answer"), "resolution": _("resolution")}
    states = {"breached": "overdue", "paused": "paused"}
    return _cut(
        Section(
            "requests",
            _("Service requests due"),
            _("Nothing owed: no service request is open."),
            url_for("service.index"),
            _("The service queue"),
        ),
        service_owed.open_requests(None, now),
        limit,
        lambda request: (
            _day(request.due_at),
            _day(request.opened_at),
            f"{request.reference} {request.title}",
        ),
        lambda request, text: Duty(
            request.account_id,
            text,
            url_for("service.detail", request_id=request.request_id),
            _day(request.due_at),
            _day(request.opened_at),
            states.get(request.clock_state or "", "due"),
            owner=request.owner,
            detail=clocks.get(request.clock or "", request.clock or ""),
        ),
    )


def forecasts_unanswered(today: date, limit: int) -> Section:
    """Each account's latest published forecast with no commitment against it yet."""
    what = _("Forecast version %(number)s")
    no_commitment = _("no commitment yet")
    return _cut(
        Section(
            "forecasts",
            _("Forecast versions not answered"),
            _("Nothing owed: no forecast waits for an answer."),
            url_for("forecasts.inbox"),
            _("The forecast inbox"),
        ),
        forecasts_owed.unanswered_versions(None),
        limit,
        lambda version: (None, _day(version.published_at), what % {"number": version.number}),
        lambda version, text: Duty(
            version.account_id,
            text,
            url_for("forecasts.version", version_id=version.version_id),
            None,
            _day(version.published_at),
            "waiting",
            detail=no_commitment,
        ),
    )


def _by_month(due: date, today: date) -> str:
    """A month's demand falls due on its first day: due soon within the month ahead."""
    return "due_soon" if (due - today).days <= 31 else "due"


def _exceptions_detail(found: forecasts_owed.OpenExceptions) -> str:
    parts = []
    if found.cells:
        parts.append(
            ngettext(
                "%(num)d change beyond the threshold",
                "%(num)d changes beyond the threshold",
                found.cells,
            )
        )
    if found.new_products:
        parts.append(ngettext("%(num)d new product", "%(num)d new products", found.new_products))
    return ", ".join(parts)


def forecast_exceptions(today: date, limit: int) -> Section:
    """Latest versions whose changes beyond the account's threshold (or new products)
    no commitment answers yet; due: the nearest month with one of them."""
    what = _("Forecast version %(number)s exceptions")
    return _cut(
        Section(
            "exceptions",
            _("Forecast exceptions not answered"),
            _("Nothing owed: every exception has a commitment."),
            url_for("forecasts.inbox"),
            _("The forecast inbox"),
        ),
        forecasts_owed.open_exceptions(None),
        limit,
        lambda found: (
            found.first_month,
            _day(found.published_at),
            what % {"number": found.number},
        ),
        lambda found, text: Duty(
            found.account_id,
            text,
            url_for("forecast_commits.board", account_id=found.account_id),
            found.first_month,
            _day(found.published_at),
            _by_month(found.first_month, today) if found.first_month else "waiting",
            detail=_exceptions_detail(found),
        ),
    )


def forecast_shortages(today: date, limit: int) -> Section:
    """Products whose forecast demand neither stock nor lead time covers, by the
    nearest month they are short."""
    detail = _("demand %(demand)s, available %(available)s; short in %(months)s months ahead")
    return _cut(
        Section(
            "shortages",
            _("Products short of forecast demand"),
            _("Nothing owed: stock or lead time covers every month's forecast demand."),
            url_for("planning.demand", short="1"),
            _("Demand across accounts"),
        ),
        forecasts_owed.shortages(None, today),
        limit,
        lambda short: (short.month, None, f"{short.sku} {short.name}"),
        lambda short, text: Duty(
            None,
            text,
            url_for("planning.demand", month=f"{short.month:%Y-%m}", short="1"),
            short.month,
            None,
            _by_month(short.month, today),
            detail=detail
            % {
                "demand": f"{short.demand:,}",
                "available": f"{short.available:,}",
                "months": short.months_short,
            },
        ),
    )


def plans_unacknowledged(today: date, limit: int) -> Section:
    """Customers' plans whose current revision nobody at the vendor has read."""
    takes_effect = _("takes effect")
    return _cut(
        Section(
            "plans",
            _("Customers' plans not acknowledged"),
            _("Nothing owed: every customer's plan has been read."),
            url_for("plans.index"),
            _("All plans"),
        ),
        plans_owed.unacknowledged_customer_plans(None),
        limit,
        lambda plan: (
            plan.effective_from,
            _day(plan.published_at),
            f"{plan.reference} {plan.title}",
        ),
        lambda plan, text: Duty(
            plan.account_id,
            text,
            url_for("plans.detail", plan_id=plan.plan_id),
            plan.effective_from,
            _day(plan.published_at),
            _late_or(plan.effective_from, today, "waiting"),
            detail=takes_effect,
        ),
    )


# --- the page -----------------------------------------------------------------------------


@dataclass
class VendorHome:
    sections: list[Section]
    portfolio: relationship.Portfolio | None = None
    portfolio_total: int = 0


def vendor_home(viewer: User, now: datetime, *, limit: int | None = None) -> VendorHome:
    """Every section the viewer's roles owe, in a fixed order, and the portfolio for
    account managers and vendor admins."""
    # The vendor's desk gathers every account: the vendor's day (portal.days), the day
    # the page's due texts and the relationship snapshots count too.
    today = days.vendor_today(now)
    limit = limit or LIMIT
    sections: list[Section] = []
    if viewer.has_role(Role.PLANNER):
        sections += [
            forecasts_unanswered(today, limit),
            forecast_exceptions(today, limit),
            forecast_shortages(today, limit),
            plans_unacknowledged(today, limit),
        ]
    if viewer.has_role(Role.FULFILMENT):
        sections += [waiting_orders(today, limit), lines_due(today, limit)]
    if viewer.has_role(Role.ENGINEER):
        sections.append(suggestions_due(today, limit))
    if viewer.has_role(Role.SERVICE):
        sections.append(requests_due(now, limit))
    _name_accounts(sections, today)
    home = VendorHome(sections)
    if viewer.has_role(*relationship.READERS):
        # Only the first rows are read whole: an admin's 500 accounts cost what 8 do.
        found = relationship.portfolio(
            viewer, today, with_managers=False, with_trends=False, per_page=PORTFOLIO_LIMIT
        )
        home.portfolio_total = found.total
        home.portfolio = found
    return home


@cache
def _accounts_statement() -> Select:
    """Built once per process (every vendor home with a listed row runs it); the ids
    are bound per call. The name and number are all a row shows of its account."""
    return select(CustomerAccount.id, CustomerAccount.name, CustomerAccount.number).where(
        CustomerAccount.id.in_(bindparam("ids", expanding=True))
    )


def _name_accounts(sections: list[Section], today: date) -> None:
    """Every listed row's account, read in one statement, and its state, date and
    due text in words (the labels translated once per page, each date's and state's
    text written once: rows share them)."""
    if not any(section.items for section in sections):
        return
    labels = {state: str(label) for state, label in STATES.items()}
    texts: dict[tuple, tuple[str, str]] = {}
    for section in sections:
        for duty in section.items:
            duty.state_label = labels[duty.state]
            key = (duty.due, duty.since, duty.state)
            if key not in texts:
                texts[key] = (day(duty.due) if duty.due else "", due_text(duty, today))
            duty.due_day, duty.due_text = texts[key]
    ids = {duty.account_id for section in sections for duty in section.items} - {None}
    if not ids:
        return
    # On the session's connection: rows of columns need none of the ORM's result handling.
    accounts = {
        row.id: row
        for row in db.session.connection().execute(_accounts_statement(), {"ids": list(ids)})
    }
    for section in sections:
        for duty in section.items:
            duty.account = accounts.get(duty.account_id)


def due_text(duty: Duty, today: date) -> str:
    """'3 days overdue', 'due today', 'in 2 days' beside the date."""
    if duty.due is None:
        if not duty.since:
            return ""
        if duty.state == "overdue":  # a service clock past its promise has no due time left
            return _("promise passed; open since %(day)s", day=day(duty.since))
        if duty.state == "paused":
            return _("clock paused; open since %(day)s", day=day(duty.since))
        return _("waiting since %(day)s", day=day(duty.since))
    days = (duty.due - today).days
    if days < 0:
        return ngettext("%(num)d day late", "%(num)d days late", -days)
    if days == 0:
        return _("today")
    if days == 1:
        return _("tomorrow")
    return ngettext("in %(num)d day", "in %(num)d days", days)
