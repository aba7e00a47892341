"""The order desk (vendor) and the promise ledger (both sides)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Integer, bindparam, select

from portal import days
from portal.accounts.models import CustomerAccount
from portal.accounts.roles import CUSTOMER_ROLES, Role
from portal.accounts.service import account_manager_choices
from portal.equipment import service as equipment
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.formatting import day
from portal.formatting import number as number_text
from portal.htmx import render_page
from portal.ordering import order_page
from portal.ordering import service as ordering
from portal.params import database_int
from portal.security import requires

from . import cancellations, confirmations, ledger, service, shipments
from . import inbox as desk_inbox
from .forms import (
    AnswerForm,
    CorrectShipmentForm,
    DeliverForm,
    DeskForm,
    PromiseChangeForm,
    ReasonForm,
    ShipForm,
)
from .models import CHANGE_REASONS

bp = Blueprint("fulfilment", __name__)

DESK_VIEWERS = (Role.FULFILMENT, Role.ADMIN, Role.ACCOUNT_MANAGER)
DESK_ACTORS = (Role.FULFILMENT, Role.ADMIN)


@bp.record_once
def _add_to_customer_order_page(state) -> None:
    # Ordering's order page must not import fulfilment (fulfilment builds on
    # ordering); the desk's part of that page is registered from here instead.
    order_page.add_part(state.app, customer_order_part)


def customer_order_part(order, today: date, events: list) -> dict:
    """What the customer's order page shows of the desk's work on the order:
    each line's promise and its changes, whether it was kept, the shipments and
    the cancellation requests (with the form to ask for one).

    From `events`, the order's events the page read for its timeline: the promises
    and the ledger's figures are folded from them, and the shipments and requests are
    read only when an event says there are some (each is made with its event: a
    shipment with a "shipped" event per line, a request with "cancellation_requested").
    Four statements fewer for an order with no shipment and no request, two for any."""
    kinds = {event.kind for event in events}
    requests = (
        cancellations.cancellation_requests(order) if "cancellation_requested" in kinds else []
    )
    figures = ledger.figures_of_events(events, order.account.promise_basis)
    return {
        "history": confirmations.promise_history_of(events),
        "shipments": shipments.shipments(order) if "shipped" in kinds else [],
        "requests": requests,
        "pending_lines": {r.line_id for r in requests if r.status == "pending"},
        "figures": figures,
        "kept": ledger.summarise(figures.values(), today),
        "reasons": CHANGE_REASONS,
        "reason_form": ReasonForm,
    }


def _today(order=None) -> date:
    """The day an order's promises, shipments and deliveries are judged on: its
    account's (a promise for 1 December is late once 1 December has ended where the
    customer is); the desk's lists of every account: the vendor's (portal.days)."""
    return days.account_today(order.account) if order is not None else days.vendor_today()


def _int_arg(name: str) -> int | None:
    """A whole number from the query string, or None when missing or out of range."""
    return request.args.get(name, type=database_int)


# --- inbox --------------------------------------------------------------------------------


@bp.get("/desk")
@requires(*DESK_VIEWERS)
def inbox():
    """Orders waiting for the vendor, oldest first; filters by account, manager, view."""
    view = request.args.get("view", "waiting")
    filters = desk_inbox.DeskFilter(
        view=view if view in desk_inbox.INBOX_VIEWS else "waiting",
        account_id=_int_arg("account"),
        manager_id=_int_arg("manager"),
        q=request.args.get("q", "")[:100],
    )
    page = max(1, _int_arg("page") or 1)
    rows, total = desk_inbox.inbox(current_user, filters, limit=50, offset=(page - 1) * 50)
    accounts = db.session.execute(
        _account_choices(service.desk_scope(current_user)),
        {"desk_user_id": current_user.id, "desk_account_id": current_user.account_id},
    ).all()
    return render_page(
        "fulfilment/inbox.html",
        "results",
        rows=rows,
        total=total,
        page=page,
        filters=filters,
        views=desk_inbox.INBOX_VIEWS,
        accounts=accounts,
        managers=account_manager_choices(),
        today=_today(),
    )


@cache
def _account_choices(scope: str):
    """The filter's choices, id and name (all they show), built once per process."""
    return (
        select(CustomerAccount.id, CustomerAccount.name)
        .where(
            CustomerAccount.id.in_(
                service.desk_accounts_of(
                    scope,
                    bindparam("desk_user_id", type_=Integer),
                    bindparam("desk_account_id", type_=Integer),
                )
            )
        )
        .order_by(CustomerAccount.name)
    )


# --- one order at the desk ----------------------------------------------------------------


def _desk_order_or_404(number: str):
    try:
        return desk_inbox.desk_order(current_user, number)
    except NotFound:
        abort(404)


@bp.get("/desk/orders/<number>")
@requires(*DESK_VIEWERS)
def order(number: str):
    return _render_order(_desk_order_or_404(number))


def _render_order(order, *, status: int = 200, error: str | None = None, submitted=None):
    today = _today(order)
    figures = ledger.order_figures(order)
    order_shipments = shipments.shipments(order)
    return render_page(
        "fulfilment/order.html",
        "content",
        status=status,
        order=order,
        today=today,
        zone_note=days.zone_note(days.account_zone(order.account)),
        error=error,
        submitted=submitted or {},
        proposed={line.id: confirmations.proposed_promise(line, today) for line in order.lines},
        shipments=order_shipments,
        units=equipment.units_of_shipments(s.id for s in order_shipments),
        equipment_specs=equipment.specs_for(line.product_id for line in order.lines),
        requests=cancellations.cancellation_requests(order),
        history=confirmations.promise_history(order),
        figures=figures,
        kept=ledger.summarise(figures.values(), today),
        events=ordering.timeline(order),
        origins=order_page.origins(order, current_user),
        can_act=current_user.has_role(*DESK_ACTORS),
        reasons=CHANGE_REASONS,
        desk_form=DeskForm(),
        promise_form=PromiseChangeForm(),
        ship_form=ShipForm(shipped_on=today),
        deliver_form=DeliverForm(delivered_on=today),
        correct_form=CorrectShipmentForm(),
        reason_form=ReasonForm(),
        answer_form=AnswerForm(),
    )


def per_line(prefix: str, labels: dict[int, str]) -> dict[int, int]:
    """Read `<prefix>-<id>` whole numbers from the form; empty means 0."""
    values = {}
    for item_id, label in labels.items():
        raw = request.form.get(f"{prefix}-{item_id}", "").strip()
        if not raw:
            continue
        try:
            values[item_id] = database_int(raw)
        except ValueError:
            raise DomainError(
                _(
                    "%(label)s: “%(value)s” is not a whole number of 0 or more.",
                    label=label,
                    value=raw[:20],
                )
            ) from None
    return values


def _date(raw: str | None, label: str) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise DomainError(
            _("%(label)s: “%(value)s” is not a date (use YYYY-MM-DD).", label=label, value=raw[:20])
        ) from None


def _done(number: str, message: str):
    flash(message, "success")
    return redirect(url_for("fulfilment.order", number=number), code=303)


def _refused(number: str, error: DomainError):
    db.session.rollback()
    flash(error.message, "error")
    return redirect(url_for("fulfilment.order", number=number), code=303)


def _csrf_checked(form) -> None:
    """Every desk form carries the CSRF token; Flask-WTF checks it on validate."""
    if not form.validate_on_submit() and "csrf_token" in form.errors:
        abort(400)


@bp.post("/desk/orders/<number>/confirm")
@requires(*DESK_ACTORS)
def confirm(number: str):
    """Confirm every open line: a promise, a split into two promises, or a decline."""
    found = _desk_order_or_404(number)
    _csrf_checked(DeskForm())
    try:
        decisions = []
        for line in found.lines:
            if line.status != "open":
                continue
            label = _("Line %(no)s (%(sku)s)", no=line.line_no, sku=line.sku)
            later = per_line("later", {line.id: label}).get(line.id)
            decisions.append(
                confirmations.LineDecision(
                    line_id=line.id,
                    promised_on=_date(request.form.get(f"promise-{line.id}"), label),
                    later_quantity=later,
                    later_promised_on=_date(request.form.get(f"later_date-{line.id}"), label),
                    decline_reason=request.form.get(f"decline-{line.id}", "")[:500],
                )
            )
        confirmations.confirm(current_user, found, decisions, _today(found))
    except Forbidden:
        abort(403)
    except DomainError as error:
        db.session.rollback()
        # Show the form again with what was entered, the reason above it.
        found = _desk_order_or_404(number)
        return _render_order(found, status=422, error=error.message, submitted=request.form)
    return _done(number, _("Order %(number)s confirmed; the buyer has been told.", number=number))


@bp.post("/desk/orders/<number>/lines/<int:line_id>/promise")
@requires(*DESK_ACTORS)
def change_promise(number: str, line_id: int):
    found = _desk_order_or_404(number)
    form = PromiseChangeForm(prefix=f"line{line_id}")
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        problems = "; ".join(str(e) for errors in form.errors.values() for e in errors)
        flash(_("The promise was not changed: %(problems)s", problems=problems), "error")
        return redirect(url_for("fulfilment.order", number=number), code=303)
    try:
        line = confirmations.change_promise(
            current_user,
            found,
            line_id,
            new_date=form.new_date.data,
            reason=form.reason.data,
            text=form.text.data or "",
            today=_today(found),
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        return _refused(number, error)
    return _done(
        number,
        _("Line %(no)s now promised for %(date)s.", no=line.line_no, date=day(line.promised_on)),
    )


@bp.post("/desk/orders/<number>/shipments")
@requires(*DESK_ACTORS)
def ship(number: str):
    """Record a shipment: a quantity per line (partial allowed), carrier, tracking."""
    found = _desk_order_or_404(number)
    form = ShipForm()
    _csrf_checked(form)
    serials = {
        line.id: equipment.parse_serials(request.form.get(f"serials-{line.id}", "")[:20_000])
        for line in found.lines
    }
    try:
        quantities = per_line(
            "ship",
            {
                line.id: _("Line %(no)s (%(sku)s)", no=line.line_no, sku=line.sku)
                for line in found.lines
            },
        )
        shipment = shipments.ship(
            current_user,
            found,
            quantities,
            carrier=form.carrier.data or "",
            tracking=form.tracking.data or "",
            shipped_on=_date(request.form.get("shipped_on"), _("Ship date")),
            today=_today(found),
            serials=serials,
        )
    except DomainError as error:
        if not any(serials.values()):
            return _refused(number, error)
        # Serial numbers were typed: show the form again with them, the reason above.
        db.session.rollback()
        found = _desk_order_or_404(number)
        return _render_order(found, status=422, error=error.message, submitted=request.form)
    return _done(
        number,
        _(
            "Shipment recorded (%(units)s units).",
            units=number_text(sum(sl.quantity for sl in shipment.lines)),
        ),
    )


@bp.post("/desk/orders/<number>/shipments/<int:shipment_id>/correct")
@requires(*DESK_ACTORS)
def correct_shipment(number: str, shipment_id: int):
    found = _desk_order_or_404(number)
    form = CorrectShipmentForm(prefix=f"s{shipment_id}")
    _csrf_checked(form)
    try:
        shipment = shipments.shipment_for(found, shipment_id)
        quantities = per_line(
            "qty",
            {
                sl.id: _("Line %(no)s (%(sku)s)", no=sl.line.line_no, sku=sl.line.sku)
                for sl in shipment.lines
            },
        )
        shipments.correct_shipment(
            current_user,
            found,
            shipment,
            quantities,
            carrier=form.carrier.data or "",
            tracking=form.tracking.data or "",
            shipped_on=_date(request.form.get(f"s{shipment_id}-shipped_on"), _("Ship date")),
            reason=form.reason.data or "",
            today=_today(found),
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        return _refused(number, error)
    return _done(number, _("Shipment corrected; the change and its reason are in the timeline."))


@bp.post("/desk/orders/<number>/shipments/<int:shipment_id>/deliver")
@requires(*DESK_ACTORS)
def deliver(number: str, shipment_id: int):
    found = _desk_order_or_404(number)
    form = DeliverForm(prefix=f"d{shipment_id}")
    _csrf_checked(form)
    try:
        shipment = shipments.shipment_for(found, shipment_id)
        received = per_line(
            "received",
            {
                sl.id: _("Line %(no)s (%(sku)s)", no=sl.line.line_no, sku=sl.line.sku)
                for sl in shipment.lines
            },
        )
        shipments.deliver(
            current_user,
            found,
            shipment,
            delivered_on=_date(
                request.form.get(f"d{shipment_id}-delivered_on"), _("Delivery date")
            ),
            received=received,
            today=_today(found),
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        return _refused(number, error)
    return _done(number, _("Delivery recorded."))


@bp.post("/desk/orders/<number>/lines/<int:line_id>/cancel")
@requires(*DESK_ACTORS)
def cancel_line(number: str, line_id: int):
    found = _desk_order_or_404(number)
    form = ReasonForm(prefix=f"cancel{line_id}")
    _csrf_checked(form)
    try:
        line = cancellations.cancel_line(
            current_user, found, line_id, reason=form.reason.data or ""
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        return _refused(number, error)
    return _done(number, _("Line %(no)s cancelled; the buyer has been told.", no=line.line_no))


@bp.post("/desk/orders/<number>/requests/<int:request_id>")
@requires(*DESK_ACTORS)
def answer_request(number: str, request_id: int):
    found = _desk_order_or_404(number)
    form = AnswerForm(prefix=f"r{request_id}")
    _csrf_checked(form)
    accept = request.form.get("decision") == "accept"
    try:
        cancellations.answer_cancellation(
            current_user, found, request_id, accept=accept, comment=form.comment.data or ""
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        return _refused(number, error)
    return _done(
        number,
        _("Request accepted; the buyer has been told.")
        if accept
        else _("Request declined; the buyer has been told."),
    )


# --- the customer's cancellation request --------------------------------------------------


@bp.post("/orders/<number>/lines/<int:line_id>/cancellation-request")
@requires(*CUSTOMER_ROLES)
def request_cancellation(number: str, line_id: int):
    """A buyer asks the vendor to cancel a confirmed line."""
    try:
        found = ordering.order_for(current_user, number)
    except NotFound:
        abort(404)
    form = ReasonForm(prefix=f"cancel{line_id}")
    _csrf_checked(form)
    try:
        cancellations.request_cancellation(
            current_user, found, line_id, reason=form.reason.data or ""
        )
    except NotFound:
        abort(404)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("Your request was sent; the vendor will answer it here."), "success")
    return redirect(url_for("ordering.order", number=number), code=303)


# --- the promise ledger -------------------------------------------------------------------


@bp.get("/promises")
@requires(*DESK_VIEWERS, *CUSTOMER_ROLES)
def promises():
    """How well promises are kept: overall, per account, and month by month.

    Vendor staff see every account they may see (an account manager: theirs);
    a customer sees only its own account's figures.
    """
    # Lines due so far: the customer's own day; vendor staff read the vendor's.
    today = days.user_today(current_user)
    months = _int_arg("months") or 12
    months = min(max(months, 1), 36)
    start, end = _month_start(today, months - 1), today
    # Any period: explicit dates win over "the last N months".
    try:
        start = date.fromisoformat(request.args["from"]) if request.args.get("from") else start
        end = date.fromisoformat(request.args["to"]) if request.args.get("to") else end
        earliest, latest = date(2000, 1, 1), today + timedelta(days=3 * 366)
        if not (earliest <= start <= latest and earliest <= end <= latest):
            raise ValueError("outside the years the portal holds promises for")
    except ValueError:
        flash(
            _(
                "Enter the period as two dates (YYYY-MM-DD) from 2000 on; showing the last "
                "%(months)s months instead.",
                months=months,
            ),
            "error",
        )
        start, end = _month_start(today, months - 1), today
    if end < start:
        start, end = end, start
    if (end - start).days > 3 * 366:
        start = end - timedelta(days=3 * 366)
    account_id = _int_arg("account") if current_user.is_vendor_staff else None
    result = ledger.desk_ledger(current_user, account_id or None, start=start, end=end, today=today)
    choices = []
    if current_user.is_vendor_staff:
        choices = db.session.scalars(
            select(CustomerAccount)
            .where(CustomerAccount.id.in_(service.desk_accounts(current_user)))
            .order_by(CustomerAccount.name)
        ).all()
    return render_page(
        "fulfilment/promises.html",
        "results",
        ledger=result,
        months=months,
        start=start,
        end=end,
        account_id=account_id,
        accounts=choices,
        chart=_chart(result.by_month),
        zone_note=days.zone_note(days.account_zone(current_user.account)),
        pct=_share_text,
    )


def _share_text(figures: ledger.Figures, name: str) -> str:
    """A share of the measured lines as the promises page writes it ("93 %", "—" without
    lines): a function, where a template macro cost several times as much per call, and
    the page writes 50 of them."""
    share = figures.share(name)
    return "—" if share is None else "%.0f %%" % (share * 100)  # noqa: UP031 - the template's format


def _month_start(today: date, back: int) -> date:
    year, month = today.year, today.month - back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def _chart(by_month) -> dict:
    """Points of an SVG line chart of the on-time-in-full share per month, with their
    texts written here: the template wrote five to eight numbers, dates and translated
    texts per month through filters and calls, each costing several times this."""
    width, height, pad = 640, 180, 28
    count = max(len(by_month), 1)
    step = (width - 2 * pad) / max(count - 1, 1)
    points, bars = [], []
    most = max((figures.lines for _, figures in by_month), default=0) or 1
    # Translated once, filled in per bar and per month.
    lines_text = _("%(count)s lines")
    month_text = _("%(month)s: %(share)s of %(lines)s lines.")
    for n, (month, figures) in enumerate(by_month):
        x = pad + n * step
        share = figures.share("on_time_in_full")
        bar = (height - 2 * pad) * figures.lines / most
        bars.append(
            {
                "x": x - 6,
                "y": height - pad - bar,
                "h": bar,
                "lines": figures.lines,
                "at": (f"{x - 6:.1f}", f"{height - pad - bar:.1f}", f"{bar:.1f}"),
                "title": lines_text % {"count": figures.lines},
            }
        )
        if share is not None:
            y = pad + (1 - share) * (height - 2 * pad)
            points.append(
                {
                    "x": x,
                    "y": y,
                    "share": share,
                    "month": month,
                    "at": (f"{x:.1f}", f"{y:.1f}"),
                    "title": f"{day(month, '%b %Y')}: {share * 100:.0f}%",
                }
            )
    return {
        "width": width,
        "height": height,
        "pad": pad,
        "points": points,
        "bars": bars,
        "labels": [
            {
                "x": pad + n * step,
                "month": month,
                "at": f"{pad + n * step:.1f}",
                "text": day(month, "%b"),
            }
            for n, (month, _figures) in enumerate(by_month)
        ],
        "path": " ".join(
            f"{'M' if n == 0 else 'L'}{p['x']:.1f},{p['y']:.1f}" for n, p in enumerate(points)
        ),
        # The chart's description for screen readers: every month's share in words.
        "description": "".join(
            month_text
            % {
                "month": day(month, "%b %Y"),
                "share": _share_text(figures, "on_time_in_full"),
                "lines": figures.lines,
            }
            + " "
            for month, figures in by_month
        ),
    }
