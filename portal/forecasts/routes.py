"""Forecast pages: the customer's draft grid with upload and download, published
versions beside the one before, and the vendor's inbox of published versions."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import days
from portal.accounts.roles import Role
from portal.catalog import service as catalog
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db
from portal.formatting import number
from portal.htmx import is_htmx, render_fragment, render_page
from portal.params import optional_database_int
from portal.security import requires
from portal.spreadsheets import XLSX_MIME

from . import drafts, grid_view, service, uploads
from . import versions as forecast_versions
from .forms import AddProductForm, HorizonForm, PublishForm, UploadForm
from .months import month_label

bp = Blueprint("forecasts", __name__)
# The grids' cells as finished texts, worked out once per batch (see grid_view).
bp.add_app_template_global(grid_view.draft_rows, "draft_rows")
bp.add_app_template_global(grid_view.draft_cell, "draft_cell")
bp.add_app_template_global(grid_view.draft_head, "draft_head")
bp.add_app_template_global(grid_view.month_totals, "month_totals")
bp.add_app_template_filter(grid_view.quantity, "quantity")

EDITORS = service.EDITORS
READERS = (*service.EDITORS, *service.VENDOR_READERS)
HORIZON_EDITORS = (Role.CUSTOMER_ADMIN, Role.ADMIN)


def _today():
    # The customer's day for its prices, promises and months; vendor staff's: the
    # vendor's (portal.days holds the rule).
    return days.user_today(current_user)


def _shown(form_class):
    """A blank form to show, without a CSRF field of its own: the page writes each
    form's token itself (a hidden input with csrf_token()) and never renders the
    field, whose making was two thirds of a blank form's cost (~47 of ~75 µs for the
    three forms). CSRF is checked on every POST (CSRFProtect), whatever the form."""
    return form_class(formdata=None, meta={"csrf": False})


def _draft_page(status: int = 200, **context):
    """The customer's forecast page (or its grid alone, for htmx)."""
    today = _today()
    # The newest five published versions are listed: read with the grid's versions.
    grid = drafts.grid(current_user, today, after=context.pop("after", None), published=5)
    if "add_form" not in context:
        context["add_form"] = _shown(AddProductForm)
    if "publish_form" not in context:
        context["publish_form"] = _shown(PublishForm)
    if "upload_form" not in context:
        context["upload_form"] = _shown(UploadForm)
    # Shown to the account's admins only: a form is built for nothing for the others.
    horizon_form = None
    if current_user.has_role(Role.CUSTOMER_ADMIN):
        horizon_form = _shown(HorizonForm)
        horizon_form.horizon_months.data = str(len(grid.months))
    return render_page(
        "forecasts/draft.html",
        "grid",
        status=status,
        grid=grid,
        month_label=month_label,
        horizon_form=horizon_form,
        versions=grid_view.recent_version_items(grid.published),
        **context,
    )


@bp.get("/forecasts")
@requires(*EDITORS)
def index():
    """The account's forecast: the draft as a grid of products × months, the first
    rows by SKU. `?after=<SKU key>` continues after that product: htmx asks for the
    next batch of rows alone (as the person scrolls or moves down past the last row);
    without JavaScript the link gives the page again from there."""
    after = _after_key()
    if after is not None and is_htmx():
        grid = drafts.grid(current_user, _today(), after=after, totals=False)
        return render_fragment("forecasts/draft.html", "rows", grid=grid, month_label=month_label)
    return _draft_page(after=after)


def _after_key() -> str | None:
    """The keyset position of a batch: a product's SKU key (at most 64 characters);
    any text is safe to compare with, so none is refused."""
    after = request.args.get("after")
    return after[:64] if after is not None else None


@bp.post("/forecasts/cells")
@requires(*EDITORS)
def save_cell():
    """Save one cell (htmx): the cell again, marked saved, and the changed totals."""
    form = request.form
    typed = form.get("quantity", "")[:30]
    try:
        result = drafts.save_cell(
            current_user, form.get("product_id"), form.get("month"), typed, _today()
        )
    except DomainError as error:
        db.session.rollback()
        try:
            product, month = drafts.check_cell(
                current_user, form.get("product_id"), form.get("month"), _today()
            )
        except DomainError:
            # Not a cell of this grid at all: nothing to show it in.
            return Response(error.message, status=422, mimetype="text/plain")
        return render_fragment(
            "forecasts/draft.html",
            "cell_saved",
            product=product,
            month=month,
            value=typed,
            error=error.message,
            result=None,
            month_label=month_label,
        )
    return render_fragment(
        "forecasts/draft.html",
        "cell_saved",
        product=result.product,
        month=result.month,
        value=result.quantity,
        error=None,
        result=result,
        month_label=month_label,
    )


@bp.get("/forecasts/suggest")
@requires(*EDITORS)
def suggest():
    """SKU suggestions while adding a product (the quick order's search)."""
    prefix = request.args.get("sku", "").strip()[:64]
    products = catalog.suggest(prefix) if len(prefix) >= 2 else []
    return render_fragment("forecasts/draft.html", "suggestions", products=products)


def _after_change(message: str):
    if is_htmx():
        return _draft_page(notice=message)
    flash(message, "success")
    return redirect(url_for("forecasts.index"), code=303)


@bp.post("/forecasts/products")
@requires(*EDITORS)
def add_product():
    """Add a product's row to the draft."""
    form = AddProductForm()
    try:
        product = drafts.add_product(current_user, form.sku.data, _today())
    except DomainError as error:
        db.session.rollback()
        error.attach_to(form)
        return _draft_page(status=200 if is_htmx() else 422, add_form=form)
    return _after_change(f"{product.sku} added.")


@bp.post("/forecasts/fill")
@requires(*EDITORS)
def fill_row():
    """Copy a row's first month into every month."""
    raw_id = request.form.get("product_id")
    try:
        product = drafts.fill_row(current_user, raw_id, _today())
    except DomainError as error:
        db.session.rollback()
        if not is_htmx():
            return _draft_page(status=422, notice=error.message)
        product_id, notice = optional_database_int(str(raw_id or "")), error.message
    else:
        if not is_htmx():
            return _after_change(
                _("%(sku)s: the first month copied to every month.", sku=product.sku)
            )
        product_id, notice = (
            product.id,
            _("%(sku)s: the first month copied to every month.", sku=product.sku),
        )
    # htmx: the row alone, in its place (the grid may hold rows far below the first
    # screen: re-sending the grid would lose the person's place), and the totals.
    grid = drafts.grid(current_user, _today(), only=product_id or 0)
    grid.next_after = None
    return render_fragment(
        "forecasts/draft.html", "row_filled", grid=grid, notice=notice, month_label=month_label
    )


@bp.post("/forecasts/publish")
@requires(*EDITORS)
def publish():
    """Publish the draft as a new version for the vendor."""
    form = PublishForm()
    try:
        version = forecast_versions.publish(current_user, form.comment.data, _today())
    except DomainError as error:
        db.session.rollback()
        error.attach_to(form)
        return _draft_page(status=422, publish_form=form)
    flash(
        _("Version %(number)s published; the vendor's planners are told.", number=version.number),
        "success",
    )
    return redirect(url_for("forecasts.version", version_id=version.id), code=303)


@bp.post("/forecasts/upload")
@requires(*EDITORS)
def upload():
    """Apply a filled-in template to the draft: all rows or none."""
    upload = request.files.get("file")
    data = upload.read(uploads.MAX_UPLOAD_BYTES + 1) if upload and upload.filename else b""
    try:
        result = uploads.upload(current_user, data, _today())
    except uploads.UploadRefused as refused:
        db.session.rollback()
        return _draft_page(status=422, upload_refused=refused)
    flash(
        _(
            "Uploaded: %(cells)s cells of %(products)s products (%(layout)s layout) are in "
            "the draft.",
            cells=number(result.cells),
            products=number(result.products),
            layout=_("wide") if result.layout == "wide" else _("long"),
        ),
        "success",
    )
    return redirect(url_for("forecasts.index"), code=303)


@bp.get("/forecasts/template.<any(csv, xlsx):fmt>")
@requires(*EDITORS)
def template(fmt: str):
    """The template to fill in, pre-filled with recent products and the draft."""
    layout = request.args.get("layout", "wide")
    try:
        data, name = uploads.template(current_user, layout, fmt, _today())
    except DomainError:
        abort(404)
    mimetype = XLSX_MIME if fmt == "xlsx" else "text/csv"
    return Response(
        data,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.post("/forecasts/accounts/<int:account_id>/horizon")
@requires(*HORIZON_EDITORS)
def horizon(account_id: int):
    """Change how many months ahead the account forecasts."""
    try:
        months = service.set_horizon(current_user, account_id, request.form.get("horizon_months"))
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(_("The forecast now looks %(months)s months ahead.", months=months), "success")
    if current_user.is_vendor_staff:
        return redirect(url_for("forecasts.versions", account_id=account_id), code=303)
    return redirect(url_for("forecasts.index"), code=303)


@bp.get("/forecasts/accounts/<int:account_id>/versions")
@requires(*READERS)
def versions(account_id: int):
    """An account's published versions, newest first."""
    try:
        account = service.account_for(current_user, account_id)
    except NotFound:
        abort(404)
    horizon_form = HorizonForm(formdata=None)
    horizon_form.horizon_months.data = str(service.horizon_of(account.id))
    return render_page(
        "forecasts/versions.html",
        "versions",
        account=account,
        versions=forecast_versions.versions_of(current_user, account.id),
        horizon_form=horizon_form,
    )


@bp.get("/forecasts/versions/<int:version_id>")
@requires(*READERS)
def version(version_id: int):
    """One published version beside the one before it, changed cells marked."""
    try:
        version = forecast_versions.version_for(current_user, version_id)
    except NotFound:
        abort(404)
    previous = forecast_versions.previous_of(version)
    months, rows, totals = forecast_versions.compare(version, previous)
    return render_page(
        "forecasts/version.html",
        "comparison",
        version=version,
        previous=previous,
        months=months,
        rows=rows,
        totals=totals,
        month_label=month_label,
    )


@bp.get("/forecasts/inbox")
@requires(*service.VENDOR_READERS)
def inbox():
    """Published versions of every account the viewer follows, newest first."""
    return render_page(
        "forecasts/inbox.html", "inbox", versions=forecast_versions.inbox(current_user)
    )
