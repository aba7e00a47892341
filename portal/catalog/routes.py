"""Browsing and searching the catalog at the viewer's own prices."""

from datetime import date
from typing import NamedTuple

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal import days, spreadsheets
from portal.accounts.models import CustomerAccount
from portal.accounts.roles import Role
from portal.errors import DomainError
from portal.extensions import db, utcnow
from portal.formatting import money, money_in, reader_locale
from portal.htmx import render_page
from portal.params import database_int
from portal.security import get_scoped_or_404, requires

from . import admin, service
from .forms import OTHER_PRICE_FIELD, ContractPriceForm, ImportForm, product_form_class
from .models import ContractPrice, Product

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _today() -> date:
    # The customer's day for its prices, promises and months; vendor staff's: the
    # vendor's (portal.days holds the rule).
    return days.user_today(current_user)


@bp.get("")
def index():
    """Search by SKU prefix or words, browse by category; prices are the viewer's account's."""
    q = request.args.get("q", "").strip()[:100]
    category_id = request.args.get("category", type=database_int)
    page = max(1, request.args.get("page", 1, type=database_int))
    page_size = min(
        MAX_PAGE_SIZE, max(1, request.args.get("page_size", PAGE_SIZE, type=database_int))
    )
    found = service.listing(q, category_id, limit=page_size, offset=(page - 1) * page_size)
    today = _today()
    return render_page(
        "catalog/index.html",
        "results",
        products=_listed_rows(found.products, today),
        total=found.total,
        q=q,
        category=found.category,
        categories=found.categories,
        page=page,
        pages=max(1, -(-found.total // page_size)),
    )


class ListedRow(NamedTuple):
    """A product as the catalog's list writes it, its texts made here once per view:
    fifty rows of template calls, filters and properties each cost more than this."""

    url: str
    sku: str
    name: str
    is_discontinued: bool
    category_name: str
    ownership: str | None  # "ownership 1,234.00 EUR/year", None without a yearly cost
    unit: str
    pack: str | None  # "pack of 10", None for single pieces
    price: str | None  # the price for one, None when there is none in the currency
    missing_price: str | None  # why there is none
    contract: str | None  # "contract" or "contract, breaks"; None at list price
    availability: str


def _listed_rows(products: list[service.Listed], today: date) -> list[ListedRow]:
    prices = service.price_lists(current_user.account_id, products, today)
    availability = service.availability_texts(products, today)
    locale = reader_locale()
    contract, contract_breaks = _("contract"), _("contract, breaks")
    rows = []
    for p in products:
        price = prices[p.id]
        from_price = price.from_price
        yearly = p.yearly_cost_of_ownership
        rows.append(
            ListedRow(
                url_for("catalog.product", product_id=p.id),
                p.sku,
                p.name,
                p.is_discontinued,
                p.category_name,
                _("ownership %(amount)s/year", amount=money(yearly)) if yearly else None,
                p.unit,
                _("pack of %(size)s", size=p.pack_size) if p.pack_size > 1 else None,
                None if from_price is None else money_in(from_price, price.currency, locale),
                price.missing_price_message if from_price is None else None,
                (contract_breaks if len(price.breaks) > 1 else contract)
                if price.is_contract
                else None,
                availability[p.id],
            )
        )
    return rows


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    """One product: price breaks, availability, cost of ownership, replacement if discontinued."""
    found = service.product_with_stock(product_id)
    if found is None:
        abort(404)
    today = _today()
    quantity = max(
        1, min(request.args.get("qty", found.min_order_qty, type=database_int) or 1, 10**6)
    )
    replacement = service.find_by_sku(found.replacement_sku) if found.replacement_sku else None
    from portal.equipment import ownership
    from portal.plans import service as plans

    return render_page(
        "catalog/product.html",
        "content",
        product=found,
        replacement=replacement,
        plan_notices=plans.notices_for(current_user, [found.id], today).get(found.id, []),
        prices=service.price_list(current_user.account_id, found, today),
        quantity=quantity,
        availability=service.availability(found, quantity, today),
        owned=ownership.ownership_for(current_user.account_id, [found], today, now=utcnow())[
            found.id
        ],
        ownership_terms=ownership.terms_of(current_user.account_id),
    )


# --- keeping the catalog (vendor admin) ------------------------------------------------


@bp.route("/products/new", methods=["GET", "POST"], defaults={"product_id": None})
@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit_product(product_id: int | None):
    """Create a product or change one, with its stock on hand."""
    product = None
    if product_id is not None:
        product = db.session.get(Product, product_id) or abort(404)
    initial = None
    if product is not None:
        # A dict, not obj=product: WTForms lets obj win, and product.category is an
        # object where the form wants its name.
        initial = {name: getattr(product, name) for name in admin.PRODUCT_ATTRIBUTES}
        initial |= {
            "category": product.category.name,
            "on_hand": product.stock.on_hand if product.stock else 0,
        }
        initial |= {OTHER_PRICE_FIELD.format(p.currency): p.amount for p in product.other_prices}
    others = service.other_currencies()
    form = product_form_class(others)(data=initial)
    if form.validate_on_submit():
        values = {name: form[name].data for name in admin.PRODUCT_FIELDS}
        values["other_prices"] = {c: form[OTHER_PRICE_FIELD.format(c)].data for c in others}
        values["replacement_sku"] = values["replacement_sku"] or None
        values["description"] = values["description"] or ""
        try:
            product = admin.save_product(current_user, product, values)
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Product %(sku)s saved.", sku=product.sku), "success")
            return redirect(url_for("catalog.product", product_id=product.id), code=303)
    return render_page(
        "catalog/product_form.html",
        "form",
        form=form,
        product=product,
        category_names=[c.name for c, _ in service.categories()],
        other_price_fields=[form[OTHER_PRICE_FIELD.format(c)] for c in others],
        status=422 if form.errors or form.form_errors else 200,
    )


@bp.route("/import", methods=["GET", "POST"])
@requires(Role.ADMIN)
def import_products():
    """Create and update products, or contract prices, from a CSV or XLSX file: every
    row or none, with every bad row named."""
    form = ImportForm()
    problems, result, error = [], None, None
    if form.validate_on_submit():
        upload = form.upload.data
        data = upload.read(5 * 1024 * 1024 + 1) if upload and upload.filename else b""
        try:
            if not data.strip():
                raise spreadsheets.SpreadsheetError(_("Choose a file: it is missing or empty."))
            if len(data) > 5 * 1024 * 1024:
                raise spreadsheets.SpreadsheetError(_("The file is larger than 5 MB."))
            rows = spreadsheets.read_rows(data)
            importer = (
                admin.import_contract_prices
                if form.kind.data == "prices"
                else admin.import_products
            )
            result = importer(current_user, rows)
        except admin.ImportRefused as refused:
            db.session.rollback()
            error, problems = refused.message, refused.problems
        except (spreadsheets.SpreadsheetError, DomainError) as refused:
            db.session.rollback()
            error = str(refused) if isinstance(refused, ValueError) else refused.message
    elif form.errors:
        error = "; ".join(
            f"{form[name].label.text}: {' '.join(map(str, messages))}"
            for name, messages in form.errors.items()
            if name in form
        )
    return render_page(
        "catalog/import.html",
        "result",
        form=form,
        problems=problems,
        result=result,
        error=error,
        status=422 if error else 200,
    )


@bp.get("/prices/<int:account_id>")
def prices(account_id: int):
    """An account's contract prices, for its own users and for vendor staff."""
    account = get_scoped_or_404(CustomerAccount, account_id, current_user)
    return _prices_page(account, ContractPriceForm())


def _prices_page(account: CustomerAccount, form: ContractPriceForm):
    rows = admin.contract_prices(account)
    return render_page(
        "catalog/prices.html",
        "content",
        account=account,
        rows=rows,
        form=form,
        can_edit=current_user.is_vendor_staff and current_user.has_role(Role.ADMIN),
        # Which breaks apply today: the account's day, whoever reads.
        today=days.account_today(account),
        zone_note=days.zone_note(days.account_zone(account)),
        status=422 if form.errors else 200,
    )


@bp.post("/prices/<int:account_id>/add")
@requires(Role.ADMIN)
def add_price(account_id: int):
    """A vendor admin adds one quantity break of the account's agreed price."""
    account = get_scoped_or_404(CustomerAccount, account_id, current_user)
    form = ContractPriceForm()
    if form.validate_on_submit():
        try:
            admin.add_contract_price(
                current_user,
                account,
                sku=form.sku.data,
                min_quantity=form.min_quantity.data,
                unit_price=form.unit_price.data,
                valid_from=form.valid_from.data,
                valid_until=form.valid_until.data,
            )
        except DomainError as error:
            db.session.rollback()
            error.attach_to(form)
        else:
            flash(_("Contract price added."), "success")
            return redirect(url_for("catalog.prices", account_id=account.id), code=303)
    return _prices_page(account, form)


@bp.post("/prices/<int:account_id>/<int:price_id>/delete")
@requires(Role.ADMIN)
def delete_price(account_id: int, price_id: int):
    price = get_scoped_or_404(ContractPrice, price_id, current_user)
    if price.account_id != account_id:
        abort(404)
    admin.remove_contract_price(current_user, price)
    flash(_("Contract price removed."), "success")
    return redirect(url_for("catalog.prices", account_id=account_id), code=303)
