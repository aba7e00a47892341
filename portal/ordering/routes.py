"""The terminal: quick order pad and paste, cart, checkout, orders."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from flask import Blueprint, Response, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms import SelectChoice

from portal import days
from portal.accounts.roles import CUSTOMER_ROLES, VENDOR_ROLES, Role
from portal.catalog import service as catalog
from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow
from portal.formatting import localtime_in, money, money_in, reader_locale, viewer_timezone
from portal.formatting import number as format_number
from portal.htmx import render_page
from portal.params import database_int
from portal.security import requires

from . import exports, order_page, service
from . import quick_order as order_lines
from .forms import CheckoutForm, DecisionForm, PasteForm
from .models import ORDER_STATUS_LABELS, order_status_texts

bp = Blueprint("ordering", __name__)

PAD_ROWS = 10
MAX_UPLOAD_BYTES = 1024 * 1024
ORDER_VIEWERS = tuple(CUSTOMER_ROLES | VENDOR_ROLES)


def _today() -> date:
    # The buyer's account's day (prices valid today, requested dates, what is due);
    # vendor staff act on the vendor's day (portal.days holds the rule).
    return days.user_today(current_user)


def _cart_name() -> str:
    """The cart this request fills: the user's own, or, in a PunchOut session, the
    session's cart kept apart from it (portal.cxml.routes sets `g.cart_name` for the
    session's requests; ordering never reads PunchOut state itself)."""
    return g.get("cart_name", service.OWN_CART)


# --- quick order ---------------------------------------------------------------------


@bp.route("/order", methods=["GET", "POST"])
@requires(Role.BUYER)
def quick_order():
    """Type rows, paste lines or upload a file; every line is checked before the cart."""
    form = PasteForm()
    checked = None
    plan_notices = {}
    owned = {}
    error = None
    if request.method == "POST" and form.validate():
        try:
            lines = _requested_lines(form)
        except ValueError as problem:  # TooManyLines and SpreadsheetError are ValueErrors
            error = str(problem)
        else:
            if lines:
                checked = order_lines.check(lines, current_user.account_id, _today())
                plan_notices = _plan_notices(checked)
                owned = _ownership(checked)
            else:
                error = _("There was nothing to check: type a SKU and a quantity, or paste lines.")
    elif form.errors:
        error = "; ".join(str(e) for errors in form.errors.values() for e in errors)
    return render_page(
        "ordering/quick_order.html",
        "review",
        form=form,
        checked=checked,
        plan_notices=plan_notices,
        owned=owned,
        # Read only for checked lines: the empty pad shows no cost of ownership.
        ownership_terms=_ownership_terms() if owned else None,
        error=error,
        pad_rows=range(PAD_ROWS),
        status=422 if error else 200,
    )


def _plan_notices(checked) -> dict:
    """Shared plans that affect the checked lines' products (one query for all of them)."""
    from portal.plans import service as plans

    return plans.notices_for(
        current_user, [line.product_to_add.id for line in checked if line.product_to_add], _today()
    )


def _ownership(checked) -> dict:
    """The cost of ownership of the checked lines' equipment and products with running
    costs, at the account's prices (a fixed number of queries for all of them)."""
    from portal.equipment import ownership

    products = {
        line.product_to_add.id: line.product_to_add for line in checked if line.product_to_add
    }
    found = ownership.ownership_for(
        current_user.account_id, list(products.values()), _today(), now=utcnow()
    )
    return {
        pid: po for pid, po in found.items() if po.is_equipment or po.ownership.has_running_costs
    }


def _ownership_terms():
    from portal.equipment import ownership

    return ownership.terms_of(current_user.account_id)


def _requested_lines(form: PasteForm) -> list[order_lines.RequestedLine]:
    upload = form.upload.data
    if upload and upload.filename:
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise ValueError(_("The file is larger than 1 MB; split it into smaller files."))
        return order_lines.read_upload(data)
    if form.paste.data and form.paste.data.strip():
        return order_lines.parse_paste(form.paste.data)
    skus = request.form.getlist("sku")[: PAD_ROWS * 5]
    quantities = request.form.getlist("qty")[: PAD_ROWS * 5]
    return order_lines.rows_to_lines(list(zip(skus, quantities, strict=False)))


@bp.get("/order/row")
@requires(Role.BUYER)
def pad_row():
    """One row of the pad, re-rendered with the product, price and line total."""
    index = max(0, min(request.args.get("n", 0, type=database_int), PAD_ROWS * 5))
    sku = request.args.get("sku", "")[:64]
    qty = request.args.get("qty", "")[:12]
    line = None
    if sku.strip():
        lines = order_lines.rows_to_lines([(sku, qty or "1")])
        line = order_lines.check(lines, current_user.account_id, _today())[0]
    return render_page(
        "ordering/quick_order.html",
        "pad_row_info",
        n=index,
        sku=sku,
        qty=qty,
        line=line,
        plan_notices=_plan_notices([line]) if line else {},
        form=PasteForm(),
        checked=None,
        error=None,
        pad_rows=range(PAD_ROWS),
    )


@bp.get("/order/suggest")
@requires(Role.BUYER)
def suggest():
    """Suggestions while typing a SKU: SKU prefix first, then words."""
    prefix = request.args.get("sku", "").strip()[:64]
    products = catalog.suggest(prefix) if len(prefix) >= 2 else []
    today = _today()
    return render_page(
        "ordering/quick_order.html",
        "suggestions",
        products=products,
        prices=catalog.price_lists(current_user.account_id, products, today),
        availability={p.id: catalog.availability(p, 1, today) for p in products},
        form=PasteForm(),
        checked=None,
        error=None,
        pad_rows=range(PAD_ROWS),
    )


@bp.post("/order/accept")
@requires(Role.BUYER)
def accept():
    """Put the lines the buyer accepted into the cart."""
    items = []
    for index in request.form.getlist("add")[: order_lines.MAX_LINES]:
        product_id = request.form.get(f"product-{index}", type=database_int)
        quantity = request.form.get(f"quantity-{index}", type=database_int)
        if product_id is None or quantity is None:
            abort(400)
        items.append((product_id, quantity))
    if not items:
        flash(_("No lines were chosen; nothing was added to the cart."), "info")
        return redirect(url_for("ordering.quick_order"), code=303)
    try:
        service.add_to_cart(current_user, items, _cart_name())
    except DomainError as error:
        db.session.rollback()
        flash(_("Nothing was added: %(problem)s", problem=error.message), "error")
        return redirect(url_for("ordering.quick_order"), code=303)
    flash(
        ngettext("%(num)d line added to the cart.", "%(num)d lines added to the cart.", len(items)),
        "success",
    )
    return redirect(url_for("ordering.cart"), code=303)


# --- cart ------------------------------------------------------------------------------


@bp.get("/cart")
@requires(Role.BUYER)
def cart():
    """The cart at today's prices, editable in place."""
    return render_page(
        "ordering/cart.html",
        "cart",
        cart=service.cart(current_user, _today(), _cart_name()),
        error=None,
    )


@bp.post("/cart/lines/<int:line_id>")
@requires(Role.BUYER)
def cart_line(line_id: int):
    """Change a line's quantity, or remove it; htmx gets the cart block back."""
    error = None
    try:
        if request.form.get("remove"):
            service.remove_from_cart(current_user, line_id, _cart_name())
        else:
            service.set_cart_quantity(
                current_user,
                line_id,
                request.form.get("quantity", type=database_int),
                _cart_name(),
            )
    except NotFound:
        abort(404)
    except DomainError as problem:
        db.session.rollback()
        error = problem.message
    current = service.cart(current_user, _today(), _cart_name())
    if error and not request.headers.get("HX-Request"):
        flash(error, "error")
    if not request.headers.get("HX-Request"):
        return redirect(url_for("ordering.cart"), code=303)
    return render_page("ordering/cart.html", "cart", cart=current, error=error)


# --- saved lists ------------------------------------------------------------------------


@bp.get("/lists")
@requires(Role.BUYER)
def lists():
    """The account's saved lists: standard orders the buyers share."""
    return render_page("ordering/lists.html", "lists", lists=service.saved_lists(current_user))


@bp.post("/cart/save")
@requires(Role.BUYER)
def save_cart():
    """Save the cart under a name."""
    try:
        saved = service.save_cart_as_list(current_user, request.form.get("name", ""))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("ordering.cart"), code=303)
    flash(_("Saved the cart as “%(name)s”.", name=saved.name), "success")
    return redirect(url_for("ordering.lists"), code=303)


def _list_or_404(list_id: int):
    try:
        return service.saved_list_for(current_user, list_id)
    except NotFound:
        abort(404)


@bp.post("/lists/<int:list_id>/load")
@requires(Role.BUYER)
def load_list(list_id: int):
    """Add a saved list's lines to the cart."""
    saved = _list_or_404(list_id)
    try:
        added, left_out = service.load_list(current_user, saved)
    except DomainError as error:
        db.session.rollback()
        flash(_("Nothing was added: %(problem)s", problem=error.message), "error")
        return redirect(url_for("ordering.lists"), code=303)
    flash(
        ngettext(
            "%(num)d line of “%(name)s” added to the cart.",
            "%(num)d lines of “%(name)s” added to the cart.",
            added,
            name=saved.name,
        ),
        "success",
    )
    for sku in left_out:
        flash(_("%(sku)s is no longer sold and was left out.", sku=sku), "error")
    return redirect(url_for("ordering.cart"), code=303)


@bp.post("/lists/<int:list_id>/delete")
@requires(Role.BUYER)
def delete_list(list_id: int):
    saved = _list_or_404(list_id)
    service.delete_list(current_user, saved)
    flash(_("List “%(name)s” deleted.", name=saved.name), "success")
    return redirect(url_for("ordering.lists"), code=303)


# --- checkout ----------------------------------------------------------------------------


@bp.route("/checkout", methods=["GET", "POST"])
@requires(Role.BUYER)
def checkout():
    """PO number, delivery address and date; the lines with totals and ship dates; place."""
    today = _today()
    current = service.cart(current_user, today)
    if current.is_empty and request.method == "GET":
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("ordering.quick_order"))
    form = CheckoutForm()
    addresses = service.delivery_addresses(current_user)
    form.ship_to_id.choices = [SelectChoice(a.id, f"{a.label} — {a.one_line}") for a in addresses]
    earliest = service.earliest_delivery(current, today)
    po_warning = None
    if form.po_number.data:
        used = service.po_number_used(current_user, form.po_number.data)
        if used:
            po_warning = _(
                "PO number %(po)s was already used on order %(number)s.",
                po=used.po_number,
                number=used.number,
            )
    if form.validate_on_submit():
        try:
            order, created = service.place_order(
                current_user,
                po_number=form.po_number.data,
                ship_to_id=form.ship_to_id.data,
                requested_date=form.requested_date.data,
                notes=form.notes.data or "",
                idempotency_key=form.idempotency_key.data or "",
                today=today,
            )
        except DomainError as error:
            db.session.rollback()
            current = service.cart(current_user, today)  # as it is now, after the rollback
            error.attach_to(form)
        else:
            if created:
                if order.status == "awaiting_approval":
                    placed = _(
                        "Order %(number)s placed. It waits for your approver.", number=order.number
                    )
                else:
                    placed = _("Order %(number)s placed.", number=order.number)
                flash(placed, "success")
            return redirect(url_for("ordering.order", number=order.number), code=303)
    return render_page(
        "ordering/checkout.html",
        "form",
        form=form,
        cart=current,
        earliest=earliest,
        po_warning=po_warning,
        status=422 if form.errors or form.form_errors else 200,
    )


# --- orders ------------------------------------------------------------------------------


def _filters() -> service.OrderFilter:
    args = request.args
    status = args.get("status", "")
    return service.OrderFilter(
        status=status if status in ORDER_STATUS_LABELS else "",
        po_number=args.get("po", "")[:50],
        sku=args.get("sku", "")[:64],
        q=args.get("q", "")[:100],
        placed_from=_date_arg("from"),
        placed_to=_date_arg("to"),
    )


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.get("/orders")
@requires(*ORDER_VIEWERS)
def orders():
    """Order history with filters; customers see their account's, vendor staff all."""
    filters = _filters()
    page = max(1, request.args.get("page", 1, type=database_int))
    found, total = service.order_list(current_user, filters, limit=50, offset=(page - 1) * 50)
    statuses = order_status_texts()
    return render_page(
        "ordering/orders.html",
        "results",
        orders=_order_rows(found, statuses),
        total=total,
        filters=filters,
        statuses=statuses,
        page=page,
        pages=max(1, -(-total // 50)),
    )


class OrderRow(NamedTuple):
    """An order as the order list writes it, its texts made here once per view: a link,
    a date and an amount per row through template calls and filters each cost more."""

    url: str
    number: str
    placed: str
    account_name: str
    po_number: str
    status: str
    status_text: str
    total: str
    placed_by_name: str


def _order_rows(found: list, statuses: dict[str, str]) -> list[OrderRow]:
    zone, locale = viewer_timezone(), reader_locale()
    return [
        OrderRow(
            url_for("ordering.order", number=o.number),
            o.number,
            localtime_in(o.placed_at, zone, locale, "%d %b %Y"),
            o.account_name,
            o.po_number,
            o.status,
            statuses[o.status],
            money_in(o.total, o.currency, locale),
            o.placed_by_name,
        )
        for o in found
    ]


@bp.get("/orders/export.<any(csv, xlsx):fmt>")
@requires(*ORDER_VIEWERS)
def export_orders(fmt: str):
    """The filtered order list as CSV (UTF-8 with BOM, so spreadsheets read it right) or
    XLSX. Text that a spreadsheet would run as a formula is neutralised."""
    found, _ = service.orders(current_user, _filters(), limit=10_000)
    content, mimetype, name = exports.orders_file(found, fmt, viewer_timezone())
    return Response(
        content, mimetype=mimetype, headers={"Content-Disposition": f"attachment; filename={name}"}
    )


def _order_or_404(number: str):
    try:
        return service.order_for(current_user, number)
    except NotFound:
        abort(404)


@bp.get("/orders/<number>")
@requires(*ORDER_VIEWERS)
def order(number: str):
    """One order: lines with expected dates, and the timeline of everything so far.

    Promises, shipments and cancellation requests come from the areas that
    registered a part of this page (`order_page`): ordering imports none of them."""
    found = _order_or_404(number)
    # Whether a promise is due or late is judged on the account's day, whoever reads.
    zone = days.account_zone(found.account)
    today = days.day_in(zone)
    events = service.timeline(found)
    return render_page(
        "ordering/order.html",
        "content",
        order=found,
        events=events,
        # Only an order awaiting approval shows the form: building it cost every view.
        decision_form=DecisionForm() if found.status == "awaiting_approval" else None,
        today=today,
        zone_note=days.zone_note(zone),
        origins=order_page.origins(found, current_user),
        **order_page.parts(found, today, events),
    )


@bp.post("/orders/<number>/cancel", defaults={"line_id": None})
@bp.post("/orders/<number>/lines/<int:line_id>/cancel")
@requires(Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN)
def cancel(number: str, line_id: int | None):
    """Cancel the order or one line, until the vendor confirms it."""
    found = _order_or_404(number)
    try:
        service.cancel(current_user, found, line_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(
            _("Line cancelled.")
            if line_id
            else _("Order %(number)s cancelled.", number=found.number),
            "success",
        )
    return redirect(url_for("ordering.order", number=number), code=303)


@bp.post("/orders/<number>/decision")
@requires(Role.APPROVER)
def decision(number: str):
    """An approver approves or rejects an order above the account's limit."""
    found = _order_or_404(number)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    approve = request.form.get("decision") == "approve"
    try:
        service.decide(current_user, found, approve=approve, comment=form.comment.data or "")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(
            _("Order %(number)s approved.", number=found.number)
            if approve
            else _("Order %(number)s rejected.", number=found.number),
            "success",
        )
    return redirect(url_for("ordering.order", number=number), code=303)


@bp.post("/orders/<number>/reorder")
@requires(Role.BUYER)
def reorder(number: str):
    """Add an earlier order's lines to the cart at today's prices, saying what changed."""
    found = _order_or_404(number)
    try:
        result = service.reorder(current_user, found, _today())
    except DomainError as error:
        db.session.rollback()
        flash(_("Nothing was added: %(problem)s", problem=error.message), "error")
        return redirect(url_for("ordering.order", number=number), code=303)
    if result.added:
        flash(
            ngettext(
                "%(num)d line of order %(number)s added to the cart at today's prices.",
                "%(num)d lines of order %(number)s added to the cart at today's prices.",
                result.added,
                number=found.number,
            ),
            "success",
        )
    for sku, then, now in result.price_changes:
        flash(
            _(
                "%(sku)s: the price changed from %(then)s to %(now)s.",
                sku=sku,
                then=money(then),
                now=money(now),
            ),
            "info",
        )
    for sku, then, now in result.rounded:
        flash(
            _(
                "%(sku)s: %(then)s is no longer an orderable quantity; %(now)s was added.",
                sku=sku,
                then=format_number(then),
                now=format_number(now),
            ),
            "info",
        )
    for sku in result.not_sold:
        flash(_("%(sku)s is no longer sold and was left out.", sku=sku), "error")
    return redirect(url_for("ordering.cart"), code=303)
