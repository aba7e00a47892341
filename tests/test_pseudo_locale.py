"""Pages rendered under a pseudo-locale: every text that went through gettext comes out
wrapped in ⟦…⟧, so English left outside the markers never went through gettext and an
Indonesian reader would see it in English.

Every GET page of the access matrix (tests/test_access.py) is rendered for each role that
reaches it: a new page that shows English fails, unless listed in NOT_YET_TRANSLATED (the
pages known to be untranslated, a list that only shrinks). PSEUDO_PAGES adds the order
path's pages with orders in every state, which the matrix's data set does not hold.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from babel import Locale
from babel.support import Translations
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db

from .support import soup

PSEUDO = "eo"  # a locale Babel knows and the portal has no catalogue for
OPEN, CLOSE = "⟦", "⟧"

# (who, path, CSS selector of the translated parts, expected status). None: not signed in.
# "{order}" and "{waiting}" in a path are orders the `order_path` fixture makes: one
# confirmed, with a promise moved, shipped, delivered short, a cancellation asked and
# declined and a line cancelled by the vendor; one waiting for the approver.
PSEUDO_PAGES = [
    (None, "/login", "body", 200),
    (None, "/no-such-page", "body", 404),
    ("buyer@acme.test", "/no-such-page", "body", 404),
    # The quick order's pad and paste form (its checked lines are checked in Chromium:
    # tests/browser/test_languages.py).
    ("buyer@acme.test", "/order", "header, main .page-head, .quick-order", 200),
    # Home: the buyer's timeline; what each vendor role owes (the portfolio's rows are
    # relationship's own texts).
    ("buyer@acme.test", "/", "header, #relationship-timeline", 200),
    ("planner@vendor.test", "/", "header, main", 200),
    ("fulfilment@vendor.test", "/", "header, main", 200),
    ("engineer@vendor.test", "/", "header, main", 200),
    ("service@vendor.test", "/", "header, main", 200),
    (
        "manager@vendor.test",
        "/",
        "header, main .page-head, #home-portfolio .section-head, #home-portfolio thead",
        200,
    ),
    # The order path: cart, checkout, the order list with its filters, one order with
    # its lines, promises, shipments and timeline, and its print view (the same page).
    ("buyer@acme.test", "/cart", "header, main", 200),
    ("buyer@acme.test", "/checkout", "header, main", 200),
    ("buyer@acme.test", "/lists", "header, main", 200),
    ("buyer@acme.test", "/orders", "header, main", 200),
    ("buyer@acme.test", "/orders?status=delivered&q=nothing-matches", "header, main", 200),
    ("buyer@acme.test", "/orders/{order}", "header, main", 200),
    ("approver@acme.test", "/orders/{waiting}", "header, main", 200),
    ("manager@vendor.test", "/orders", "header, main", 200),
    ("manager@vendor.test", "/orders/{order}", "header, main", 200),
]
# Pages shown with the `order_path` fixture's orders and cart (an empty cart has no
# checkout, an empty list no table).
ORDER_PATH_PAGES = ("/cart", "/checkout", "/lists", "/orders")
ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")


class PseudoTranslations(Translations):
    """Every message wrapped in markers, placeholders kept for their values."""

    def gettext(self, message):
        return f"{OPEN}{message}{CLOSE}"

    def ngettext(self, singular, plural, n):
        return self.gettext(singular if n == 1 else plural)

    def pgettext(self, context, message):
        return self.gettext(message)

    ugettext = gettext
    ungettext = ngettext


@pytest.fixture
def pseudo(app):
    # Flask-Babel keeps each loaded catalogue in its domain, per locale: the pseudo one
    # goes there for this test. (No app context held open here: requests would share it.)
    with app.app_context():
        domain = app.extensions["babel"].instance.domain_instance
    key = (PSEUDO, domain.domain[0])
    app.config["LANGUAGES"] = {**app.config["LANGUAGES"], PSEUDO: "Pseudo"}
    domain.cache[key] = PseudoTranslations()
    yield
    domain.cache.pop(key, None)


def _untranslated(text: str, allowed: list[str]) -> list[str]:
    # Innermost first: a message can hold another ("⟦⟦Line 1⟧: 10 shipped⟧").
    rest, innermost = text, re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
    while innermost.search(rest):
        rest = innermost.sub(" ", rest)
    for value in sorted(allowed, key=len, reverse=True):
        rest = rest.replace(value, " ")
    return re.findall(r"[A-Za-z]{2,}(?:[ '-][A-Za-z]+)*", rest)


@pytest.fixture
def order_path(app, catalog_for_orders):
    """Orders in every state the order page can show, and a cart for the checkout.
    Returns the paths' values and the texts people typed (not translated)."""
    from portal.fulfilment import cancellations, confirmations, shipments
    from portal.ordering import service as ordering

    today = date.today()
    promised = today + timedelta(days=10)
    with app.app_context():

        def person(email):
            return db.session.scalar(select(User).where(User.email == email))

        buyer, staff = person("buyer@acme.test"), person("fulfilment@vendor.test")
        products = catalog_for_orders
        address = next(a for a in buyer.account.addresses if a.kind == "shipping")

        def place(items, key):
            ordering.add_to_cart(buyer, [(products[sku], qty) for sku, qty in items])
            order, _ = ordering.place_order(
                buyer,
                po_number=f"PO-{key}",
                ship_to_id=address.id,
                requested_date=None,
                notes="Gate 4",
                idempotency_key=key,
                today=today,
            )
            return order

        buyer.account.approval_limit = None
        order = place([("PSE-A", 10), ("PSE-B", 2), ("PSE-C", 5)], "pseudo-1")
        a, b, c = order.lines
        confirmations.confirm(
            staff, order, [confirmations.LineDecision(x.id, promised) for x in order.lines], today
        )
        confirmations.change_promise(
            staff,
            order,
            a.id,
            new_date=promised + timedelta(days=3),
            reason="capacity",
            text="",
            today=today,
        )
        shipment = shipments.ship(
            staff,
            order,
            {a.id: 6},
            carrier="DHL",
            tracking="JKT-1",
            shipped_on=today,
            today=today,
        )
        shipments.deliver(
            staff,
            order,
            shipment,
            delivered_on=today,
            received={shipment.lines[0].id: 5},
            today=today,
        )
        asked = cancellations.request_cancellation(buyer, order, b.id, reason="Plans changed")
        cancellations.answer_cancellation(
            staff, order, asked.id, accept=False, comment="Already packed"
        )
        cancellations.cancel_line(staff, order, c.id, reason="Out of production")
        buyer.account.approval_limit = Decimal("50.00")
        waiting = place([("PSE-A", 10)], "pseudo-2")
        # The cart the cart page and the checkout show (above the approval limit).
        ordering.add_to_cart(buyer, [(products["PSE-A"], 4), (products["PSE-B"], 3)])
        ordering.save_cart_as_list(buyer, "Gate 4")  # the same lines as a saved list
        db.session.commit()
        typed = [
            "Gate 4",
            "Plans changed",
            "Already packed",
            "Out of production",
            "DHL",
            "JKT-1",
            order.po_number,
            waiting.po_number,
            order.ship_to_text,
            *(f"{a.label} — {a.one_line}" for a in buyer.account.addresses),
            *(u.name for u in db.session.scalars(select(User))),
            buyer.account.name,
            *products,  # the SKUs, which are also the products' names
            "pc",
        ]
        return {"order": order.number, "waiting": waiting.number}, typed


@pytest.fixture
def catalog_for_orders(app, demo):
    """Three products of the order path's pages; their names and units are data."""
    from portal.catalog.models import Category, Product, Stock

    with app.app_context():
        category = Category(name="Pseudo parts")
        made = {}
        for sku, on_hand in (("PSE-A", 100), ("PSE-B", 0), ("PSE-C", 50)):
            product = Product(
                sku=sku,
                name=sku,
                category=category,
                list_price=Decimal("10.00"),
                lead_time_days=7,
                unit="pc",
                stock=Stock(on_hand=on_hand),
            )
            db.session.add(product)
            made[sku] = product
        db.session.commit()
        return {sku: p.id for sku, p in made.items()}


@pytest.mark.parametrize(("who", "path", "part", "status"), PSEUDO_PAGES)
def test_translated_pages_show_no_text_outside_gettext(
    app, client, login_as, pseudo, request, who, path, part, status
):
    # Data people typed is not translated: names, e-mails, the vendor's name, and the
    # names of the languages in their own words on the switch.
    allowed = [app.config["VENDOR_NAME"], *app.config["LANGUAGES"].values()]
    if "{" in path or path.partition("?")[0] in ORDER_PATH_PAGES:
        values, typed = request.getfixturevalue("order_path")
        path = path.format(**values)
        allowed += typed
    if who is None:
        person = client
        client.get(f"/login?lang={PSEUDO}")
    else:
        with app.app_context():
            user = db.session.scalar(select(User).where(User.email == who))
            user.language = PSEUDO
            allowed += [user.name, user.email]
            if user.account is not None:
                allowed.append(user.account.name)
            db.session.commit()
        person = login_as(who).client
    response = person.get(path)
    assert response.status_code == status
    page = soup(response)
    assert page.html["lang"] == PSEUDO
    found = []
    for region in page.select(part):
        for hidden in region.select("script, style"):
            hidden.decompose()
        found += _untranslated(_without_dates(region.get_text(" ")), allowed)
        for element in region.find_all(True):
            for name in ATTRIBUTES:
                if element.has_attr(name):
                    found += _untranslated(element[name], allowed)
    assert not found, f"{path} shows text that never went through gettext: {found}"


# Month names Babel wrote in the pseudo-locale ("01 Dec 2026", "01 Dec 14:05"): formats
# in the reader's locale, not English left outside gettext.
_MONTHS = Locale.parse(PSEUDO).months["format"]
_DATE = re.compile(
    r"\b\d{1,2} (?:"
    + "|".join(
        re.escape(name)
        for width in ("abbreviated", "wide")
        for name in sorted(_MONTHS[width].values(), key=len, reverse=True)
    )
    + r")\b"
)


def _without_dates(text: str) -> str:
    return _DATE.sub(" ", text)


# References are codes, not words: SR-00042, PL-0003, C-10001.
_REFERENCE = re.compile(r"\b[A-Z]{1,5}-\d+\b")
# Months Babel wrote alone (a chart's axis "Jan Feb …", "Decembro 2026"). Some of the
# pseudo-locale's abbreviations are also English ones: a bare English "Dec" left outside
# Babel goes unseen here, which the dates with a day above still catch.
_MONTH = re.compile(
    r"(?<!\w)(?:"
    + "|".join(
        re.escape(name)
        for context in ("format", "stand-alone")
        for width in ("abbreviated", "wide")
        for name in sorted(
            Locale.parse(PSEUDO).months[context][width].values(), key=len, reverse=True
        )
    )
    + r")(?!\w)"
)


# Weekdays Babel wrote ("ve 01 Jan 2027": a holiday that falls on a Friday). The check
# depended on the date it ran: the settings page's holiday, a month ahead, fell on a
# Thursday ("ĵa", no word to the check) on 1 December and on a Friday ("ve") a day later.
_WEEKDAY = re.compile(
    r"(?<!\w)(?:"
    + "|".join(
        re.escape(name)
        for context in ("format", "stand-alone")
        for width in ("abbreviated", "short", "wide")
        for name in sorted(
            Locale.parse(PSEUDO).days[context][width].values(), key=len, reverse=True
        )
    )
    + r")(?!\w)"
)


def _without_codes(text: str) -> str:
    return _WEEKDAY.sub(" ", _MONTH.sub(" ", _REFERENCE.sub(" ", _without_dates(text))))


def test_the_pseudo_locale_catches_english(app, pseudo):
    """The check itself: plain English outside the markers is found."""
    assert _untranslated(f"{OPEN}Sign in{CLOSE} Forgot password?", []) == ["Forgot password"]
    assert _untranslated(f"{OPEN}Sign in{CLOSE} 12,00 · Bea", ["Bea"]) == []
    # A message inside another is no hiding place for English after the inner one.
    nested = f"{OPEN}{OPEN}Line 1{CLOSE}: 10 shipped{CLOSE} then shipped"
    assert _untranslated(nested, []) == ["then shipped"]
    assert _without_dates("01 Dec 2026 and Dec") == "  2026 and Dec"


# --- every page of the access matrix ---------------------------------------------------
#
# Each GET page of the access matrix (tests/test_access.py), for each role that reaches
# it, rendered once under the pseudo-locale on the matrix's one shared data set. The
# whole <body> is checked: a page is translated when nothing on it, for that role, is
# English outside gettext.

# Endpoints that answer with a file or a document, not a page people read here (their
# texts are the exports' and the API's own concern).
NOT_PAGES = frozenset(
    {
        "home.healthz",
        "ordering.export_orders",
        "forecasts.template",
        "relationship.export_portfolio",
        "api_docs.openapi_json",
        "api_docs.docs",
        "api_docs.problem_type",
        "attachments.download",
    }
)

# Endpoint -> the roles for which its page still shows English that never went through
# gettext. This list only shrinks: a page not listed here that shows English fails (a new
# page must come translated), and a listed role whose page is now clean fails too (take
# it off the list).
CUSTOMERS = frozenset({"buyer", "approver", "customer_admin"})
STAFF = frozenset({"account_manager", "planner", "engineer", "fulfilment", "service", "admin"})
NOT_YET_TRANSLATED: dict[str, frozenset[str]] = {}


def _matrix_pages() -> list:
    from .test_access import MATRIX, PUBLIC, expected_status

    cases = []
    for (endpoint, rule), access in MATRIX.items():
        if "GET" not in access.methods or endpoint in NOT_PAGES:
            continue
        for actor in MATRIX_ACTORS:
            # A public page is the signed-out reader's (signed in, the sign-in page is home).
            if access.allowed == PUBLIC and actor != "anonymous":
                continue
            if expected_status(access, actor) == "reached":
                cases.append(pytest.param(endpoint, rule, actor, id=f"{rule} {actor}"))
    return cases


# Everyone of the matrix who reaches pages (another account's user sees what Acme's do).
MATRIX_ACTORS = (
    "anonymous",
    "buyer",
    "approver",
    "customer_admin",
    "account_manager",
    "planner",
    "engineer",
    "fulfilment",
    "service",
    "admin",
)
# What the matrix's data set holds that people typed (names, titles, references).
WORLD_TYPED = [
    "Test part",
    "Tests",
    "PO-1",
    "PO-2",
    "Standard",
    "Too many",
    "DHL",
    "A stamped bracket",
    "Summer shutdown",
    "Company day",
    "SN-ACCESS-1",
    "Pump leaks",
    "Quiet",
    "ERP",
    "Call",
    "First",
    "note.txt",
    "TST-1",
    "Boom",
    "purge_sessions",
    "550 5.1.1 No such user",
]


@pytest.fixture(scope="module")
def matrix_world(database_url, tmp_path_factory):
    """The access matrix's app and data, every actor signed in, reading the pseudo-locale."""
    from portal import create_app
    from portal.accounts.models import Address, CustomerAccount
    from portal.catalog.models import Category, Product

    from .conftest import TEMPLATE_CACHE, empty_all_tables
    from .support import DEMO_PASSWORD, Browserless, make_test_config
    from .test_access import ACTORS, build_world

    attachments = tmp_path_factory.mktemp("attachments")
    app = create_app(make_test_config(database_url, ATTACHMENT_DIR=str(attachments)))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    app.config["LANGUAGES"] = {**app.config["LANGUAGES"], PSEUDO: "Pseudo"}
    with app.app_context():
        empty_all_tables()
        domain = app.extensions["babel"].instance.domain_instance
        domain.cache[(PSEUDO, domain.domain[0])] = PseudoTranslations()
    ids = build_world(app)
    with app.app_context():
        for user in db.session.scalars(select(User)):
            user.language = PSEUDO
        db.session.commit()
        typed = [
            app.config["VENDOR_NAME"],
            *app.config["LANGUAGES"].values(),
            *WORLD_TYPED,
            *db.session.scalars(select(User.name)),
            *db.session.scalars(select(User.email)),
            *db.session.scalars(select(CustomerAccount.name)),
            *db.session.scalars(select(Product.name)),
            *db.session.scalars(select(Product.unit)),
            *db.session.scalars(select(Category.name)),
            *(a.one_line for a in db.session.scalars(select(Address))),
            *(a.label for a in db.session.scalars(select(Address))),
            *(a.recipient for a in db.session.scalars(select(Address)) if a.recipient),
        ]
    people = {"anonymous": Browserless(app.test_client())}
    people["anonymous"].client.get(f"/login?lang={PSEUDO}")
    for actor in MATRIX_ACTORS[1:]:
        people[actor] = Browserless(app.test_client())
        assert people[actor].login(ACTORS[actor], DEMO_PASSWORD).status_code == 303
    yield ids, people, typed
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("endpoint", "rule", "actor"), _matrix_pages())
def test_every_page_of_the_matrix_is_translated(matrix_world, endpoint, rule, actor):
    from .test_access import MATRIX

    ids, people, typed = matrix_world
    response = people[actor].get(MATRIX[(endpoint, rule)].url.format(**ids))
    if response.status_code in (302, 303):
        pytest.skip(f"{rule} sends {actor} on to another page (checked there)")
    assert response.mimetype == "text/html", f"{rule} is not a page: add it to NOT_PAGES"
    page = soup(response)
    if page.html is not None:
        assert page.html["lang"] == PSEUDO
    region = page.body or page
    # translate="no" (HTML's own mark) holds codes, not words: an IANA time zone, a
    # currency code, a machine record's keys and values (the audit log's changes).
    for hidden in region.select("script, style, template, [translate=no]"):
        hidden.decompose()
    # An option that shows its own value is a code (a time zone's IANA name), not words.
    for option in region.select("option"):
        if option.get("value") == option.get_text(strip=True):
            option.decompose()
    found = _untranslated(_without_codes(region.get_text(" ")), typed)
    for element in region.find_all(True):
        for name in ATTRIBUTES:
            if element.has_attr(name):
                found += _untranslated(_without_codes(element[name]), typed)
    listed = actor in NOT_YET_TRANSLATED.get(endpoint, ())
    if listed:
        assert found, f"{endpoint} is translated for {actor} now: take it off NOT_YET_TRANSLATED"
    else:
        assert not found, f"{rule} ({actor}) shows text that never went through gettext: {found}"


def test_the_list_of_untranslated_pages_names_only_pages_of_the_matrix():
    from .test_access import MATRIX

    pages = {endpoint for (endpoint, _rule), access in MATRIX.items() if "GET" in access.methods}
    assert not NOT_YET_TRANSLATED.keys() - pages
    assert all(roles <= set(MATRIX_ACTORS) for roles in NOT_YET_TRANSLATED.values())
