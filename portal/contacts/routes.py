"""The contact log, follow-ups, what the customer was told, and everything promised to one
account. Vendor staff log and follow up; the customer reads the entries shared with it."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal import days, formatting
from portal.accounts.models import CustomerAccount
from portal.accounts.roles import CUSTOMER_ROLES, VENDOR_ROLES
from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow
from portal.htmx import render_page
from portal.params import optional_database_int
from portal.security import requires

from . import promised as promised_service
from . import service
from .forms import ContactForm, DoneForm, FollowUpForm
from .models import FollowUp

bp = Blueprint("contacts", __name__)

VENDOR = tuple(VENDOR_ROLES)
CUSTOMERS = tuple(CUSTOMER_ROLES)


def _today() -> date:
    # The customer's day for its prices, promises and months; vendor staff's: the
    # vendor's (portal.days holds the rule).
    return days.user_today(current_user)


def _account_or_404(account_id: int) -> CustomerAccount:
    try:
        return service.account_for(current_user, account_id)
    except NotFound:
        abort(404)


def _follow_up_form(
    account: CustomerAccount | None, form: FollowUpForm | None = None
) -> FollowUpForm:
    form = form or FollowUpForm()
    accounts = [account] if account else service.accounts_to_choose(current_user)
    form.account_id.choices = ([] if account else [SelectChoice("", _("Choose…"))]) + [
        SelectChoice(a.id, f"{a.name} ({a.number})") for a in accounts
    ]
    form.owner_id.choices = [SelectChoice("", _("The account's manager"))] + [
        SelectChoice(u.id, u.name) for u in service.owners_to_choose()
    ]
    contacts = service.contact_log(account, limit=20) if account else []
    form.contact_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(c.id, f"{formatting.day(c.contacted_on)} {c.kind_label}: {c.summary}")
        for c in contacts
    ]
    if account and form.account_id.data is None:
        form.account_id.data = account.id
    return form


def _render_account(
    account: CustomerAccount,
    *,
    contact_form: ContactForm | None = None,
    code: int = 200,
):
    today = _today()
    return render_page(
        "contacts/account.html",
        "content",
        status=code,
        account=account,
        contacts=service.contact_log(account),
        follow_ups=service.follow_ups_of(account),
        contact_form=contact_form or ContactForm(contacted_on=today, kind="call"),
        done_form=DoneForm(),
        today=today,
    )


@bp.get("/contacts/accounts/<int:account_id>")
@requires(*VENDOR)
def account(account_id: int):
    """An account's contact log and follow-ups, with the forms to add to them."""
    return _render_account(_account_or_404(account_id))


@bp.post("/contacts/accounts/<int:account_id>/entries")
@requires(*VENDOR)
def log(account_id: int):
    """Record a call, visit, meeting or e-mail with the account."""
    account = _account_or_404(account_id)
    form = ContactForm()
    if form.validate_on_submit():
        data = service.ContactInput(
            kind=form.kind.data,
            contacted_on=form.contacted_on.data,
            summary=form.summary.data or "",
            vendor_people=form.vendor_people.data or "",
            customer_people=form.customer_people.data or "",
            notes=form.notes.data or "",
            next_step=form.next_step.data or "",
            shared=form.shared.data,
        )
        try:
            entry = service.log_contact(current_user, account, data, _today())
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _("%(kind)s logged and shared with the customer.", kind=entry.kind_label)
                if entry.shared
                else _("%(kind)s logged (internal).", kind=entry.kind_label),
                "success",
            )
            return redirect(url_for("contacts.account", account_id=account.id), code=303)
    return _render_account(account, contact_form=form, code=422)


def _workable(account_id: int | None) -> CustomerAccount | None:
    if account_id is None:
        return None
    try:
        return service.account_for(current_user, account_id)
    except NotFound:
        return None


@bp.route("/contacts/follow-ups/new", methods=["GET", "POST"])
@requires(*VENDOR)
def new_follow_up():
    """Set a follow-up. `?account=C-10001&reason=…` (or `account_id`) prefills the form, so an
    alert or an account page can link straight to it."""
    if request.method == "GET":
        number = request.args.get("account", "")
        account = (
            service.account_by_number(current_user, number)
            if number
            else _workable(optional_database_int(request.args.get("account_id")))
        )
        form = _follow_up_form(
            account,
            FollowUpForm(
                formdata=None,
                reason=request.args.get("reason", "")[:500],
                title=request.args.get("title", "")[:200],
                kind=request.args.get("kind", "call"),
                contact_id=optional_database_int(request.args.get("contact")),
            ),
        )
        return render_page("contacts/follow_up.html", "form", form=form, account=account)
    account = _workable(optional_database_int(request.form.get("account_id")))
    form = _follow_up_form(account, FollowUpForm())
    if form.validate_on_submit() and account is not None:
        data = service.FollowUpInput(
            kind=form.kind.data,
            title=form.title.data or "",
            due_on=form.due_on.data,
            owner_id=form.owner_id.data,
            reason=form.reason.data or "",
            contact_id=form.contact_id.data,
        )
        try:
            follow_up = service.set_follow_up(current_user, account, data, _today())
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(
                _(
                    "Follow-up set for %(day)s, owned by %(owner)s.",
                    day=formatting.day(follow_up.due_on),
                    owner=follow_up.owner.name,
                ),
                "success",
            )
            return redirect(
                url_for("contacts.account", account_id=account.id, _anchor="follow-ups"),
                code=303,
            )
    if account is None and not form.account_id.errors:
        form.account_id.errors = [_("Choose an account.")]
    return render_page("contacts/follow_up.html", "form", form=form, account=account, status=422)


@bp.post("/contacts/follow-ups/<int:follow_up_id>/done")
@requires(*VENDOR)
def complete(follow_up_id: int):
    """Mark a follow-up done, with what came of it."""
    try:
        follow_up: FollowUp = service.follow_up_for(current_user, follow_up_id)
    except NotFound:
        abort(404)
    form = DoneForm()
    if form.validate_on_submit():
        try:
            service.complete(current_user, follow_up, form.done_note.data or "")
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("Follow-up done."), "success")
    else:
        reasons = " ".join(map(str, form.done_note.errors or [_("try again.")]))
        flash(_("Not saved: %(reasons)s", reasons=reasons), "error")
    return redirect(
        url_for("contacts.account", account_id=follow_up.account_id, _anchor="follow-ups"),
        code=303,
    )


@bp.get("/contacts/follow-ups")
@requires(*VENDOR)
def follow_ups():
    """Follow-ups: the viewer's own open ones by default, due and overdue first."""
    view = request.args.get("view", "mine")
    if view not in service.FOLLOW_UP_VIEWS:
        view = "mine"
    return render_page(
        "contacts/follow_ups.html",
        "results",
        follow_ups=service.follow_up_list(current_user, view),
        view=view,
        views=service.FOLLOW_UP_VIEWS,
        today=_today(),
    )


@bp.get("/contacts/shared")
@requires(*CUSTOMERS)
def shared():
    """For the customer: what the vendor's people noted and shared after talking with it."""
    return render_page(
        "contacts/shared.html", "content", contacts=service.shared_contacts(current_user)
    )


@bp.get("/contacts/accounts/<int:account_id>/promised")
@requires(*VENDOR)
def promised(account_id: int):
    """Everything promised to one account, from every area, nearest promise first."""
    account = db.session.get(CustomerAccount, account_id)
    if account is None or not promised_service.may_read(current_user, account):
        abort(404)
    return render_page(
        "contacts/promised.html",
        "content",
        account=account,
        owed=promised_service.promised(current_user, account, utcnow()),
        sections=promised_service.SECTIONS,
        today=days.account_today(account),
        zone_note=days.zone_note(days.account_zone(account)),
    )
