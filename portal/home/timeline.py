"""The customer's home: what passed between the two companies, newest first.

Orders placed, confirmed, cancelled; promises moved; goods shipped and delivered;
suggestions sent and answered; plans shared and acknowledged; forecasts published and
answered; service requests opened, answered and resolved; reviews shared. Sign-ins and
account housekeeping are not part of the relationship and stay in the audit log.

One UNION ALL statement whatever the number of sources, every branch filtered by the
one account's id (the tenant): a page of the timeline is a LIMIT/OFFSET of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache, lru_cache

from flask import url_for
from flask_babel import get_translations
from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import aliased

from portal.accounts.models import User
from portal.extensions import db
from portal.forecasts.models import ForecastEvent
from portal.formatting import day, localtimes
from portal.ideas.models import Idea
from portal.ordering.models import Order, OrderEvent, OrderLine
from portal.plans.models import Plan, PlanAcknowledgement, PlanRevision
from portal.reviews.models import RelationshipReview
from portal.service.models import ServiceRequest

PAGE_SIZE = 15

# Order events that are about the whole order, one row each.
ORDER_KINDS = ("placed", "approved", "rejected", "order_confirmed", "cancelled")
# Per-line events gathered into one row per order, kind and day.
GOODS_KINDS = ("shipped", "delivered")


@dataclass(frozen=True)
class Happening:
    at: datetime
    kind: str
    text: str
    link: str
    at_text: str = ""  # `at` in the reader's zone and words, to the minute
    day_text: str = ""  # its day


def _row(at, kind, ref, label, note=None, on_date=None, amount=None):
    """One branch's columns, in the order every branch of the union gives them. Values
    are only coerced, never cast in SQL (SQLite would turn a date into a number); a
    missing one is a NULL cast to its type, which PostgreSQL would otherwise take for
    text inside the branch's own subquery and refuse to unite with a date or number."""
    return (
        at.label("at"),
        (_constant(kind) if isinstance(kind, str) else kind).label("kind"),
        type_coerce(ref, Integer).label("ref"),
        type_coerce(label, String).label("label"),
        _value(note, String).label("note"),
        _value(on_date, Date).label("on_date"),
        _value(amount, Integer).label("amount"),
    )


def _constant(text: str):
    """A kind or direction the code names, written into the statement: as a bound value
    each was one more parameter to fill on every view, and a list of them an IN that
    SQLAlchemy expanded into the statement's text on every view (a tenth of the
    statement's cost)."""
    return literal_column(f"'{text}'", String)


def _kinds(kinds) -> list:
    return [_constant(kind) for kind in kinds]


def _value(value, type_):
    return cast(null(), type_) if value is None else type_coerce(value, type_)


def _of_kind(account_id, kind: str, line_id=None, on_date=None, amount=None, *where):
    """One kind of the account's order events newest first, from
    ix_order_event_account_kind_at: when, what, which order, and what the kind's text
    needs (its line, day, count). The orders' numbers are joined once for every kind
    (`_order_rows`): a join in each branch cost PostgreSQL more to plan than to run."""
    return (
        select(
            OrderEvent.at.label("at"),
            OrderEvent.kind.label("kind"),
            OrderEvent.order_id.label("order_id"),
            _value(line_id, Integer).label("line_id"),
            _value(on_date, Date).label("on_date"),
            _value(amount, Integer).label("amount"),
        )
        .where(OrderEvent.account_id == account_id, OrderEvent.kind == _constant(kind), *where)
        .order_by(OrderEvent.at.desc(), OrderEvent.order_id.desc())
    )


def _goods(account_id, kind: str):
    """One row per order and day for one kind of per-line event, newest first: each
    group is its newest event (none later in the same order, kind and day, the latest
    id of a tie), with the group's events counted. So the rows come from the index in
    the order shown, and reading stops when the page is full, where grouping every
    event of the account first cost more each month the account orders."""
    same_day = aliased(OrderEvent)
    later = (
        select(same_day.id)
        .where(
            same_day.order_id == OrderEvent.order_id,
            same_day.kind == OrderEvent.kind,
            same_day.on_date.is_not_distinct_from(OrderEvent.on_date),
            same_day.at >= OrderEvent.at,
            or_(same_day.at > OrderEvent.at, same_day.id > OrderEvent.id),
        )
        .exists()
    )
    counted = (
        select(func.count())
        .select_from(same_day)
        .where(
            same_day.order_id == OrderEvent.order_id,
            same_day.kind == OrderEvent.kind,
            same_day.on_date.is_not_distinct_from(OrderEvent.on_date),
        )
        .scalar_subquery()
    )
    return _of_kind(account_id, kind, None, OrderEvent.on_date, counted, ~later)


def _order_rows(account_id, reach):
    """The order events' rows of the timeline: each kind's newest `reach` (the order
    kinds one row each; promises moved with their line; shipped and delivered one row
    per order and day), then their orders' numbers and PO and the moved lines' SKU and
    number, joined once."""
    events = union_all(
        *(
            select(branch.limit(reach).subquery())
            for branch in (
                *(_of_kind(account_id, kind) for kind in ORDER_KINDS),
                _of_kind(
                    account_id,
                    "promise_changed",
                    OrderEvent.line_id,
                    OrderEvent.on_date,
                    None,
                    OrderEvent.line_id.is_not(None),
                ),
                *(_goods(account_id, kind) for kind in GOODS_KINDS),
            )
        )
    ).subquery("order_events")
    moved = events.c.kind == _constant("promise_changed")
    return (
        select(
            events.c.at.label("at"),
            events.c.kind.label("kind"),
            type_coerce(events.c.order_id, Integer).label("ref"),
            type_coerce(Order.number, String).label("label"),
            type_coerce(
                case(
                    (moved, OrderLine.sku),
                    (events.c.kind.in_(_kinds(ORDER_KINDS)), Order.po_number),
                ),
                String,
            ).label("note"),
            type_coerce(events.c.on_date, Date).label("on_date"),
            type_coerce(func.coalesce(OrderLine.line_no, events.c.amount), Integer).label("amount"),
        )
        .select_from(events)
        .join(Order, and_(Order.id == events.c.order_id, Order.account_id == account_id))
        .outerjoin(OrderLine, and_(moved, OrderLine.id == events.c.line_id))
    )


def _branches(account_id) -> list:
    """The timeline's other sources, each in the timeline's order (newest first)."""
    ideas_sent = (
        select(*_row(Idea.submitted_at, "suggestion_sent", Idea.id, Idea.title, Idea.direction))
        .where(Idea.account_id == account_id, Idea.submitted_at.is_not(None))
        .order_by(Idea.submitted_at.desc(), Idea.id.desc())
    )
    ideas_answered = (
        select(*_row(Idea.first_answered_at, "suggestion_answered", Idea.id, Idea.title))
        .where(
            Idea.account_id == account_id,
            Idea.direction == _constant("customer"),
            Idea.first_answered_at.is_not(None),
        )
        .order_by(Idea.first_answered_at.desc(), Idea.id.desc())
    )
    requests = [
        select(*_row(column, kind, ServiceRequest.id, ServiceRequest.title))
        .where(ServiceRequest.account_id == account_id, column.is_not(None))
        .order_by(column.desc(), ServiceRequest.id.desc())
        for column, kind in (
            (ServiceRequest.opened_at, "request_opened"),
            (ServiceRequest.first_response_at, "request_answered"),
            (ServiceRequest.resolved_at, "request_resolved"),
        )
    ]
    plans = (
        select(
            *_row(
                PlanRevision.created_at,
                "plan_published",
                Plan.id,
                PlanRevision.title,
                amount=PlanRevision.number,
            )
        )
        .join(Plan, Plan.id == PlanRevision.plan_id)
        .where(Plan.account_id == account_id)
        .order_by(PlanRevision.created_at.desc(), Plan.id.desc())
    )
    # The vendor's first reading of each revision of the customer's plan.
    vendor_staff = select(User.id).where(User.account_id.is_(None))
    first_read = func.min(PlanAcknowledgement.at)
    acknowledged = (
        select(
            *_row(
                first_read,
                "plan_acknowledged",
                Plan.id,
                PlanRevision.title,
                amount=PlanRevision.number,
            )
        )
        .join(PlanRevision, PlanRevision.id == PlanAcknowledgement.revision_id)
        .join(Plan, Plan.id == PlanRevision.plan_id)
        .where(Plan.account_id == account_id, PlanAcknowledgement.user_id.in_(vendor_staff))
        .group_by(Plan.id, PlanRevision.id, PlanRevision.title, PlanRevision.number)
        .order_by(first_read.desc(), Plan.id.desc())
    )
    # A version answered in several sittings is answered once, at the latest.
    answered = func.max(ForecastEvent.at)
    forecasts = (
        select(
            *_row(
                answered,
                ForecastEvent.kind,
                ForecastEvent.version_id,
                ForecastEvent.after,
            )
        )
        .where(
            ForecastEvent.account_id == account_id,
            ForecastEvent.kind.in_(_kinds(("published", "committed"))),
            ForecastEvent.version_id.is_not(None),
        )
        .group_by(ForecastEvent.version_id, ForecastEvent.kind, ForecastEvent.after)
        .order_by(answered.desc(), ForecastEvent.kind, ForecastEvent.version_id.desc())
    )
    reviews = (
        select(
            *_row(
                RelationshipReview.shared_at,
                "review_shared",
                RelationshipReview.id,
                cast(RelationshipReview.id, String),
                on_date=RelationshipReview.period_end,
            )
        )
        .where(
            RelationshipReview.account_id == account_id, RelationshipReview.shared_at.is_not(None)
        )
        .order_by(RelationshipReview.shared_at.desc(), RelationshipReview.id.desc())
    )
    return [
        ideas_sent,
        ideas_answered,
        *requests,
        plans,
        acknowledged,
        forecasts,
        reviews,
    ]


def timeline(
    account_id: int, *, page: int = 1, size: int = PAGE_SIZE
) -> tuple[list[Happening], bool]:
    """One page of the account's timeline, newest first, and whether an older page
    exists (one statement)."""
    offset = (max(page, 1) - 1) * size
    rows = _run(
        db.session.connection(),
        {"account_id": account_id, "limit": size + 1, "offset": offset, "reach": offset + size + 1},
    )
    # The page's texts are written with the reader's translations, zone and locale
    # looked up once, not once for each row and time.
    translations = get_translations()
    at_text, day_text = localtimes(), localtimes("%d %b %Y")
    found = [_happening(row, translations, at_text, day_text) for row in rows[:size]]
    return found, len(rows) > size


def _run(connection, values: dict) -> list:
    """The statement's rows as the driver gives them (`_happening` reads its text dates
    and times): its SQL compiled once per process for the database's dialect, the values
    bound by the driver. Through SQLAlchemy's statement execution and result handling
    the union cost two thirds of what the database takes to run it, and a third of
    the timeline."""
    compiled = _compiled(connection.dialect)
    params = compiled.construct_params(values)
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup)
    return connection.exec_driver_sql(compiled.string, params).all()


@lru_cache(maxsize=4)
def _compiled(dialect):
    """The statement compiled for `dialect` (derived from the code alone; a few kept: a
    process has one engine, a test run many)."""
    return _statement().compile(dialect=dialect)


@cache
def _statement():
    """The union, built once per process with the account, limit and offset bound per
    request: building its branches and their cache key cost more than SQLite takes to
    run it.

    Each branch gives only its own newest `reach` rows (as many as the pages up to this
    one and the row that says an older page exists): a page of the union is within
    them, and a branch read from an index in that order stops there, however long the
    account's history."""
    account_id = bindparam("account_id", type_=Integer)
    reach = bindparam("reach", type_=BigInteger)
    every = union_all(
        _order_rows(account_id, reach),
        *(select(branch.limit(reach).subquery()) for branch in _branches(account_id)),
    ).subquery()
    return (
        select(every)
        .order_by(every.c.at.desc(), every.c.kind, every.c.ref.desc())
        .limit(bindparam("limit", type_=Integer))
        # 64 bits: the last page a database integer can ask for (?page=2147483647) is
        # 32 billion rows in, which PostgreSQL refused as an int4.
        .offset(bindparam("offset", type_=BigInteger))
    )


def _as_date(value) -> date | None:
    # SQLite hands a cast date back as text.
    return date.fromisoformat(value) if isinstance(value, str) else value


def _happening(row, translations, at_text, day_text) -> Happening:
    kind, ref, label, note, amount = row.kind, row.ref, row.label, row.note, row.amount
    on_date = _as_date(row.on_date)
    at = row.at
    if isinstance(at, str):  # SQLite gives the stored timestamp as text
        at = datetime.fromisoformat(at)
    # Stored in UTC: SQLite's carry no zone, PostgreSQL's come in the session's.
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    text, link = _describe(translations, kind, ref, label, note, on_date, amount)
    return Happening(at, kind, text, link, at_text(at), day_text(at))


def _describe(t, kind, ref, label, note, on_date, amount) -> tuple[str, str]:
    """What a person reads for one row in `t`, the reader's translations, and where it
    leads."""
    order = (
        url_for("ordering.order", number=label)
        if kind in (*ORDER_KINDS, *GOODS_KINDS, "promise_changed")
        else ""
    )
    if kind == "placed":
        return t.gettext("Order %(number)s placed (PO %(po)s)") % {
            "number": label,
            "po": note,
        }, order
    if kind == "approved":
        return t.gettext("Order %(number)s approved") % {"number": label}, order
    if kind == "rejected":
        return t.gettext("Order %(number)s rejected") % {"number": label}, order
    if kind == "order_confirmed":
        return t.gettext("Order %(number)s confirmed by the vendor") % {"number": label}, order
    if kind == "cancelled":
        return t.gettext("Order %(number)s cancelled") % {"number": label}, order
    if kind == "promise_changed":
        return (
            t.gettext("Promise for %(number)s line %(line)s (%(sku)s) moved to %(day)s")
            % {"number": label, "line": amount, "sku": note, "day": day(on_date)},
            order,
        )
    if kind == "shipped":
        return (
            t.ngettext(
                "Order %(number)s: %(num)d line shipped on %(day)s",
                "Order %(number)s: %(num)d lines shipped on %(day)s",
                amount,
            )
            % {"number": label, "num": amount, "day": day(on_date)},
            order,
        )
    if kind == "delivered":
        return (
            t.ngettext(
                "Order %(number)s: %(num)d line delivered on %(day)s",
                "Order %(number)s: %(num)d lines delivered on %(day)s",
                amount,
            )
            % {"number": label, "num": amount, "day": day(on_date)},
            order,
        )
    idea = url_for("ideas.detail", idea_id=ref) if kind.startswith("suggestion") else ""
    if kind == "suggestion_sent" and note == "vendor":
        return t.gettext("The vendor proposed a suggestion: %(title)s") % {"title": label}, idea
    if kind == "suggestion_sent":
        return t.gettext("Suggestion sent: %(title)s") % {"title": label}, idea
    if kind == "suggestion_answered":
        return t.gettext("Suggestion answered: %(title)s") % {"title": label}, idea
    request = url_for("service.detail", request_id=ref) if kind.startswith("request") else ""
    if kind == "request_opened":
        return t.gettext("Service request opened: %(title)s") % {"title": label}, request
    if kind == "request_answered":
        return t.gettext("Service request answered: %(title)s") % {"title": label}, request
    if kind == "request_resolved":
        return t.gettext("Service request resolved: %(title)s") % {"title": label}, request
    plan = url_for("plans.detail", plan_id=ref) if kind.startswith("plan") else ""
    if kind == "plan_published" and amount and amount > 1:
        return t.gettext("Plan revised (revision %(number)s): %(title)s") % {
            "number": amount,
            "title": label,
        }, plan
    if kind == "plan_published":
        return t.gettext("Plan shared: %(title)s") % {"title": label}, plan
    if kind == "plan_acknowledged":
        return t.gettext("The vendor acknowledged your plan: %(title)s") % {"title": label}, plan
    if kind in ("published", "committed"):
        version = url_for("forecasts.version", version_id=ref)
        if kind == "published":
            return t.gettext("Forecast %(version)s published") % {"version": label}, version
        return t.gettext("The vendor answered forecast %(version)s") % {"version": label}, version
    if kind == "review_shared":
        return (
            t.gettext("Relationship review up to %(day)s shared with you") % {"day": day(on_date)},
            url_for("reviews.detail", review_id=ref),
        )
    return kind, ""
