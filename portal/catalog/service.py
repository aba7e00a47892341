"""What a buyer sees for a product: the price that the order line will carry,
what to expect about delivery, and finding products by SKU or by words.

Plain functions with explicit arguments: the account whose contract applies
and the day it applies on are always passed in.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from operator import attrgetter
from typing import NamedTuple

from babel.numbers import get_currency_precision
from flask import current_app
from flask_babel import gettext, ngettext
from sqlalchemy import Date, Integer, Row, String, and_, bindparam, func, or_, select, text, union
from sqlalchemy.orm import joinedload

from portal.accounts import service as accounts
from portal.accounts.models import CustomerAccount
from portal.errors import DomainError
from portal.extensions import db
from portal.formatting import day, number

from .models import Category, ContractPrice, Product, ProductPrice, Stock, sku_key

# --- prices ------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceBreak:
    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class PriceList:
    """The prices one account pays for one product on one day, in the account's currency."""

    list_price: Decimal | None  # None: the product has no list price in `currency`
    breaks: tuple[PriceBreak, ...]  # contract breaks, ascending; empty: list price
    currency: str

    @property
    def is_contract(self) -> bool:
        return bool(self.breaks)

    def unit_price(self, quantity: int) -> Decimal | None:
        """The unit price an order line of `quantity` carries; None when no contract
        break covers it and there is no list price in the account's currency."""
        price = self.list_price
        for price_break in self.breaks:
            if price_break.min_quantity <= quantity:
                price = price_break.unit_price
        return price

    @property
    def from_price(self) -> Decimal | None:
        """The price for the smallest quantity: what a list shows first."""
        return self.unit_price(1)

    @property
    def has_list_price(self) -> bool:
        return self.list_price is not None

    @property
    def missing_price_message(self) -> str:
        """What a buyer reads where a price in their currency is missing."""
        return gettext(
            "No list price in %(currency)s: ask your account manager.", currency=self.currency
        )


class NoPrice(DomainError):
    """A product the account cannot order at list price: none in its currency."""


def no_price_error(product: Product, currency: str) -> NoPrice:
    return NoPrice(
        gettext(
            "%(sku)s has no price in %(currency)s, so it cannot be ordered at list price. "
            "Ask your account manager for a price.",
            sku=product.sku,
            currency=currency,
        )
    )


def currency_digits(currency: str) -> int:
    """Decimals an amount in `currency` may carry: 2 for euro, 0 for rupiah (CLDR's
    figure, capped at the two that the Money columns keep)."""
    return min(2, get_currency_precision(currency))


def amount_problem(amount: Decimal | None, currency: str) -> str | None:
    """Why `amount` is no price in `currency` (too many decimals), or None; a clause
    without a full stop, as the import's row problems are. Rupiah are whole: an IDR
    price with decimals is refused, not rounded silently."""
    if amount is None:
        return None
    digits = currency_digits(currency)
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        if digits == 0:
            return gettext(
                "%(currency)s prices are whole amounts: %(amount)s has decimals",
                currency=currency,
                amount=str(amount),
            )
        return gettext(
            "%(currency)s prices have at most %(digits)d decimals: %(amount)s has more",
            currency=currency,
            digits=digits,
            amount=str(amount),
        )
    return None


def currencies() -> tuple[str, ...]:
    """The currencies an account may be priced in, the base currency first."""
    return accounts.currency_choices()


def other_currencies() -> tuple[str, ...]:
    """Currencies a product may have list prices in besides `list_price` (the base one)."""
    return currencies()[1:]


def base_currency() -> str:
    """The vendor's base currency: what `Product.list_price` is in."""
    return current_app.config["CURRENCY"]


def account_currency(account_id: int | None) -> str:
    """The currency an account is priced in; vendor staff browse in the base currency.
    Reads the session's identity map first: the signed-in user's account is there."""
    if account_id is None:
        return base_currency()
    account = db.session.get(CustomerAccount, account_id)
    return account.currency if account is not None else base_currency()


def list_prices(products: list[Product], currency: str) -> dict[int, Decimal | None]:
    """Each product's list price in `currency` (None where it has none), one query at most."""
    if currency == base_currency():
        return {p.id: p.list_price for p in products}
    found: dict[int, Decimal | None] = {p.id: None for p in products}
    if products:
        rows = db.session.execute(
            select(ProductPrice.product_id, ProductPrice.amount).where(
                ProductPrice.currency == currency,
                ProductPrice.product_id.in_([p.id for p in products]),
            )
        )
        found.update({product_id: amount for product_id, amount in rows})
    return found


def price_lists(account_id: int | None, products: list[Product], on: date) -> dict[int, PriceList]:
    """Prices for many products in the account's currency, in two queries at most
    (no query per product).

    `account_id` None (vendor staff browsing) gives list prices in the base
    currency. When agreements overlap, the one that started last wins; contract
    prices agreed in another currency than the account's present one do not apply.
    """
    currency = account_currency(account_id)
    breaks: dict[int, dict[date, list[PriceBreak]]] = defaultdict(lambda: defaultdict(list))
    if account_id is not None and products:
        # Plain columns: through the session's connection, as `_rows`.
        rows = db.session.connection().execute(
            _contract_prices(),
            {
                "account_id": account_id,
                "product_ids": [p.id for p in products],
                "currency": currency,
                "on": on,
            },
        )
        for product_id, valid_from, min_quantity, unit_price in rows:
            breaks[product_id][valid_from].append(PriceBreak(min_quantity, unit_price))
    listed = list_prices(products, currency)
    result = {}
    for product in products:
        agreements = breaks.get(product.id)
        current = tuple(sorted(agreements[max(agreements)], key=_by_quantity)) if agreements else ()
        result[product.id] = PriceList(listed[product.id], current, currency)
    return result


_by_quantity = attrgetter("min_quantity")


@cache
def _contract_prices():
    """price_lists' statement, built once per process (the catalog, the cart and the
    quick order price every view): building it and its cache key cost a third of it."""
    on = bindparam("on", type_=Date)
    return select(
        ContractPrice.product_id,
        ContractPrice.valid_from,
        ContractPrice.min_quantity,
        ContractPrice.unit_price,
    ).where(
        ContractPrice.account_id == bindparam("account_id", type_=Integer),
        ContractPrice.product_id.in_(bindparam("product_ids", expanding=True)),
        ContractPrice.currency == bindparam("currency", type_=String),
        ContractPrice.valid_from <= on,
        or_(ContractPrice.valid_until.is_(None), ContractPrice.valid_until >= on),
    )


def price_list(account_id: int | None, product: Product, on: date) -> PriceList:
    return price_lists(account_id, [product], on)[product.id]


# --- availability ------------------------------------------------------------------


@dataclass(frozen=True)
class Availability:
    """What to expect when ordering `quantity` today."""

    quantity: int
    from_stock: int
    ships_from_stock_on: date | None
    rest_ships_about: date | None
    # The day it was worked out for: "ships in N days" counts from it, not from
    # the clock (which, near midnight, is already another day).
    today: date

    @property
    def summary(self) -> str:
        """One line for the quick order, cart and checkout, in the reader's language."""
        if self.rest_ships_about is None:
            days = (self.ships_from_stock_on - self.today).days if self.ships_from_stock_on else 0
            return ngettext(
                "In stock, ships in %(num)d day", "In stock, ships in %(num)d days", days
            )
        if self.from_stock:
            return gettext(
                "%(quantity)s available now, the rest ships about %(date)s",
                quantity=number(self.from_stock),
                date=day(self.rest_ships_about),
            )
        return gettext("Ships about %(date)s", date=day(self.rest_ships_about))

    @property
    def in_stock(self) -> bool:
        return self.rest_ships_about is None


def availability(product: Product, quantity: int, today: date) -> Availability:
    """From stock if there is enough; beyond stock, from the product's lead time."""
    stock = product.stock
    return _availability(
        stock.available if stock else None, product.lead_time_days, quantity, today
    )


def _availability(
    in_stock: int | None, lead_time_days: int, quantity: int, today: date
) -> Availability:
    dispatch_days = current_app.config["DISPATCH_DAYS_FROM_STOCK"]
    available = max(0, in_stock) if in_stock is not None else 0
    quantity = max(1, quantity)
    from_stock = min(available, quantity)
    return Availability(
        quantity=quantity,
        from_stock=from_stock,
        ships_from_stock_on=today + timedelta(days=dispatch_days) if from_stock else None,
        rest_ships_about=(
            today + timedelta(days=max(lead_time_days, dispatch_days))
            if from_stock < quantity
            else None
        ),
        today=today,
    )


def availability_texts(products: list[Listed], today: date) -> dict[int, str]:
    """`availability(product, 1, today).summary` of each listed product, by id, each
    different answer written once: a page of fifty products has a handful ("In stock,
    ships in 1 day" for most), and each was translated and its date written again per
    row."""
    written: dict[int | None, str] = {}
    texts = {}
    for product in products:
        # For one piece, all that counts is whether one is in stock and, if not, the
        # lead time: the key of the texts already written (working each product's
        # Availability out first cost as much as the rest of the list).
        in_stock = product.available is not None and product.available > 0
        key = None if in_stock else product.lead_time_days
        text = written.get(key)
        if text is None:
            found = _availability(product.available, product.lead_time_days, 1, today)
            text = written[key] = found.summary
        texts[product.id] = text
    return texts


# --- finding products ---------------------------------------------------------------

WORD = re.compile(r"\w+", re.UNICODE)


def product_with_stock(product_id: int) -> Product | None:
    """One product with its stock and category, for its page."""
    return db.session.scalar(
        select(Product)
        .options(joinedload(Product.stock), joinedload(Product.category))
        .where(Product.id == product_id)
    )


def products_by_sku_key(keys) -> dict[str, Product]:
    """Products (with stock) for many SKU keys in one query, by key; unknown keys are absent."""
    keys = list(set(keys))
    if not keys:
        return {}
    return {
        p.sku_key: p
        for p in db.session.scalars(
            select(Product).options(joinedload(Product.stock)).where(Product.sku_key.in_(keys))
        )
    }


def find_by_sku(raw_sku: str) -> Product | None:
    return db.session.scalar(select(Product).where(Product.sku_key == sku_key(raw_sku)))


def ids_by_sku_prefix(q: str):
    """Ids of the products whose SKU starts with `q` (a range on the indexed key)."""
    key = sku_key(q)
    return select(Product.id).where(Product.sku_key >= key, Product.sku_key < key + "\uffff")


def _ids_by_words(words: list[str]):
    """Ids of products whose SKU, name or description hold every word (as a prefix)."""
    if db.engine.dialect.name == "postgresql":
        # The same expression as the GIN index of migration 0002, so the index is used.
        document = func.to_tsvector(
            text("'simple'"), Product.sku + " " + Product.name + " " + Product.description
        )
        tsquery = " & ".join(f"{w}:*" for w in words)
        return select(Product.id).where(
            document.op("@@")(func.to_tsquery(text("'simple'"), tsquery))
        )
    fts_query = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    return (
        select(text("rowid"))
        .select_from(text("product_search"))
        .where(text("product_search MATCH :fts"))
        .params(fts=fts_query)
    )


def _matching_ids(q: str, words: list[str]):
    """Ids of products whose SKU starts with `q` or whose text holds every word.

    A UNION of two indexed look-ups (the SKU key's range, the full-text index):
    an OR of the two in one WHERE would make both databases scan every product.
    """
    return union(ids_by_sku_prefix(q), _ids_by_words(words)) if words else ids_by_sku_prefix(q)


def search(
    q: str = "",
    *,
    category_id: int | None = None,
    include_discontinued: bool = True,
    limit: int = 50,
    offset: int = 0,
    with_total: bool = True,
    listing: bool = False,
) -> tuple[list[Product], int | None]:
    """Products whose SKU starts with `q`, or whose SKU, name and description hold its words.

    SKU matches come first, each part in SKU order. Returns one page of products and the
    total count (None when `with_total` is false: suggestions need no count). `listing`:
    the page as `Listed` rows of what the catalog's list shows, not as products.
    """
    q = q.strip()
    if not q:
        # Browsing (the catalog as first opened, a category): statements built once.
        count, browse = _browsing(bool(category_id), include_discontinued, listing)
        values = {"category_id": category_id, "limit": limit, "offset": offset}
        total = db.session.scalar(count, values) if with_total else None
        return _rows(browse, values, listing), total
    base = _products(category_id if category_id else None, include_discontinued)
    with_rows = _shown(base, listing)
    words = [w.lower() for w in WORD.findall(q)][:8]
    key = sku_key(q)
    is_sku_match = and_(Product.sku_key >= key, Product.sku_key < key + "\uffff")
    total = _count(base.where(Product.id.in_(_matching_ids(q, words)))) if with_total else None
    # The SKU matches, then the other products that hold the words: two queries that
    # each read the SKU index in order and stop at the page. One query ordered by
    # "is it a SKU match" would sort every match of a common word ("Nylon": 15,000 of
    # 100,000 products) to show 50 of them.
    page = _page(with_rows.where(is_sku_match).order_by(Product.sku_key), limit, offset, listing)
    if len(page) == limit or not words:
        return page, total
    # How many word matches earlier pages showed: none while this page has SKU matches,
    # else the offset less every SKU match.
    skip = 0 if page or not offset else offset - _count(base.where(is_sku_match))
    word_ids = _ids_by_words(words)
    holds_words = Product.id.in_(word_ids)
    if _walk_the_sku_index(word_ids, skip + limit - len(page)):
        # "+ 0" keeps SQLite from reading the matches by id and sorting them: it walks
        # the SKU index in order instead and checks each id against the matches.
        holds_words = (Product.id + 0).in_(word_ids)
    page += _page(
        with_rows.where(holds_words, ~is_sku_match).order_by(Product.sku_key),
        limit - len(page),
        skip,
        listing,
    )
    return page, total


def _count(query) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery()))


def _products(category_id, include_discontinued: bool):
    """The products searched: all, or one category's (a value or a bound parameter)."""
    base = select(Product)
    if category_id is not None:
        base = base.where(Product.category_id == category_id)
    if not include_discontinued:
        base = base.where(Product.status == "active")
    return base


def _shown(base, listing: bool):
    """`base` as what the caller reads: `Listed` columns, or products with their stock
    and category."""
    if not listing:
        return base.options(joinedload(Product.stock), joinedload(Product.category))
    return (
        base.with_only_columns(*_LISTED)
        .join_from(Product, Category, Category.id == Product.category_id)
        .join_from(Product, Stock, Stock.product_id == Product.id, isouter=True)
    )


@cache
def _browsing(in_category: bool, include_discontinued: bool, listing: bool):
    """search's count and page without a query, the category, limit and offset bound."""
    base = _products(
        bindparam("category_id", type_=Integer) if in_category else None, include_discontinued
    )
    return select(func.count()).select_from(base.subquery()), (
        _shown(base, listing)
        .order_by(Product.sku_key)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
    )


def _page(query, limit: int, offset: int, listing: bool) -> list:
    return _rows(query.limit(limit).offset(offset), {}, listing)


def _rows(query, values: dict, listing: bool) -> list:
    if listing:
        # Plain columns, through the session's connection: the ORM's handling of a
        # statement's results is for objects (a fifth of this one's cost, each view).
        return [Listed(*row) for row in db.session.connection().execute(query, values)]
    return list(db.session.scalars(query, values))


class Listed(NamedTuple):
    """What the catalog's list shows of a product (`search(..., listing=True)`): read
    as plain columns, where fifty products with their stock and category loaded as
    objects cost more than the rest of the page. What `price_lists` and
    `availability_texts` read of a product is here too."""

    id: int
    sku: str
    name: str
    unit: str
    pack_size: int
    status: str
    list_price: Decimal
    lead_time_days: int
    yearly_service_cost: Decimal | None
    yearly_consumables_cost: Decimal | None
    category_name: str
    available: int | None  # None: the product has no stock row

    # The product's own rules, not a copy of them.
    is_discontinued = Product.is_discontinued
    yearly_cost_of_ownership = Product.yearly_cost_of_ownership


_LISTED = (
    Product.id,
    Product.sku,
    Product.name,
    Product.unit,
    Product.pack_size,
    Product.status,
    Product.list_price,
    Product.lead_time_days,
    Product.yearly_service_cost,
    Product.yearly_consumables_cost,
    Category.name,
    Stock.on_hand - Stock.reserved,
)


def _walk_the_sku_index(word_ids, rows: int) -> bool:
    """Whether to find the first `rows` products holding the words by walking the SKU
    index in order (SQLite only) rather than sorting every match.

    SQLite reads the matches from the full-text index and sorts them all, which costs
    in proportion to the matches; the walk stops after about rows × products / matches
    entries, fewer for a common word. Counting the matches is cheap in FTS5. PostgreSQL
    keeps statistics and chooses between the two plans itself.
    """
    if db.engine.dialect.name != "sqlite":
        return False
    matches = db.session.scalar(select(func.count()).select_from(word_ids.subquery()))
    if not matches:
        return False
    products = db.session.scalar(select(func.max(Product.id))) or 0  # ~ the count, in O(log n)
    return rows * products / matches < matches


def suggest(prefix: str, limit: int = 8) -> list[Product]:
    """Quick suggestions while typing a SKU: prefix matches, then name words.

    Two small queries that each stop after `limit` rows (the SKU index is read
    in order), rather than one that sorts every match of a short prefix.
    """
    prefix = prefix.strip()
    key = sku_key(prefix)
    found = list(
        db.session.scalars(
            select(Product)
            .options(joinedload(Product.stock))
            .where(Product.sku_key >= key, Product.sku_key < key + "\uffff")
            .order_by(Product.sku_key)
            .limit(limit)
        )
    )
    words = [w.lower() for w in WORD.findall(prefix)][:8]
    if len(found) < limit and words:
        found += db.session.scalars(
            select(Product)
            .options(joinedload(Product.stock))
            .where(Product.id.in_(_ids_by_words(words)), Product.id.not_in([p.id for p in found]))
            .order_by(Product.sku_key)
            .limit(limit - len(found))
        )
    return found


@dataclass(frozen=True)
class Listing:
    """A page of the catalog's list: its products, how many match, the category asked
    for (None if none or unknown) and every category with its number of products."""

    products: list
    total: int
    category: Row | None
    categories: list[tuple[Row, int]]


def listing(q: str, category_id: int | None, *, limit: int, offset: int) -> Listing:
    """The catalog list's page (`search` with `listing`). The sidebar's category counts
    are read first: browsing (no words), the total is theirs (the category's, or all of
    them) and the category named is among them, where counting the products again and
    reading the category cost a statement each; a search counts its matches."""
    counted = categories()
    browsing = not q
    products, total = search(
        q,
        category_id=category_id,
        limit=limit,
        offset=offset,
        with_total=not browsing,
        listing=True,
    )
    category, in_category = next(
        ((c, count) for c, count in counted if category_id and c.id == category_id),
        (None, 0),
    )
    if browsing:
        total = in_category if category_id else sum(count for _c, count in counted)
    return Listing(products, total, category, counted)


def categories() -> list[tuple[Row, int]]:
    """Every category (its id and name, as a row) with its number of products, in display
    order; from a statement built once, its rows read as `_rows` reads them."""
    return [(row, row.products) for row in db.session.connection().execute(_categories())]


@cache
def _categories():
    # Each category's count read from the index on product.category_id, a category at
    # a time: twice as fast on SQLite as joining every product and grouping them.
    products = (
        select(func.count())
        .select_from(Product)
        .where(Product.category_id == Category.id)
        .scalar_subquery()
    )
    return select(Category.id, Category.name, products.label("products")).order_by(
        Category.position, Category.name
    )
