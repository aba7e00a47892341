"""Customer accounts, their addresses, and users: vendor admin and customer admin pages."""

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from portal.audit import service as audit_service
from portal.errors import DomainError
from portal.extensions import db
from portal.htmx import render_page
from portal.params import database_int
from portal.security import get_scoped_or_404, requires

from . import service
from .forms import (
    AccountForm,
    AccountPreferencesForm,
    AddressForm,
    ApprovalLimitForm,
    NewUserForm,
    UserForm,
)
from .models import Address, CustomerAccount, User
from .roles import VENDOR_ROLES, Role

bp = Blueprint("accounts", __name__)

ALL_VENDOR_ROLES = tuple(VENDOR_ROLES)


# --- accounts ------------------------------------------------------------------


@bp.get("/accounts")
@requires(*ALL_VENDOR_ROLES)
def index():
    """All customer accounts, filtered as one types (htmx replaces the table only)."""
    q = request.args.get("q", "").strip()
    mine = request.args.get("mine") == "1"
    accounts = service.find_accounts(current_user, q=q, managed_by_viewer=mine)
    user_counts = service.active_user_counts(current_user)
    return render_page(
        "accounts/index.html", "results", accounts=accounts, q=q, mine=mine, user_counts=user_counts
    )


def _language_choices(empty: str) -> list[SelectChoice]:
    return [SelectChoice("", empty)] + [
        SelectChoice(code, name) for code, name in service.language_choices().items()
    ]


def _account_form(form: AccountForm) -> AccountForm:
    form.timezone.choices = service.timezone_choices()
    form.currency.choices = list(service.currency_choices())
    form.default_language.choices = _language_choices(_("— the browser's —"))
    form.account_manager_id.choices = [SelectChoice("", _("— none —"))] + [
        SelectChoice(m.id, m.name) for m in service.account_manager_choices()
    ]
    return form


def _account_fields(form: AccountForm) -> dict:
    return {
        "number": form.number.data,
        "name": form.name.data,
        "status": form.status.data,
        "timezone": form.timezone.data,
        "currency": form.currency.data,
        "default_language": form.default_language.data or None,
        "account_manager_id": form.account_manager_id.data,
        "promise_basis": form.promise_basis.data,
    }


@bp.route("/accounts/new", methods=["GET", "POST"])
@requires(Role.ADMIN)
def new():
    """Create a customer account."""
    form = _account_form(
        AccountForm(timezone="Europe/Berlin", currency=current_app.config["CURRENCY"])
    )
    if form.validate_on_submit():
        try:
            account = service.create_account(current_user, **_account_fields(form))
        except DomainError as error:
            error.attach_to(form)
        else:
            flash(
                _("Account %(number)s %(name)s created.", number=account.number, name=account.name),
                "success",
            )
            return redirect(url_for("accounts.detail", account_id=account.id), code=303)
    return render_page(
        "accounts/form.html", "form", form=form, account=None, status=422 if form.errors else 200
    )


@bp.get("/accounts/<int:account_id>")
def detail(account_id: int):
    """One account: details, addresses, users. Customers see their own only (else 404)."""
    account = get_scoped_or_404(CustomerAccount, account_id, current_user)
    from portal.contacts import service as contacts

    return render_page(
        "accounts/detail.html",
        "content",
        works_on=contacts.may_work_on(current_user, account),
        account=account,
        can_edit=current_user.is_vendor_staff and current_user.has_role(Role.ADMIN),
        can_manage_addresses=service.can_manage_addresses(current_user, account),
        can_manage_users=service.can_manage_users(current_user, account.id),
        limit_form=ApprovalLimitForm(approval_limit=account.approval_limit),
        preferences_form=_preferences_form(
            AccountPreferencesForm(
                default_language=account.default_language or "", timezone=account.timezone
            )
        ),
        handovers=service.handovers(current_user, account),
        events=audit_service.recent_events(current_user, account_id=account.id, limit=15)
        if current_user.is_vendor_staff or current_user.has_role(Role.CUSTOMER_ADMIN)
        else [],
    )


@bp.route("/accounts/<int:account_id>/edit", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit(account_id: int):
    """Change an account's number, name, status, time zone or manager."""
    account = get_scoped_or_404(CustomerAccount, account_id, current_user)
    form = _account_form(AccountForm(obj=account))
    if not form.is_submitted():
        form.default_language.data = account.default_language or ""
    if form.validate_on_submit():
        try:
            service.update_account(
                current_user,
                account,
                handover_reason=form.handover_reason.data or "",
                **_account_fields(form),
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Account saved."), "success")
            return redirect(url_for("accounts.detail", account_id=account.id), code=303)
    return render_page(
        "accounts/form.html", "form", form=form, account=account, status=422 if form.errors else 200
    )


@bp.post("/accounts/<int:account_id>/approval-limit")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def approval_limit(account_id: int):
    """Set the order total above which an approver must approve."""
    account = _manageable_account(account_id)
    form = ApprovalLimitForm()
    if form.validate_on_submit():
        service.set_approval_limit(current_user, account, form.approval_limit.data)
        flash(_("Approval limit saved."), "success")
    else:
        problems = form.approval_limit.errors or [_("not saved.")]
        flash(_("Approval limit: %(problems)s", problems=" ".join(map(str, problems))), "error")
    return redirect(url_for("accounts.detail", account_id=account.id), code=303)


def _preferences_form(form: AccountPreferencesForm) -> AccountPreferencesForm:
    form.default_language.choices = _language_choices(_("— the browser's —"))
    form.timezone.choices = service.timezone_choices()
    return form


@bp.post("/accounts/<int:account_id>/preferences")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def preferences(account_id: int):
    """Set the language of the account's users who have not chosen one, and its zone."""
    account = _manageable_account(account_id)
    form = _preferences_form(AccountPreferencesForm())
    if form.validate_on_submit():
        try:
            service.set_account_preferences(
                current_user,
                account,
                default_language=form.default_language.data or None,
                timezone=form.timezone.data,
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(_("Language and time zone of the account saved."), "success")
    else:
        flash(" ".join(str(m) for messages in form.errors.values() for m in messages), "error")
    return redirect(url_for("accounts.detail", account_id=account.id), code=303)


# --- addresses -------------------------------------------------------------------


def _address_of(account: CustomerAccount, address_id: int) -> Address:
    address = get_scoped_or_404(Address, address_id, current_user)
    if address.account_id != account.id:
        abort(404)
    return address


def _manageable_account(account_id: int) -> CustomerAccount:
    account = get_scoped_or_404(CustomerAccount, account_id, current_user)
    if not service.can_manage_addresses(current_user, account):
        abort(403)
    return account


@bp.route(
    "/accounts/<int:account_id>/addresses/new",
    methods=["GET", "POST"],
    defaults={"address_id": None},
)
@bp.route("/accounts/<int:account_id>/addresses/<int:address_id>/edit", methods=["GET", "POST"])
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def address(account_id: int, address_id: int | None):
    """Add an address to an account, or change one."""
    account = _manageable_account(account_id)
    existing = _address_of(account, address_id) if address_id else None
    form = AddressForm(obj=existing)
    if form.validate_on_submit():
        try:
            service.save_address(
                current_user,
                account,
                existing,
                **{name: form[name].data for name in service.ADDRESS_FIELDS},
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Address saved."), "success")
            return redirect(url_for("accounts.detail", account_id=account.id), code=303)
    return render_page(
        "accounts/address.html",
        "form",
        form=form,
        account=account,
        address=existing,
        status=422 if form.errors else 200,
    )


@bp.post("/accounts/<int:account_id>/addresses/<int:address_id>/delete")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def delete_address(account_id: int, address_id: int):
    """Remove an address of the account."""
    account = _manageable_account(account_id)
    service.delete_address(current_user, account, _address_of(account, address_id))
    flash(_("Address removed."), "success")
    return redirect(url_for("accounts.detail", account_id=account.id), code=303)


# --- users -----------------------------------------------------------------------


@bp.get("/users")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def users():
    """Users a vendor admin (all) or a customer admin (own account) manages."""
    q = request.args.get("q", "").strip()
    side = request.args.get("side", "")
    found = service.find_users(current_user, q=q, side=side)
    accounts = service.accounts_for(current_user)
    return render_page(
        "accounts/users.html", "results", users=found, q=q, side=side, accounts=accounts
    )


def role_choices(roles) -> list[SelectChoice]:
    return [SelectChoice(r.value, r.label) for r in roles]


def _user_form(form: UserForm, account_id: int | None) -> UserForm:
    form.roles.choices = role_choices(service.assignable_roles(current_user, account_id))
    form.timezone.choices = [SelectChoice("", _("— the account's —"))] + service.timezone_choices()
    return form


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def new_user():
    """Create a user: a vendor admin for any account or the vendor, a customer admin for theirs."""
    form = NewUserForm()
    if current_user.is_vendor_staff:
        form.account_id.choices = [
            SelectChoice(
                "", _("Vendor staff (%(vendor)s)", vendor=current_app.config["VENDOR_NAME"])
            )
        ] + [SelectChoice(a.id, f"{a.number} {a.name}") for a in service.accounts_for(current_user)]
        account_id = (
            form.account_id.data
            if request.method == "POST"
            else request.args.get("account_id", type=database_int)
        )
        if request.method == "GET":
            form.account_id.data = account_id
    else:
        # A customer admin's users always belong to the admin's own account.
        del form.account_id
        account_id = current_user.account_id
    # Roles offered depend on the side; on a vendor admin's form both are offered
    # and the service refuses a mismatch with a clear message.
    _user_form(form, account_id)
    if current_user.is_vendor_staff:
        form.roles.choices = role_choices(list(Role))
    if form.validate_on_submit():
        try:
            user = service.create_user(
                current_user,
                email=form.email.data,
                name=form.name.data,
                roles=form.roles.data,
                password=form.password.data,
                account_id=account_id,
                timezone=form.timezone.data or None,
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("User %(email)s created.", email=user.email), "success")
            return redirect(url_for("accounts.users"), code=303)
    return render_page(
        "accounts/user_form.html", "form", form=form, user=None, status=422 if form.errors else 200
    )


def _managed_user(user_id: int) -> User:
    user = get_scoped_or_404(User, user_id, current_user)
    if not service.can_manage_users(current_user, user.account_id):
        abort(403)
    return user


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def edit_user(user_id: int):
    """Change a user's name, e-mail, roles or time zone."""
    user = _managed_user(user_id)
    form = _user_form(UserForm(obj=user), user.account_id)
    if form.validate_on_submit():
        try:
            service.update_user(
                current_user,
                user,
                email=form.email.data,
                name=form.name.data,
                roles=form.roles.data,
                timezone=form.timezone.data or None,
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("User %(email)s saved.", email=user.email), "success")
            return redirect(url_for("accounts.users"), code=303)
    return render_page(
        "accounts/user_form.html", "form", form=form, user=user, status=422 if form.errors else 200
    )


@bp.post("/users/<int:user_id>/active")
@requires(Role.ADMIN, Role.CUSTOMER_ADMIN)
def set_active(user_id: int):
    """Deactivate a user (their sessions end at once) or reactivate them."""
    user = _managed_user(user_id)
    active = request.form.get("active") == "1"
    try:
        service.set_active(current_user, user, active)
    except DomainError as error:
        flash(error.message, "error")
    else:
        if active:
            flash(_("%(name)s reactivated.", name=user.name), "success")
        else:
            flash(_("%(name)s deactivated.", name=user.name), "success")
    return redirect(url_for("accounts.edit_user", user_id=user.id), code=303)


# --- audit -----------------------------------------------------------------------


@bp.get("/audit")
@requires(Role.ADMIN)
def audit_log():
    """The newest audit events, filterable by account and action."""
    account_id = request.args.get("account_id", type=database_int)
    action = request.args.get("action") or None
    if action not in audit_service.ACTION_LABELS:
        action = None
    events = audit_service.recent_events(
        current_user, account_id=account_id, action=action, limit=200
    )
    accounts = service.accounts_for(current_user)
    return render_page(
        "accounts/audit.html",
        "results",
        events=events,
        accounts=accounts,
        account_id=account_id,
        action=action,
        action_labels=audit_service.ACTION_LABELS,
    )
