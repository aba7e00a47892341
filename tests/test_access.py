"""The access matrix: every endpoint, every role, anonymous, and another customer's user.

Each entry says who may reach a URL rule. A test walks `app.url_map` and fails
when a rule has no entry, so a new route cannot ship without one. Every entry
is then exercised: anonymous is sent to sign in, a missing role gets 403, and
a user of another customer account gets 404 for this account's objects
(that user holds every customer role, so the 404 can only come from scoping).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.extensions import db

from .support import DEMO_PASSWORD, Browserless

PUBLIC = "public"
SIGNED_IN = "signed in"
VENDOR = frozenset({"account_manager", "planner", "engineer", "fulfilment", "admin"})
ACME_CUSTOMERS = frozenset({"buyer", "approver", "customer_admin"})
ADMINS = frozenset({"admin", "customer_admin"})
BUYERS = frozenset({"buyer", "customer_admin"})

ACTORS = {
    "buyer": "buyer@acme.test",
    "approver": "approver@acme.test",
    "customer_admin": "admin@acme.test",
    "account_manager": "manager@vendor.test",
    "planner": "planner@vendor.test",
    "engineer": "engineer@vendor.test",
    "fulfilment": "fulfilment@vendor.test",
    "admin": "admin@vendor.test",
    "other_customer": "all-roles@globex.test",
}


@dataclass(frozen=True)
class Access:
    url: str  # with {acme}, {acme_address}, {acme_buyer} filled in per test
    allowed: str | frozenset[str]
    methods: tuple[str, ...] = ("GET",)
    # True when the URL names one account's object: another account's user gets 404.
    tenant: bool = False
    # The actor who owns the object (a cart line): others with the role get 404 too.
    owner: str | None = None


MATRIX: dict[tuple[str, str], Access] = {
    ("home.index", "/"): Access("/", SIGNED_IN),
    ("home.healthz", "/healthz"): Access("/healthz", PUBLIC),
    ("auth.login", "/login"): Access("/login", PUBLIC, ("GET", "POST")),
    ("auth.logout", "/logout"): Access("/logout", SIGNED_IN, ("POST",)),
    ("auth.change_password", "/password"): Access("/password", SIGNED_IN, ("GET", "POST")),
    ("accounts.index", "/accounts"): Access("/accounts", VENDOR),
    ("accounts.new", "/accounts/new"): Access(
        "/accounts/new", frozenset({"admin"}), ("GET", "POST")
    ),
    ("accounts.detail", "/accounts/<int:account_id>"): Access(
        "/accounts/{acme}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    ("accounts.edit", "/accounts/<int:account_id>/edit"): Access(
        "/accounts/{acme}/edit", frozenset({"admin"}), ("GET", "POST"), tenant=True
    ),
    ("accounts.address", "/accounts/<int:account_id>/addresses/new"): Access(
        "/accounts/{acme}/addresses/new",
        frozenset({"admin", "customer_admin"}),
        ("GET", "POST"),
        tenant=True,
    ),
    ("accounts.address", "/accounts/<int:account_id>/addresses/<int:address_id>/edit"): Access(
        "/accounts/{acme}/addresses/{acme_address}/edit",
        frozenset({"admin", "customer_admin"}),
        ("GET", "POST"),
        tenant=True,
    ),
    (
        "accounts.delete_address",
        "/accounts/<int:account_id>/addresses/<int:address_id>/delete",
    ): Access(
        "/accounts/{acme}/addresses/{acme_address}/delete",
        frozenset({"admin", "customer_admin"}),
        ("POST",),
        tenant=True,
    ),
    ("accounts.users", "/users"): Access("/users", frozenset({"admin", "customer_admin"})),
    ("accounts.new_user", "/users/new"): Access(
        "/users/new", frozenset({"admin", "customer_admin"}), ("GET", "POST")
    ),
    ("accounts.edit_user", "/users/<int:user_id>/edit"): Access(
        "/users/{acme_buyer}/edit",
        frozenset({"admin", "customer_admin"}),
        ("GET", "POST"),
        tenant=True,
    ),
    ("accounts.set_active", "/users/<int:user_id>/active"): Access(
        "/users/{acme_buyer}/active", frozenset({"admin", "customer_admin"}), ("POST",), tenant=True
    ),
    ("accounts.audit_log", "/audit"): Access("/audit", frozenset({"admin"})),
    # The catalog is the same for everyone; prices are the viewer's own (test_catalog.py).
    ("catalog.index", "/catalog"): Access("/catalog", SIGNED_IN),
    ("catalog.product", "/catalog/products/<int:product_id>"): Access(
        "/catalog/products/{product}", SIGNED_IN
    ),
    ("catalog.edit_product", "/catalog/products/new"): Access(
        "/catalog/products/new", frozenset({"admin"}), ("GET", "POST")
    ),
    ("catalog.edit_product", "/catalog/products/<int:product_id>/edit"): Access(
        "/catalog/products/{product}/edit", frozenset({"admin"}), ("GET", "POST")
    ),
    ("catalog.import_products", "/catalog/import"): Access(
        "/catalog/import", frozenset({"admin"}), ("GET", "POST")
    ),
    ("catalog.prices", "/catalog/prices/<int:account_id>"): Access(
        "/catalog/prices/{acme}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    ("catalog.add_price", "/catalog/prices/<int:account_id>/add"): Access(
        "/catalog/prices/{acme}/add", frozenset({"admin"}), ("POST",), tenant=True
    ),
    ("catalog.delete_price", "/catalog/prices/<int:account_id>/<int:price_id>/delete"): Access(
        "/catalog/prices/{acme}/{contract_price}/delete",
        frozenset({"admin"}),
        ("POST",),
        tenant=True,
    ),
    ("accounts.approval_limit", "/accounts/<int:account_id>/approval-limit"): Access(
        "/accounts/{acme}/approval-limit", ADMINS, ("POST",), tenant=True
    ),
    # The terminal is for buyers. The demo's customer admin is also a buyer.
    ("ordering.quick_order", "/order"): Access("/order", BUYERS, ("GET", "POST")),
    ("ordering.pad_row", "/order/row"): Access("/order/row?n=0&sku=TST-1&qty=2", BUYERS),
    ("ordering.suggest", "/order/suggest"): Access("/order/suggest?sku=TS", BUYERS),
    ("ordering.accept", "/order/accept"): Access("/order/accept", BUYERS, ("POST",)),
    ("ordering.cart", "/cart"): Access("/cart", BUYERS),
    ("ordering.cart_line", "/cart/lines/<int:line_id>"): Access(
        "/cart/lines/{cart_line}", BUYERS, ("POST",), tenant=True, owner="buyer"
    ),
    ("ordering.lists", "/lists"): Access("/lists", BUYERS),
    ("ordering.save_cart", "/cart/save"): Access("/cart/save", BUYERS, ("POST",)),
    ("ordering.load_list", "/lists/<int:list_id>/load"): Access(
        "/lists/{saved_list}/load", BUYERS, ("POST",), tenant=True
    ),
    ("ordering.delete_list", "/lists/<int:list_id>/delete"): Access(
        "/lists/{saved_list}/delete", BUYERS, ("POST",), tenant=True
    ),
    ("ordering.checkout", "/checkout"): Access("/checkout", BUYERS, ("GET", "POST")),
    ("ordering.orders", "/orders"): Access("/orders", VENDOR | ACME_CUSTOMERS),
    ("ordering.export_orders", "/orders/export.<any(csv, xlsx):fmt>"): Access(
        "/orders/export.xlsx", VENDOR | ACME_CUSTOMERS
    ),
    ("ordering.order", "/orders/<number>"): Access(
        "/orders/{order}", VENDOR | ACME_CUSTOMERS, tenant=True
    ),
    ("ordering.cancel", "/orders/<number>/cancel"): Access(
        "/orders/{order}/cancel", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    ("ordering.cancel", "/orders/<number>/lines/<int:line_id>/cancel"): Access(
        "/orders/{order}/lines/{order_line}/cancel", ACME_CUSTOMERS, ("POST",), tenant=True
    ),
    ("ordering.reorder", "/orders/<number>/reorder"): Access(
        "/orders/{order}/reorder", BUYERS, ("POST",), tenant=True
    ),
    ("ordering.decision", "/orders/<number>/decision"): Access(
        "/orders/{order}/decision", frozenset({"approver"}), ("POST",), tenant=True
    ),
}


def test_every_endpoint_has_an_access_entry(app):
    rules = {
        (rule.endpoint, rule.rule) for rule in app.url_map.iter_rules() if rule.endpoint != "static"
    }
    missing = sorted(rules - MATRIX.keys())
    stale = sorted(MATRIX.keys() - rules)
    assert not missing, f"add these to the access matrix: {missing}"
    assert not stale, f"these matrix entries match no route: {stale}"


def test_every_entry_lists_the_methods_the_route_accepts(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        accepted = set(rule.methods) - {"HEAD", "OPTIONS"}
        assert accepted == set(MATRIX[(rule.endpoint, rule.rule)].methods), rule.rule


CASES = [
    pytest.param(key, method, actor, id=f"{key[1]} {method} {actor}")
    for key, access in MATRIX.items()
    for method in access.methods
    for actor in ["anonymous", *ACTORS]
]


@pytest.fixture
def other_customer(app, demo):
    """A Globex user holding every customer role."""
    with app.app_context():
        globex = db.session.scalar(
            select(CustomerAccount).where(CustomerAccount.number == "C-10002")
        )
        user = User(
            email=ACTORS["other_customer"],
            name="Olga Other",
            account=globex,
            password_hash=demo.password_hash(),
        )
        user.roles = [Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN]
        db.session.add(user)
        db.session.commit()


@pytest.fixture
def a_product(app, demo) -> int:
    """One product is enough to reach the catalog's pages (the demo catalog is slower)."""
    from decimal import Decimal

    from portal.catalog.models import Category, Product, Stock

    with app.app_context():
        product = Product(
            sku="TST-1",
            name="Test part",
            category=Category(name="Tests"),
            list_price=Decimal("1.00"),
            stock=Stock(on_hand=1),
        )
        db.session.add(product)
        db.session.commit()
        return product.id


@pytest.fixture
def acme_objects(app, ids, a_product) -> dict:
    """An order placed by Acme's buyer, and a line in that buyer's cart."""
    from datetime import date

    from portal.ordering import service as ordering
    from portal.ordering.models import CartLine

    with app.app_context():
        buyer = db.session.get(User, ids["acme_buyer"])
        address = next(a for a in buyer.account.addresses if a.kind == "shipping")
        ordering.add_to_cart(buyer, [(a_product, 1)])
        order, _ = ordering.place_order(
            buyer,
            po_number="PO-1",
            ship_to_id=address.id,
            requested_date=None,
            notes="",
            idempotency_key="k1",
            today=date.today(),
        )
        ordering.add_to_cart(buyer, [(a_product, 1)])
        saved = ordering.save_cart_as_list(buyer, "Standard")
        from datetime import timedelta

        from portal.catalog.models import ContractPrice

        price = ContractPrice(
            account_id=buyer.account_id,
            product_id=a_product,
            min_quantity=1,
            unit_price=1,
            valid_from=date.today() - timedelta(days=1),
        )
        db.session.add(price)
        db.session.commit()
        cart_line = db.session.scalar(select(CartLine.id).where(CartLine.user_id == buyer.id))
        return {
            "order": order.number,
            "order_line": order.lines[0].id,
            "cart_line": cart_line,
            "saved_list": saved.id,
            "contract_price": price.id,
        }


def expected_status(access: Access, actor: str) -> str:
    if access.allowed == PUBLIC:
        return "reached"
    if actor == "anonymous":
        return "sign in"
    if access.allowed == SIGNED_IN:
        return "reached"
    if actor == "other_customer":
        # Holds every customer role: the role check passes where a customer role
        # is allowed, and then the account's objects are not there for them.
        if access.allowed & ACME_CUSTOMERS:
            return "not found" if access.tenant else "reached"
        return "forbidden"
    if access.owner and actor in access.allowed and actor != access.owner:
        return "not found"
    return "reached" if actor in access.allowed else "forbidden"


@pytest.mark.parametrize(("key", "method", "actor"), CASES)
def test_access(app, ids, other_customer, a_product, acme_objects, key, method, actor):
    access = MATRIX[key]
    url = access.url.format(
        acme=ids["acme"],
        acme_address=ids["acme_address"],
        acme_buyer=ids["acme_buyer"],
        product=a_product,
        **acme_objects,
    )
    person = Browserless(app.test_client())
    if actor != "anonymous":
        assert person.login(ACTORS[actor], DEMO_PASSWORD).status_code == 303
    if method == "GET":
        response = person.client.get(url)
    else:
        response = person.post(url, {}, page="/login" if actor == "anonymous" else "/")

    expected = expected_status(access, actor)
    status = response.status_code
    if expected == "sign in":
        assert status == 302
        assert response.headers["Location"].startswith("/login?next=")
    elif expected == "forbidden":
        assert status == 403
    elif expected == "not found":
        assert status == 404
    else:
        assert status < 500 and status not in (401, 403, 404), status
