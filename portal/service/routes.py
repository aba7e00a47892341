"""Service requests: the customer's list and form, the vendor's queue, one request
with its thread and workflow, the measures, and the service calendar."""

from __future__ import annotations

from datetime import timedelta
from typing import NamedTuple

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from portal import days as calendar_days
from portal.accounts import service as accounts
from portal.accounts.roles import Role
from portal.attachments.service import ACCEPTED
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.formatting import day as format_day
from portal.htmx import is_htmx, render_page
from portal.notifications.messages import render_value
from portal.ordering import order_page
from portal.params import database_int
from portal.security import requires

from . import complaints, promises, reading, recompute, settings, workflow
from .forms import (
    WEEKDAY_FIELDS,
    ActionForm,
    CalendarForm,
    ConfirmForm,
    HandoverForm,
    HolidayForm,
    HolidayImportForm,
    PostForm,
    QualityStepsForm,
    ReopenForm,
    RequestForm,
    StatusForm,
    TargetForm,
)
from .models import PRIORITIES, QUALITY_STEPS, STATUSES, ServiceRequest

bp = Blueprint("service", __name__)

READERS = reading.READERS
WORKERS = reading.WORKERS
MEASURE_DAYS = 90
QUALITY_DAYS = 365


@bp.record_once
def _add_to_order_pages(state) -> None:
    # Ordering must not know the service area: a replacement order's pages learn
    # which complaint it replaces from here.
    order_page.add_origin(state.app, complaints.order_origins)


@bp.app_template_filter("working_time")
def working_time(seconds: float | None) -> str:
    """3h 20min of working time: '3 h 20 min'; under a minute: 'less than a minute'."""
    if seconds is None:
        return "—"
    minutes = int(seconds // 60)
    if minutes < 1:
        return _("less than a minute")
    hours, minutes = divmod(minutes, 60)
    if hours and minutes:
        return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
    return _("%(hours)s h", hours=hours) if hours else _("%(minutes)s min", minutes=minutes)


def _request_or_404(request_id: int) -> ServiceRequest:
    try:
        return reading.request_for(current_user, request_id)
    except NotFound:
        abort(404)


@bp.get("/service")
@requires(*READERS)
def index():
    """The vendor's queue (open ones, due first, with filters) or the customer's
    list of its account's requests with the promise beside each."""
    vendor = current_user.is_vendor_staff
    filters = reading.RequestFilter(
        status=request.args.get("status", "open" if vendor else "all")[:20],
        priority=request.args.get("priority", "")[:10],
        owner=request.args.get("owner", "")[:10],
        account_id=request.args.get("account", None, type=database_int),
    )
    now = utcnow()
    rows, total = reading.listing(current_user, filters, now)
    # A customer reads the promise beside how well it was kept (as on the measures):
    # the whole page only, an htmx filter answers with the results alone.
    kept = None
    if not vendor and not is_htmx():
        from .measures import measures_for

        since = now - timedelta(days=MEASURE_DAYS)
        kept = measures_for(reading.visible_requests(current_user), since, now).total
    return render_page(
        "service/index.html",
        "results",
        rows=rows,
        total=total,
        filters=filters,
        statuses=STATUSES,
        priorities=PRIORITIES,
        accounts=reading.accounts_to_filter(current_user) if vendor else [],
        owners=reading.workers() if vendor else [],
        kept=kept.response_kept_share if kept else None,
        kept_days=MEASURE_DAYS,
        targets=None
        if vendor
        else promises.targets_for([current_user.account_id])[current_user.account_id],
    )


def _request_form(form: RequestForm) -> RequestForm:
    if current_user.is_vendor_staff:
        form.account_id.choices = [SelectChoice("", _("Choose a customer…"))] + [
            SelectChoice(a.id, a.name)
            for a in reading.accounts_to_filter(current_user)
            if a.status == "active"
        ]
    else:
        del form.account_id
    return form


@bp.route("/service/new", methods=["GET", "POST"])
@requires(*reading.CUSTOMERS, *WORKERS)
def new():
    """Open a request; from an equipment unit, an order line, a shipment or a product
    the link carries the context.
    Vendor staff open one on a customer's behalf (a phone call)."""
    order_line_id = request.values.get("order_line", None, type=database_int)
    product_id = request.values.get("product", None, type=database_int)
    equipment_id = request.values.get("equipment", None, type=database_int)
    unit = workflow.equipment_context(current_user, equipment_id)
    if equipment_id is not None and unit is None:
        abort(404)
    if unit is not None:
        order_line_id = unit.order_line_id
        product_id = unit.product_id
    line, product = workflow.context_for(
        current_user, order_line_id=order_line_id, product_id=product_id
    )
    if (order_line_id is not None and line is None) or (product_id is not None and not product):
        abort(404)
    shipment_id = request.values.get("shipment", None, type=database_int)
    shipment = workflow.shipment_context(current_user, shipment_id)
    if shipment_id is not None and shipment is None:
        abort(404)
    form = _request_form(RequestForm())
    if request.method == "GET" and not form.title.data:
        if shipment is not None:
            form.title.data = _(
                "Shipment of %(day)s, order %(number)s",
                day=format_day(shipment.shipped_on),
                number=shipment.order.number,
            )
            form.kind.data = "complaint_delivery"
            if form.account_id is not None:  # on the phone about a delivery: its customer
                form.account_id.data = shipment.account_id
        elif unit is not None:
            form.title.data = f"{unit.product.sku} serial {unit.serial}"
            form.kind.data = "repair"
            if form.account_id is not None:  # on the phone about a unit: its customer
                form.account_id.data = unit.account_id
        elif line is not None:
            form.title.data = f"{line.sku} {line.name}"
            if form.account_id is not None:  # on the phone about an order: its customer
                form.account_id.data = line.order.account_id
        elif product is not None:
            form.title.data = f"{product.sku} {product.name}"
    if form.validate_on_submit():
        try:
            created = workflow.open_request(
                current_user,
                kind=form.kind.data,
                priority=form.priority.data,
                title=form.title.data or "",
                description=form.description.data or "",
                now=utcnow(),
                account_id=form.account_id.data if form.account_id else None,
                order_line_id=line.id if line else None,
                product_id=product.id if product else None,
                equipment_id=unit.id if unit else None,
                shipment_id=shipment.id if shipment else None,
                files=request.files.getlist("files"),
            )
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _("%(reference)s is open. You can follow it here.", reference=created.reference),
                "success",
            )
            return redirect(url_for("service.detail", request_id=created.id), code=303)
    return render_page(
        "service/new.html",
        "form",
        form=form,
        line=line,
        product=product,
        unit=unit,
        shipment=shipment,
        accepted_files=ACCEPTED,
        status=422 if form.errors else 200,
    )


@bp.get("/service/<int:request_id>")
@requires(*READERS)
def detail(request_id: int):
    """One request: its promise, thread, files, and (for vendor staff) internal
    notes, ownership, workflow and history."""
    return _render_detail(_request_or_404(request_id))


def _status_form(service_request: ServiceRequest, form: StatusForm | None = None) -> StatusForm:
    form = form or StatusForm()
    form.status.choices = [
        SelectChoice(s, STATUSES[s]) for s in workflow.TRANSITIONS.get(service_request.status, ())
    ]
    return form


def _handover_form(form: HandoverForm | None = None) -> HandoverForm:
    form = form or HandoverForm()
    form.to_id.choices = [SelectChoice("", _("Choose a person…"))] + [
        SelectChoice(p.id, p.name) for p in reading.workers()
    ]
    return form


def _render_detail(service_request: ServiceRequest, code: int = 200, **forms):
    now = utcnow()
    cal = promises.calendar()
    promise = promises.promises_for([service_request], now, cal)[service_request.id]
    messages = reading.thread(current_user, service_request)
    own_files, message_files = reading.files_of(current_user, service_request, messages)
    vendor = current_user.is_vendor_staff
    quality = complaints.is_quality_complaint(service_request)
    steps = complaints.steps_of(service_request) if quality else {}
    return render_page(
        "service/detail.html",
        "content",
        status=code,
        req=service_request,
        promise=promise,
        auto_close_at=workflow.auto_close_at(service_request, cal),
        messages=messages,
        own_files=own_files,
        message_files=message_files,
        accepted_files=ACCEPTED,
        events=reading.history(service_request) if vendor else [],
        post_form=forms.get("post_form") or PostForm(),
        status_form=_status_form(service_request, forms.get("status_form")) if vendor else None,
        handover_form=_handover_form(forms.get("handover_form")) if vendor else None,
        take_form=ActionForm(),
        confirm_form=forms.get("confirm_form") or ConfirmForm(),
        reopen_form=forms.get("reopen_form") or ReopenForm(),
        quality=quality,
        quality_steps=QUALITY_STEPS,
        statuses=STATUSES,
        ratings=workflow.RATED,
        # An event's own words (a message id) in the reader's language, typed text as is.
        said=render_value,
        steps=steps,
        missing=[label for step, label in QUALITY_STEPS.items() if step not in steps],
        replacements=complaints.replacements_of(service_request) if quality else [],
        replacement_refusal=(
            complaints.replacement_refusal(service_request) if quality and vendor else None
        ),
        quality_form=(
            forms.get("quality_form") or _quality_form(steps) if quality and vendor else None
        ),
    )


def _quality_form(steps) -> QualityStepsForm:
    affected = steps.get("affected")
    return QualityStepsForm(
        formdata=None,
        affected_quantity=str(affected.quantity) if affected else "",
        **{step: row.text for step, row in steps.items()},
    )


def _back(service_request: ServiceRequest, anchor: str | None = None):
    return redirect(
        url_for("service.detail", request_id=service_request.id, _anchor=anchor), code=303
    )


@bp.post("/service/<int:request_id>/messages")
@requires(*READERS)
def post_message(request_id: int):
    """Write in the thread; vendor staff may write an internal note instead."""
    service_request = _request_or_404(request_id)
    form = PostForm()
    if form.validate_on_submit():
        try:
            workflow.post(
                current_user,
                service_request,
                body=form.body.data or "",
                internal=current_user.is_vendor_staff and form.visibility.data == "internal",
                now=utcnow(),
                files=request.files.getlist("files"),
            )
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Posted."), "success")
            return _back(service_request, "thread")
    return _render_detail(service_request, 422, post_form=form)


@bp.post("/service/<int:request_id>/take")
@requires(*WORKERS)
def take(request_id: int):
    """Become the request's owner."""
    service_request = _request_or_404(request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        workflow.take(current_user, service_request, utcnow())
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("%(reference)s is yours.", reference=service_request.reference), "success")
    return _back(service_request)


@bp.post("/service/<int:request_id>/handover")
@requires(*WORKERS)
def handover(request_id: int):
    """Hand the request to another person, saying why."""
    service_request = _request_or_404(request_id)
    form = _handover_form()
    if form.validate_on_submit():
        try:
            workflow.hand_over(
                current_user,
                service_request,
                form.to_id.data,
                reason=form.reason.data or "",
                now=utcnow(),
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Handed over to %(owner)s.", owner=service_request.owner.name), "success")
            return _back(service_request)
    return _render_detail(service_request, 422, handover_form=form)


@bp.post("/service/<int:request_id>/status")
@requires(*WORKERS)
def change_status(request_id: int):
    """Acknowledge, work on, wait for the customer, or resolve (with the resolution)."""
    service_request = _request_or_404(request_id)
    form = StatusForm()
    form.status.choices = [SelectChoice(s, STATUSES[s]) for s in STATUSES]
    if form.validate_on_submit():
        try:
            workflow.change_status(
                current_user,
                service_request,
                form.status.data,
                now=utcnow(),
                resolution=form.resolution.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _(
                    "%(reference)s is now %(status)s.",
                    reference=service_request.reference,
                    status=service_request.status_label.lower(),
                ),
                "success",
            )
            return _back(service_request)
    return _render_detail(service_request, 422, status_form=form)


@bp.post("/service/<int:request_id>/confirm")
@requires(*reading.CUSTOMERS)
def confirm(request_id: int):
    """The customer confirms the resolution and says whether they are satisfied."""
    service_request = _request_or_404(request_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        answer = {"yes": True, "no": False}.get(form.satisfied.data or "")
        try:
            workflow.confirm(
                current_user,
                service_request,
                satisfied=answer,
                comment=form.comment.data or "",
                now=utcnow(),
            )
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Thank you. The request is closed."), "success")
            return _back(service_request)
    return _render_detail(service_request, 422, confirm_form=form)


@bp.post("/service/<int:request_id>/reopen")
@requires(*reading.CUSTOMERS)
def reopen(request_id: int):
    """The customer reopens a resolved request, saying what is still wrong."""
    service_request = _request_or_404(request_id)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            workflow.reopen(
                current_user, service_request, reason=form.reason.data or "", now=utcnow()
            )
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("%(reference)s is open again.", reference=service_request.reference), "success")
            return _back(service_request)
    return _render_detail(service_request, 422, reopen_form=form)


@bp.post("/service/<int:request_id>/quality")
@requires(*WORKERS)
def quality_steps(request_id: int):
    """Record or change the steps of a quality complaint (each change an event)."""
    service_request = _request_or_404(request_id)
    form = QualityStepsForm()
    if form.validate_on_submit():
        try:
            changed = complaints.record_steps(
                current_user,
                service_request,
                texts={step: form[step].data or "" for step in QUALITY_STEPS},
                affected_quantity=form.affected_quantity.data,
                now=utcnow(),
            )
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _("Saved: %(steps)s.", steps=", ".join(str(c) for c in changed).lower())
                if changed
                else _("Nothing had changed."),
                "success",
            )
            return _back(service_request, "quality")
    return _render_detail(service_request, 422, quality_form=form)


@bp.post("/service/<int:request_id>/replacement")
@requires(*WORKERS)
def replacement(request_id: int):
    """Place a zero-price replacement order for the complaint's product and affected
    quantity; it goes to the order desk like any order."""
    service_request = _request_or_404(request_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        # An order of the account's: its dates are the account's days (portal.days).
        order = complaints.create_replacement(
            current_user,
            service_request,
            now=utcnow(),
            today=calendar_days.account_today(service_request.account),
        )
    except Forbidden:
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(
            _("Order %(number)s replaces the affected parts free of charge.", number=order.number),
            "success",
        )
    return _back(service_request, "quality")


@bp.get("/service/quality")
@requires(*READERS)
def quality_record():
    """Defective parts per million: per product and per account for vendor staff
    (account managers their accounts), a customer about its own deliveries."""
    from .quality import defects_ppm

    days = request.args.get("days", QUALITY_DAYS, type=database_int)
    days = days if days in (90, 180, 365, 730) else QUALITY_DAYS
    # The reader's window: a customer's own days, the vendor's for its staff (portal.days).
    today = calendar_days.user_today(current_user)
    start, end = today - timedelta(days=days - 1), today + timedelta(days=1)
    account_ids = reading.visible_account_ids(current_user)
    by_product = defects_ppm(start, end, by="product", account_ids=account_ids)
    by_account = (
        defects_ppm(start, end, by="account", account_ids=account_ids)
        if current_user.is_vendor_staff
        else {}
    )
    total = defects_ppm(start, end, by="total", account_ids=account_ids).get(None)
    return render_page(
        "service/quality.html",
        "results",
        days=days,
        total=total,
        # Products with a defect recorded, worst first; the clean ones are only counted.
        products=reading.products_named({k: d for k, d in by_product.items() if d.affected}),
        by_product=sorted(
            ((k, d) for k, d in by_product.items() if d.affected),
            key=lambda item: (-(item[1].ppm or 0), -item[1].affected),
        ),
        clean_products=sum(1 for d in by_product.values() if not d.affected),
        accounts=reading.accounts_named(by_account),
        by_account=sorted(
            by_account.items(), key=lambda item: (-(item[1].ppm or 0), -item[1].affected)
        ),
        zone_note=calendar_days.zone_note(calendar_days.user_zone(current_user)),
    )


@bp.get("/service/measures")
@requires(*READERS)
def measures():
    """How well the promises are kept: per account for vendor staff (account managers
    their accounts), a customer about its own requests, beside the promise."""
    from .measures import complaint_counts, complaint_rates, measures_for

    now = utcnow()
    days = request.args.get("days", MEASURE_DAYS, type=database_int)
    days = days if 7 <= days <= 730 else MEASURE_DAYS
    report = measures_for(reading.visible_requests(current_user), now - timedelta(days=days), now)
    overall, per_account = complaint_rates(
        complaint_counts(reading.visible_account_ids(current_user), now - timedelta(days=days), now)
    )
    targets = (
        None
        if current_user.is_vendor_staff
        else promises.targets_for([current_user.account_id])[current_user.account_id]
    )
    hours_format = _("%(hours)s h")
    return render_page(
        "service/measures.html",
        "results",
        report=report,
        days=days,
        targets=targets,
        total=_measure_cells(report.total, overall, hours_format),
        account_rows=[
            (account.name, _measure_cells(m, per_account.get(account.id), hours_format))
            for account, m in report.by_account
        ]
        if current_user.is_vendor_staff
        else [],
        priorities=PRIORITIES,
    )


class MeasureCells(NamedTuple):
    """A set of figures as the measures page shows them, formatted once: the totals and
    every account's row (500 at the benchmark's scale, where ten template macro calls a
    row took a third of the page's time)."""

    requests: int
    response_median: str
    response_p90: str
    resolution_median: str
    resolution_p90: str
    kept: str
    open: int
    overdue: int
    satisfied: str
    per_100_lines: str


def _measure_cells(m, rate, hours_format: str) -> MeasureCells:
    """`m` (Measures) and `rate` (ComplaintRate or None) as the page writes them;
    `hours_format`: "%(hours)s h" in the reader's language, translated once a page."""

    def hours(value):
        return "—" if value is None else hours_format % {"hours": f"{value:.1f}"}

    def pct(value):
        return "—" if value is None else f"{value * 100:.0f} %"

    per_100 = None if rate is None else rate.per_100_lines
    return MeasureCells(
        m.requests,
        hours(m.response_median),
        hours(m.response_p90),
        hours(m.resolution_median),
        hours(m.resolution_p90),
        pct(m.kept_share),
        m.open,
        m.overdue,
        pct(m.satisfied_share),
        "—" if per_100 is None else f"{per_100:.1f}",
    )


# --- the service calendar and accounts' own targets (vendor admins) -----------------------------


def _settings_page(code: int = 200, **forms):
    zone, hours = settings.current_hours()
    calendar_form = forms.get("calendar_form")
    if calendar_form is None:
        calendar_form = CalendarForm(timezone=zone)
        for day, start, end in WEEKDAY_FIELDS:
            span = hours[day]
            calendar_form[start].data, calendar_form[end].data = span or ("", "")
    target_form = forms.get("target_form") or TargetForm()
    target_form.account_id.choices = [SelectChoice("", _("Choose an account…"))] + [
        SelectChoice(a.id, a.name) for a in accounts.accounts_for(current_user)
    ]
    return render_page(
        "service/settings.html",
        "content",
        status=code,
        calendar_form=calendar_form,
        weekdays=[(settings.WEEKDAYS[d], s, e) for d, s, e in WEEKDAY_FIELDS],
        holiday_form=forms.get("holiday_form") or HolidayForm(),
        import_form=HolidayImportForm(),
        import_error=forms.get("import_error"),
        import_problems=forms.get("import_problems", []),
        target_form=target_form,
        # Holidays are days of the service calendar's zone: the last year's, in it.
        holidays=settings.holidays(
            calendar_days.day_in(calendar_days.zone(zone)) - timedelta(days=366)
        ),
        account_targets=settings.account_target_rows(),
        defaults=promises.default_targets(),
        priorities=PRIORITIES,
        delete_form=ActionForm(),
        recompute=recompute.status(),
    )


@bp.route("/service/settings", methods=["GET", "POST"])
@requires(Role.ADMIN)
def settings_page():
    """The service's working hours and time zone, its holidays, and accounts' own
    promised times; saving the hours is a POST here."""
    if request.method == "GET":
        return _settings_page()
    form = CalendarForm()
    if form.validate_on_submit():
        try:
            settings.save_calendar(
                current_user,
                timezone=form.timezone.data,
                hours={day: (form[s].data, form[e].data) for day, s, e in WEEKDAY_FIELDS},
                now=utcnow(),
            )
        except DomainError as error:
            db.session.rollback()
            day_field = error.field and error.field.startswith("day")
            field = f"{error.field}_start" if day_field else error.field
            DomainError(error.message, field=field).attach_to(form)
        else:
            flash(_("The service hours are saved."), "success")
            return redirect(url_for("service.settings_page"), code=303)
    return _settings_page(422, calendar_form=form)


@bp.post("/service/settings/holidays")
@requires(Role.ADMIN)
def add_holiday():
    """One holiday, entered by hand."""
    form = HolidayForm()
    if form.validate_on_submit():
        try:
            holiday = settings.add_holiday(
                current_user, day=form.day.data or "", name=form.name.data or ""
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _(
                    "%(holiday)s on %(day)s is a holiday.",
                    holiday=holiday.name,
                    day=format_day(holiday.day),
                ),
                "success",
            )
            return redirect(url_for("service.settings_page", _anchor="holidays"), code=303)
    return _settings_page(422, holiday_form=form)


@bp.post("/service/settings/holidays/import")
@requires(Role.ADMIN)
def import_holidays():
    """Holidays from a CSV or XLSX file: every row or none, every bad row named."""
    form = HolidayImportForm()
    if not form.validate_on_submit():
        return _settings_page(422, import_error="The form expired: send the file again.")
    upload = form.upload.data
    data = upload.read(settings.MAX_IMPORT_BYTES + 1) if upload and upload.filename else b""
    try:
        count = settings.import_holidays(current_user, data)
    except settings.ImportRefused as refused:
        db.session.rollback()
        return _settings_page(422, import_error=refused.message, import_problems=refused.problems)
    except DomainError as error:
        db.session.rollback()
        return _settings_page(422, import_error=error.message)
    flash(ngettext("%(num)d holiday imported.", "%(num)d holidays imported.", count), "success")
    return redirect(url_for("service.settings_page", _anchor="holidays"), code=303)


@bp.post("/service/settings/holidays/<int:holiday_id>/delete")
@requires(Role.ADMIN)
def delete_holiday(holiday_id: int):
    """Remove a holiday."""
    if not ActionForm().validate_on_submit():
        abort(400)
    settings.delete_holiday(current_user, holiday_id)
    flash(_("The holiday is removed."), "success")
    return redirect(url_for("service.settings_page", _anchor="holidays"), code=303)


@bp.post("/service/settings/targets")
@requires(Role.ADMIN)
def set_target():
    """An account's own promised times for one priority (a service contract)."""
    form = TargetForm()
    form.account_id.choices = [SelectChoice("", "")] + [
        SelectChoice(a.id, a.name) for a in accounts.accounts_for(current_user)
    ]
    if form.validate_on_submit():
        try:
            settings.set_account_target(
                current_user,
                form.account_id.data,
                priority=form.priority.data,
                response=form.response_hours.data or "",
                resolution=form.resolution_hours.data or "",
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("The account's promised times are saved."), "success")
            return redirect(url_for("service.settings_page", _anchor="targets"), code=303)
    return _settings_page(422, target_form=form)


@bp.post("/service/settings/targets/<int:target_id>/delete")
@requires(Role.ADMIN)
def delete_target(target_id: int):
    """Put an account back on the standard promise for one priority."""
    if not ActionForm().validate_on_submit():
        abort(400)
    settings.delete_account_target(current_user, target_id)
    flash(_("The account is back on the standard promise for that priority."), "success")
    return redirect(url_for("service.settings_page", _anchor="targets"), code=303)
