"""Relationship health pages: the portfolio (and its CSV/XLSX), one account's health,
acknowledging a red alert, and the admins' weights and thresholds."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from portal import days, formatting, spreadsheets
from portal.accounts.roles import Role
from portal.contacts import service as contacts
from portal.contacts.forms import FollowUpForm
from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow
from portal.htmx import render_page
from portal.ideas.service import add_business_days
from portal.params import optional_database_int
from portal.security import requires

from . import alerts, phrases, service, signals

bp = Blueprint("relationship", __name__, url_prefix="/relationship")
_FROM_REQUEST = object()  # the form reads the request's form data


def _account_or_404(number: str):
    try:
        return service.account_for(current_user, number)
    except NotFound:
        abort(404)


def _portfolio(*, everything: bool = False):
    """The portfolio the query string asks for: an admin's filter by manager, a status
    filter, a page (the download: every page)."""
    manager_id = None
    if current_user.has_role(Role.ADMIN):
        manager_id = request.args.get("manager", None, type=optional_database_int)
    result = service.portfolio(
        current_user,
        # Every account on one list, and the snapshots are the vendor's schedule's
        # days: the vendor's day (portal.days), so "today" finds today's snapshot.
        days.vendor_today(),
        manager_id=manager_id,
        status=request.args.get("status", "")[:10] or None,
        page=request.args.get("page", 1, type=optional_database_int) or 1,
        per_page=None if everything else service.PAGE_SIZE,
    )
    return result, manager_id


@bp.get("/portfolio")
@requires(*service.READERS)
def portfolio():
    """The viewer's accounts worst first, a page at a time: status, score, sparkline,
    reasons; filtered by status (and by manager, for admins)."""
    result, manager_id = _portfolio()
    return render_page(
        "relationship/portfolio.html",
        "portfolio",
        portfolio=result,
        managers=service.managers() if current_user.has_role(Role.ADMIN) else [],
        manager_id=manager_id,
        filters={
            key: value
            for key, value in (("manager", manager_id), ("status", result.status))
            if value
        },
        statuses=service.FILTER_STATUSES,
        health=service.STATUS_LABELS,
        trends=service.TREND_LABELS,
        page_size=service.PAGE_SIZE,
        zone_note=days.zone_note(days.vendor_zone()),
    )


@bp.get("/portfolio.<any(csv, xlsx):fmt>")
@requires(*service.READERS)
def export_portfolio(fmt: str):
    """The portfolio as CSV (UTF-8 with BOM) or XLSX, every page of the filter: number,
    name, manager, status, score, reasons in one column."""
    result, _ = _portfolio(everything=True)
    content, mimetype = spreadsheets.table_file(
        service.EXPORT_COLUMNS.header(), service.export_rows(result), fmt
    )
    return Response(
        content,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=portfolio.{fmt}"},
    )


@bp.get("/accounts/<number>")
@requires(*service.READERS)
def account(number: str):
    """One account's status, score, every signal with its reason, charts and trend."""
    found = _account_or_404(number)
    return _account_page(found)


def _account_page(found, status: int = 200, form: FollowUpForm | None = None):
    # The snapshots (and the episodes' days) are the vendor's schedule's: the charts end
    # on the vendor's day, as the portfolio's do.
    health = service.account_health(found, days.vendor_today())
    waiting = [e for e in health.episodes if e.acknowledged_at is None]
    if waiting and form is None:
        form = _acknowledge_form(found, None)
        form.kind.data = "call"
        # The follow-up is the reader's own to do: due by their day, as the contact log's.
        form.due_on.data = add_business_days(
            days.user_today(current_user), alerts.ESCALATE_AFTER_WORKING_DAYS
        )
    return render_page(
        "relationship/account.html",
        "health",
        status,
        health=health,
        labels={s.key: s.label for s in signals.SIGNALS},
        subject_label=alerts.subject_label,
        shown=phrases.shown,
        escalation_due=alerts.escalation_due,
        reason_of=alerts.reason_of,
        next_step_of=alerts.next_step_shown,
        waiting=waiting,
        form=form,
        health_labels=service.STATUS_LABELS,
        trends=service.TREND_LABELS,
        zone_note=days.zone_note(days.vendor_zone()),
    )


def _acknowledge_form(account, formdata=_FROM_REQUEST) -> FollowUpForm:
    """The contact log's follow-up form for this one account: the same fields, checks
    and messages as setting a follow-up anywhere else (the account is not a choice here,
    nor a contact to hang it on)."""
    form = FollowUpForm() if formdata is _FROM_REQUEST else FollowUpForm(formdata=formdata)
    form.account_id.choices = [SelectChoice(account.id, account.name)]
    form.account_id.data = account.id
    manager = account.account_manager
    form.owner_id.choices = [
        SelectChoice(
            "",
            _("The account's manager (%(name)s)", name=manager.name)
            if manager
            else _("The account's manager"),
        )
    ] + [SelectChoice(u.id, u.name) for u in contacts.owners_to_choose()]
    form.contact_id.choices = [SelectChoice("", "")]
    return form


@bp.post("/accounts/<number>/acknowledge")
@requires(*service.READERS)
def acknowledge(number: str):
    """The manager takes the account's red alerts on by setting the next step as a
    follow-up: its kind, what is to be done, a due date and an owner."""
    found = _account_or_404(number)
    form = _acknowledge_form(found)
    if not form.validate_on_submit():
        return _account_page(found, 422, form)
    data = contacts.FollowUpInput(
        kind=form.kind.data,
        title=form.title.data or "",
        due_on=form.due_on.data,
        owner_id=form.owner_id.data,
    )
    try:
        count, follow_up = alerts.acknowledge(current_user, found, data, utcnow())
    except DomainError as error:
        db.session.rollback()
        error.attach_to(form)
        return _account_page(found, 422, form)
    flash(
        ngettext(
            "Acknowledged %(num)s alert: %(kind)s by %(day)s, owned by %(owner)s.",
            "Acknowledged %(num)s alerts: %(kind)s by %(day)s, owned by %(owner)s.",
            count,
            kind=str(follow_up.kind_label).lower(),
            day=formatting.day(follow_up.due_on),
            owner=follow_up.owner.name,
        ),
        "success",
    )
    return redirect(url_for("relationship.account", number=found.number), code=303)


@bp.route("/settings", methods=["GET", "POST"])
@requires(Role.ADMIN)
def settings():
    """The vendor admins' weights (adding up to 100) and thresholds per signal."""
    errors = []
    if request.method == "POST":
        try:
            service.save_settings(current_user, request.form, utcnow())
        except service.SettingsRefused as refused:
            errors = refused.errors
        else:
            flash(_("Weights and thresholds saved; the next refresh uses them."), "success")
            return redirect(url_for("relationship.settings"), code=303)
    rows = service.settings_rows()
    return render_page(
        "relationship/settings.html",
        "settings",
        422 if errors else 200,
        rows=rows,
        errors=errors,
        field_errors={e.field: e.message for e in errors if e.field},
        submitted=request.form if errors else None,
    )
