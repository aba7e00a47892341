"""Hostile values in every query parameter and form field of every endpoint: never a 5xx.

The parameter names are gathered, not listed by hand: every name a view reads
from `request.args` / `request.form` / `request.values` (from the source), every
field of every WTForms form, and every input, select and textarea on the pages
the access matrix reaches (which brings the per-row names such as
`promise-<line id>`). Each endpoint of the matrix is then asked, by a person
allowed to reach it (one of each side where both are), with all of those names
set at once to each hostile value: huge, negative and non-numeric integers,
very long strings, NUL, invalid UTF-8, dates that do not exist.

What may come back is anything a person can act on (a page, a field message,
400, 404, a redirect); what may not is a server error.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from bs4 import BeautifulSoup

from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import Role
from portal.extensions import db

from .support import DEMO_PASSWORD, Browserless, csrf_token_from
from .test_access import ACTORS, CXML, LINK, MATRIX, PUBLIC, SIGNED_IN, TOKEN, build_world

PORTAL = Path(__file__).parent.parent / "portal"

# Raw bytes: some are not UTF-8 on purpose, and each is percent-encoded as it stands.
HOSTILE_VALUES: dict[str, bytes] = {
    "huge integer": b"99999999999999999999",
    "huge negative": b"-99999999999999999999",
    "just past 32 bits": b"2147483648",
    "negative": b"-1",
    "not a number": b"abc",
    "a digit int() refuses": "²".encode(),
    "exponent": b"1e309",
    "long string": b"x" * 3000,
    "NUL": b"a\x00b",
    "invalid UTF-8": b"\xff\xfe\xc3(",
    "no such date": b"2026-02-30",
    "no such month": b"2026-13",
    "year zero": b"0000-00-00",
}

# Endpoints whose effect would end the fuzzing person's session (a refused POST
# changes nothing, but these change who is signed in when they succeed).
SESSION_ENDING = {"auth.logout"}

SOURCE_NAME = re.compile(r"""request\.(?:args|form|values)\.get(?:list)?\(\s*["']([\w-]+)["']""")


def names_in_source() -> set[str]:
    names: set[str] = set()
    for path in PORTAL.rglob("*.py"):
        names.update(SOURCE_NAME.findall(path.read_text()))
    # Rows of the quick order's accept form: add=<n> with product-<n> and quantity-<n>.
    names.update({"add", "product-0", "quantity-0"})
    return names


def names_in_forms(app) -> set[str]:
    """Every field name of every WTForms form the portal defines."""
    from flask_wtf import FlaskForm

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names: set[str] = set()
    with app.test_request_context("/"):
        for form_class in subclasses(FlaskForm):
            if not form_class.__module__.startswith("portal."):
                continue
            try:
                form = form_class(meta={"csrf": False})
            except TypeError:
                continue  # a form that needs arguments: its fields come from the pages
            for field in form:
                names.add(field.name)
                for sub in getattr(field, "entries", []) or []:
                    names.add(sub.name)
    return names


def names_on_page(html: str) -> set[str]:
    page = BeautifulSoup(html, "html.parser")
    return {
        element["name"]
        for element in page.find_all(["input", "select", "textarea", "button"])
        if element.get("name") and element["name"] != "csrf_token"
    }


def actors_for(access) -> list[str]:
    """One customer and one vendor person allowed to reach the endpoint, where there are."""
    if access.allowed in (PUBLIC, SIGNED_IN, CXML, LINK):
        return ["buyer", "admin"]
    customers = [a for a in ("buyer", "customer_admin", "approver") if a in access.allowed]
    vendor = [
        a
        for a in ("admin", "fulfilment", "planner", "engineer", "account_manager")
        if a in access.allowed
    ]
    return customers[:1] + vendor[:1]


def encoded(names: set[str], value: bytes) -> bytes:
    return b"&".join(quote(name).encode() + b"=" + quote(value).encode() for name in sorted(names))


class Fuzzer:
    """Signed-in clients per actor, signing in again when a request ended the session."""

    def __init__(self, app):
        self.app = app
        self.people: dict[str, Browserless] = {}
        self.tokens: dict[str, str] = {}

    def person(self, actor: str) -> Browserless:
        if actor not in self.people:
            person = Browserless(self.app.test_client())
            assert person.login(ACTORS[actor], DEMO_PASSWORD).status_code == 303
            self.people[actor] = person
        return self.people[actor]

    def token(self, actor: str) -> str:
        """The CSRF token of the actor's session (it lives as long as the session)."""
        if actor not in self.tokens:
            page = self.person(actor).client.get("/").get_data(as_text=True)
            self.tokens[actor] = csrf_token_from(page)
        return self.tokens[actor]

    def request(self, actor: str, method: str, url: str, names: set[str], value: bytes):
        person = self.person(actor)
        path, _, query = url.partition("?")
        hostile = encoded(names, value) if names else b""
        if method == "GET":
            response = person.client.get(
                path, query_string="&".join(filter(None, [query, hostile.decode("ascii")]))
            )
        else:
            body = hostile + b"&csrf_token=" + quote(self.token(actor)).encode()
            response = person.client.post(
                url, data=body, content_type="application/x-www-form-urlencoded"
            )
        if response.status_code == 302 and urlsplit(response.location).path == "/login":
            del self.people[actor]
            self.tokens.pop(actor, None)  # signed out (idle rules, a deactivation): next time anew
        return response


@pytest.fixture(scope="module")
def fuzz(database_url, tmp_path_factory):
    """The access matrix's data set, a spare Acme user for the user pages to change,
    and every parameter name the portal reads."""
    from portal import create_app, demo

    from .conftest import TEMPLATE_CACHE, empty_all_tables
    from .support import make_test_config

    attachments = tmp_path_factory.mktemp("attachments")
    app = create_app(make_test_config(database_url, ATTACHMENT_DIR=str(attachments)))
    app.jinja_env.bytecode_cache = TEMPLATE_CACHE
    with app.app_context():
        empty_all_tables()
    ids = build_world(app)
    with app.app_context():
        acme = db.session.get(CustomerAccount, ids["acme"])
        spare = User(
            email="spare@acme.test", name="Spare", account=acme, password_hash=demo.password_hash()
        )
        spare.roles = [Role.BUYER]
        db.session.add(spare)
        db.session.commit()
        # Deactivating or editing the buyer who fuzzes would end the fuzzing itself.
        ids["acme_buyer"] = spare.id
    fuzzer = Fuzzer(app)
    names = names_in_source() | names_in_forms(app)
    for access in MATRIX.values():
        if "GET" not in access.methods or access.allowed in (PUBLIC, LINK):
            continue
        for actor in actors_for(access):
            response = fuzzer.person(actor).client.get(access.url.format(**ids))
            if response.status_code == 200 and response.mimetype == "text/html":
                names |= names_on_page(response.get_data(as_text=True))
    yield app, ids, fuzzer, names
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# The REST API takes JSON with a bearer token, not forms with a session: schemathesis
# sends it hostile input from its OpenAPI document (tests/test_api_schema.py).
CASES = [
    pytest.param(key, method, id=f"{method} {key[1]}")
    for key, access in MATRIX.items()
    for method in access.methods
    if key[0] not in SESSION_ENDING and access.allowed != TOKEN
]


def test_the_names_were_found(fuzz):
    """The gathering works: names read in views, form fields and per-row inputs are there."""
    _, _, _, names = fuzz
    assert {"page", "q", "category", "account_id", "po_number", "email"} <= names
    assert any(re.fullmatch(r"promise-\d+", name) for name in names)


@pytest.mark.parametrize(("key", "method"), CASES)
def test_no_server_error_on_hostile_input(fuzz, key, method):
    _, ids, fuzzer, names = fuzz
    access = MATRIX[key]
    url = access.url.format(**ids)
    actors = actors_for(access) if access.allowed != PUBLIC else ["buyer"]
    failures = []
    for actor in actors:
        for label, value in HOSTILE_VALUES.items():
            response = fuzzer.request(actor, method, url, names, value)
            if response.status_code >= 500:
                failures.append(f"{actor}, {label}: {response.status_code}")
    assert not failures, failures


PATH_CASES = [
    pytest.param(key, id=key[1])
    for key, access in MATRIX.items()
    if "<" in key[1] and "GET" in access.methods and access.allowed != TOKEN
]


@pytest.mark.parametrize("key", PATH_CASES)
def test_no_server_error_on_hostile_path_segments(fuzz, key):
    """Every variable part of a URL (ids, order numbers, formats) given each hostile value."""
    _, _, fuzzer, _ = fuzz
    failures = []
    for actor in ("buyer", "admin"):
        for label, value in HOSTILE_VALUES.items():
            url = re.sub(r"<[^>]+>", quote(value, safe=""), key[1])
            response = fuzzer.request(actor, "GET", url, set(), b"")
            if response.status_code >= 500:
                failures.append(f"{actor}, {label}: {response.status_code}")
    assert not failures, failures


GET_CASES = [
    pytest.param(key, id=key[1])
    for key, access in MATRIX.items()
    if "GET" in access.methods and access.allowed not in (PUBLIC, TOKEN)
]


@pytest.mark.parametrize("key", GET_CASES)
def test_every_page_answers_an_htmx_request(fuzz, key):
    """Asked by htmx, a page renders one block of its template alone; that block must
    stand on its own (a macro or variable set outside it is not there)."""
    _, ids, fuzzer, _ = fuzz
    access = MATRIX[key]
    url = access.url.format(**ids)
    for actor in actors_for(access):
        response = fuzzer.person(actor).client.get(url, headers={"HX-Request": "true"})
        assert response.status_code < 500, (actor, response.status_code)
