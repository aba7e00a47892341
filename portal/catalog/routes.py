"""Browsing and searching the catalog at the viewer's own prices."""

from datetime import date

from flask import Blueprint, abort, request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.extensions import db
from portal.htmx import render_page

from . import service
from .models import Category, Product

bp = Blueprint("catalog", __name__, url_prefix="/catalog")

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _today() -> date:
    return date.today()


@bp.get("")
def index():
    """Search by SKU prefix or words, browse by category; prices are the viewer's account's."""
    q = request.args.get("q", "").strip()[:100]
    category_id = request.args.get("category", type=int)
    page = max(1, request.args.get("page", 1, type=int))
    page_size = min(MAX_PAGE_SIZE, max(1, request.args.get("page_size", PAGE_SIZE, type=int)))
    products, total = service.search(
        q, category_id=category_id, limit=page_size, offset=(page - 1) * page_size
    )
    today = _today()
    prices = service.price_lists(current_user.account_id, products, today)
    availability = {p.id: service.availability(p, 1, today) for p in products}
    category = db.session.get(Category, category_id) if category_id else None
    return render_page(
        "catalog/index.html",
        "results",
        products=products,
        total=total,
        q=q,
        category=category,
        categories=service.categories(),
        prices=prices,
        availability=availability,
        page=page,
        pages=max(1, -(-total // page_size)),
    )


@bp.get("/products/<int:product_id>")
def product(product_id: int):
    """One product: price breaks, availability, cost of ownership, replacement if discontinued."""
    found = db.session.scalar(
        select(Product)
        .options(joinedload(Product.stock), joinedload(Product.category))
        .where(Product.id == product_id)
    )
    if found is None:
        abort(404)
    today = _today()
    quantity = max(1, min(request.args.get("qty", found.min_order_qty, type=int) or 1, 10**6))
    replacement = service.find_by_sku(found.replacement_sku) if found.replacement_sku else None
    return render_page(
        "catalog/product.html",
        "content",
        product=found,
        replacement=replacement,
        prices=service.price_list(current_user.account_id, found, today),
        quantity=quantity,
        availability=service.availability(found, quantity, today),
    )
