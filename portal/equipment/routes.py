"""Installed equipment: the customer's units by site, a unit's page (order and
shipment, warranty, next maintenance, documents, service history), the vendor's
list with an account filter, the import of units sold before the portal, and a
product's equipment terms (vendor admins, beside the product's edit page)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from portal import days
from portal.accounts.roles import Role
from portal.attachments.service import ACCEPTED
from portal.catalog.models import Product
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.htmx import render_page
from portal.params import database_int
from portal.security import requires
from portal.service import reading as service_requests

from . import imports, ownership, service
from .forms import DocumentForm, ImportForm, OwnershipTermsForm, SpecForm, UnitForm
from .models import UNIT_STATUSES

bp = Blueprint("equipment", __name__)


def _today() -> date:
    # The customer's day for its prices, promises and months; vendor staff's: the
    # vendor's (portal.days holds the rule).
    return days.user_today(current_user)


def _unit_or_404(unit_id: int):
    try:
        return service.unit_for(current_user, unit_id)
    except (NotFound, Forbidden):
        abort(404)


@bp.get("/equipment")
@requires(*service.READERS)
def index():
    """A customer's units by site; vendor staff all units (account managers their
    accounts'), filtered by account, status or the beginning of a serial number."""
    vendor = current_user.is_vendor_staff
    filters = service.UnitFilter(
        account_id=request.args.get("account", None, type=database_int) if vendor else None,
        status=request.args.get("status", "")[:20],
        serial=request.args.get("serial", "").strip()[:100],
    )
    page = max(1, request.args.get("page", 1, type=database_int) or 1)
    try:
        units, total = service.listing(current_user, filters, page)
    except Forbidden:
        abort(403)
    today = _today()
    dates = service.dates_of(units, today, service_requests.last_maintenance(u.id for u in units))
    return render_page(
        "equipment/index.html",
        "results",
        # A serial's beginning lists the units in serial order, with their sites.
        groups=[(None, units)] if filters.serial and units else service.by_site(units),
        flat=bool(filters.serial),
        dates=dates,
        total=total,
        page=page,
        pages=max(1, -(-total // service.PAGE)),
        filters=filters,
        statuses=UNIT_STATUSES,
        accounts=service.accounts_to_filter(current_user) if vendor else [],
        may_import=imports.may_import(current_user),
        today=today,
    )


@bp.get("/equipment/<int:unit_id>")
@requires(*service.READERS)
def unit(unit_id: int):
    """One unit: where it came from, warranty, next maintenance, documents, history."""
    return _render_unit(_unit_or_404(unit_id))


def _render_unit(found, *, code: int = 200, unit_form=None, document_form=None):
    today = _today()
    last = service_requests.last_maintenance([found.id])
    keeper = service.may_keep(current_user, found.account_id)
    form = unit_form or UnitForm(
        formdata=None, status=found.status, installed_on=found.installed_on
    )
    return render_page(
        "equipment/unit.html",
        "content",
        status=code,
        unit=found,
        spec=service.spec_of(found.product_id),
        dates=service.dates_of([found], today, last)[found.id],
        history=service_requests.requests_for_equipment(found.account_id, found.id),
        documents=service.documents_of(current_user, found),
        keeper=keeper,
        unit_form=form,
        document_form=document_form or DocumentForm(formdata=None),
        accepted_files=ACCEPTED,
        may_open_request=current_user.has_role(
            *service_requests.CUSTOMERS, *service_requests.WORKERS
        ),
        today=today,
    )


@bp.post("/equipment/<int:unit_id>")
@requires(*service.KEEPERS)
def update(unit_id: int):
    """Service staff record the installation date and the status."""
    found = _unit_or_404(unit_id)
    form = UnitForm()
    if not form.validate_on_submit():
        if "csrf_token" in form.errors:
            abort(400)
        return _render_unit(found, code=422, unit_form=form)
    try:
        service.update_unit(
            current_user,
            found,
            status=form.status.data,
            installed_on=form.installed_on.data,
            today=_today(),
        )
    except Forbidden:
        abort(403)
    except DomainError as error:
        db.session.rollback()
        error.attach_to(form)
        return _render_unit(_unit_or_404(unit_id), code=422, unit_form=form)
    flash(_("The unit is updated."), "success")
    return redirect(url_for("equipment.unit", unit_id=unit_id), code=303)


@bp.post("/equipment/<int:unit_id>/documents")
@requires(*service.KEEPERS)
def add_documents(unit_id: int):
    """Vendor staff attach manuals, certificates, reports."""
    found = _unit_or_404(unit_id)
    form = DocumentForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        count = service.add_documents(
            current_user, found, request.files.getlist("files"), internal=form.internal.data
        )
    except Forbidden:
        abort(403)
    except DomainError as error:
        db.session.rollback()
        form.form_errors.append(error.message)
        return _render_unit(_unit_or_404(unit_id), code=422, document_form=form)
    flash(ngettext("%(num)d document added.", "%(num)d documents added.", count), "success")
    return redirect(url_for("equipment.unit", unit_id=unit_id, _anchor="documents"), code=303)


@bp.route("/equipment/import", methods=["GET", "POST"])
@requires(*service.KEEPERS)
def import_units():
    """Units sold before the portal from a CSV or XLSX file: every row or none."""
    form = ImportForm()
    problems, created, error = [], None, None
    if form.validate_on_submit():
        upload = form.upload.data
        data = upload.read(imports.MAX_BYTES + 1) if upload and upload.filename else b""
        try:
            created = imports.import_units(current_user, imports.read(data), _today())
        except imports.ImportRefused as refused:
            db.session.rollback()
            error, problems = refused.message, refused.problems
        except Forbidden:
            abort(403)
        except DomainError as refused:
            db.session.rollback()
            error = refused.message
    elif form.errors:
        if "csrf_token" in form.errors:
            abort(400)
        error = " ".join(str(m) for messages in form.errors.values() for m in messages)
    return render_page(
        "equipment/import.html",
        "result",
        form=form,
        problems=problems,
        created=created,
        error=error,
        status=422 if error else 200,
    )


@bp.route("/catalog/products/<int:product_id>/equipment", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit_spec(product_id: int):
    """A product's equipment terms: warranty, maintenance plan, kit, consumables."""
    product = db.session.get(Product, product_id) or abort(404)
    spec = service.spec_of(product.id)
    if request.method == "GET":
        initial = {"is_equipment": spec is not None} | service.spec_as_text(spec)
        if spec is not None:
            initial |= {
                "warranty_months": spec.warranty_months,
                "interval_months": spec.maintenance_interval_months,
                "labour_hours": spec.maintenance_labour_hours,
                "labour_rate": spec.maintenance_labour_rate,
            }
        form = SpecForm(data=initial)
    else:
        form = SpecForm()
    if form.validate_on_submit():
        try:
            service.save_spec(
                current_user,
                product,
                service.SpecValues(
                    is_equipment=form.is_equipment.data,
                    warranty_months=form.warranty_months.data,
                    interval_months=form.interval_months.data,
                    labour_hours=form.labour_hours.data,
                    labour_rate=form.labour_rate.data,
                    kit=(form.kit.data or "")[:10_000],
                    consumables=(form.consumables.data or "")[:10_000],
                ),
            )
        except Forbidden:
            abort(403)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Equipment terms of %(sku)s saved.", sku=product.sku), "success")
            return redirect(url_for("catalog.product", product_id=product.id), code=303)
    elif form.errors and "csrf_token" in form.errors:
        abort(400)
    return render_page(
        "equipment/spec_form.html",
        "form",
        form=form,
        product=product,
        status=422 if form.errors or form.form_errors else 200,
    )


# --- cost of ownership ---------------------------------------------------------------------


@bp.route("/ownership/settings", methods=["GET", "POST"])
@requires(Role.CUSTOMER_ADMIN)
def ownership_settings():
    """The account's period for the cost of ownership and its own cost of a day's
    delay and of a defect (its customer admin keeps them)."""
    terms = ownership.terms_of(current_user.account_id)
    if request.method == "GET":
        form = OwnershipTermsForm(
            data={
                "years": terms.years,
                "delay_day_cost": terms.delay_day_cost,
                "defect_cost": terms.defect_cost,
            }
        )
    else:
        form = OwnershipTermsForm()
    if form.validate_on_submit():
        try:
            ownership.save_terms(
                current_user,
                current_user.account_id,
                form.years.data,
                form.delay_day_cost.data,
                form.defect_cost.data,
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Cost of ownership settings saved."), "success")
            return redirect(url_for("equipment.ownership_settings"), code=303)
    return render_page(
        "equipment/ownership_settings.html",
        "form",
        form=form,
        status=422 if form.errors or form.form_errors else 200,
    )


@bp.get("/ownership/compare")
def compare():
    """Two products side by side: price, cost of ownership with its parts, the
    observed record and the expected cost of delays and defects."""
    from portal.catalog import service as catalog

    raw = [request.args.get(name, "").strip()[:64] for name in ("a", "b")]
    products, errors = [], []
    # The form sends both; the product page's link names only the first.
    if "b" in request.args and any(raw):
        # One message per product and problem, whole, for the translators.
        missing = (_("First product: enter a SKU."), _("Second product: enter a SKU."))
        unknown = (
            _("First product: there is no product with SKU “%(sku)s”."),
            _("Second product: there is no product with SKU “%(sku)s”."),
        )
        for n, sku in enumerate(raw):
            if not sku:
                errors.append(missing[n])
                continue
            found = catalog.find_by_sku(sku)
            if found is None:
                errors.append(unknown[n] % {"sku": sku})
            else:
                products.append(found)
        if len(products) == 2 and products[0].id == products[1].id:
            errors.append(_("Choose two different products."))
    compared = []
    if products and not errors:
        found = ownership.ownership_for(current_user.account_id, products, _today(), now=utcnow())
        compared = [found[p.id] for p in products]
    return render_page(
        "equipment/compare.html",
        "comparison",
        a=raw[0],
        b=raw[1],
        errors=errors,
        compared=compared,
        terms=ownership.terms_of(current_user.account_id),
        status=422 if errors else 200,
    )
