"""Pages as a person meets them: navigation per side, errors, headers, htmx fragments."""

import logging

import pytest

from portal.security import public

from .support import soup


def nav_entries(response) -> list:
    """The bar as a person reads it: a link's text, or a group's name with its links."""
    entries = []
    for item in soup(response).select("nav.mainnav > ul > li"):
        button = item.find("button", recursive=False)
        if button is None:
            entries.append(item.a.get_text(strip=True))
        else:
            entries.append(
                (button.get_text(strip=True), [a.get_text(strip=True) for a in item.select("ul a")])
            )
    return entries


PLANNING = ("Planning", ["Forecasts", "Demand across accounts", "Forecast accuracy", "Plans"])
AFTER_THE_SALE = ("After the sale", ["Service requests", "Equipment"])
CUSTOMER_AFTER_THE_SALE = ("After the sale", ["Equipment", "Service and complaints"])
CUSTOMER_RELATIONSHIP = (
    "Relationship",
    ["Scorecard", "Reviews with us", "Notes shared with us", "Suggestions"],
)


def test_vendor_and_customer_see_different_navigation(login_as):
    """Each side's daily work as links, the rest in groups; a group of one is its link."""
    vendor = ["Home", "Accounts", "Orders"]
    desk = ["Desk", "Promises"]
    expected = {
        "admin@vendor.test": [
            *vendor,
            *desk,
            "Catalog",
            PLANNING,
            AFTER_THE_SALE,
            (
                "Relationship",
                ["Portfolio", "Follow-ups", "Relationship reviews", "Suggestions"],
            ),
        ],
        "manager@vendor.test": [
            *vendor,
            *desk,
            "Catalog",
            PLANNING,
            AFTER_THE_SALE,
            (
                "Relationship",
                ["Portfolio", "Follow-ups", "Relationship reviews", "Suggestions"],
            ),
        ],
        "fulfilment@vendor.test": [*vendor, *desk, "Catalog", "Plans", "Equipment", "Follow-ups"],
        "planner@vendor.test": [*vendor, "Catalog", PLANNING, "Follow-ups"],
        "engineer@vendor.test": [
            *vendor,
            "Catalog",
            "Plans",
            AFTER_THE_SALE,
            ("Relationship", ["Follow-ups", "Suggestions"]),
        ],
        "service@vendor.test": [*vendor, "Catalog", "Plans", AFTER_THE_SALE, "Follow-ups"],
        "admin@acme.test": [
            "Home",
            "Quick order",
            "Cart",
            "Orders",
            "Catalog",
            ("Planning", ["Forecasts", "Plans"]),
            CUSTOMER_AFTER_THE_SALE,
            CUSTOMER_RELATIONSHIP,
        ],
        "approver@acme.test": [
            "Home",
            "Orders",
            "Catalog",
            "Plans",
            CUSTOMER_AFTER_THE_SALE,
            CUSTOMER_RELATIONSHIP,
        ],
        "buyer@acme.test": [
            "Home",
            "Quick order",
            "Cart",
            "Orders",
            "Catalog",
            ("Planning", ["Forecasts", "Plans"]),
            CUSTOMER_AFTER_THE_SALE,
            CUSTOMER_RELATIONSHIP,
        ],
    }
    for email, entries in expected.items():
        assert nav_entries(login_as(email).client.get("/")) == entries, email


def user_menu_labels(response) -> list[str]:
    return [a.get_text(strip=True) for a in soup(response).select(".usermenu-panel a")]


def test_account_and_administration_links_are_in_the_user_menu(login_as):
    """What looks after the account or runs the portal sits with the password and
    e-mail settings, away from the day's work in the main navigation."""
    expected = {
        "admin@vendor.test": [
            "Users",
            "Audit log",
            "Background work",
            "API tokens",
            "cXML",
            "Relationship health: weights and thresholds",
            "Change password",
            "E-mail settings",
        ],
        "planner@vendor.test": ["Change password", "E-mail settings"],
        "admin@acme.test": [
            "Our account",
            "Team",
            "API tokens",
            "Cost of ownership",
            "Change password",
            "E-mail settings",
        ],
        "buyer@acme.test": ["Our account", "Change password", "E-mail settings"],
    }
    for email, labels in expected.items():
        assert user_menu_labels(login_as(email).client.get("/")) == labels, email


def test_current_page_is_marked_for_assistive_technology(login_as):
    page = soup(login_as("admin@vendor.test").client.get("/accounts"))
    assert page.select_one('nav.mainnav a[aria-current="page"]').get_text() == "Accounts"


def test_account_manager_home_lists_only_their_accounts(login_as):
    page = soup(login_as("manager@vendor.test").client.get("/"))
    rows = page.select("#home-portfolio tbody tr")
    names = sorted(row.select("td")[1].a.get_text() for row in rows)
    assert names == ["Acme Industrial", "Globex Manufacturing"]
    page = soup(login_as("manager2@vendor.test").client.get("/"))
    rows = page.select("#home-portfolio tbody tr")
    names = sorted(row.select("td")[1].a.get_text() for row in rows)
    assert names == ["Initech Systems", "Umbrella Process Labs"]


def test_customer_home_shows_their_account_manager_and_nothing_of_others(login_as):
    response = login_as("buyer@globex.test").client.get("/")
    page = soup(response)
    assert page.h1.get_text() == "Globex Manufacturing"
    assert "Morgan Manager" in page.select_one(".contact").get_text()
    text = response.get_data(as_text=True)
    for other in ("Acme", "Initech", "Umbrella"):
        assert other not in text


def test_security_headers_on_every_page(client, demo):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    page = soup(response)
    assert not [s for s in page.select("script") if s.string and s.string.strip()], "inline script"
    assert not page.select("[style]"), "inline style"


def test_htmx_is_vendored_not_fetched_from_a_cdn(client):
    page = soup(client.get("/login"))
    sources = [s["src"] for s in page.select("script[src]")]
    paths = [source.split("?v=")[0] for source in sources]  # ?v=: portal.assets' versions
    assert paths == ["/static/vendor/htmx-2.0.11.min.js", "/static/js/portal.js"]
    for source in sources:
        assert client.get(source).status_code == 200


def test_not_found_page_in_the_portal_style(login_as):
    response = login_as("buyer@acme.test").client.get("/no/such/page")
    assert response.status_code == 404
    assert soup(response).h1.get_text() == "Not found"
    assert soup(response).select_one("nav.mainnav")


def test_forbidden_page_for_a_missing_role(login_as):
    response = login_as("buyer@acme.test").client.get("/audit")
    assert response.status_code == 403
    assert soup(response).h1.get_text() == "Not permitted"


@pytest.mark.own_app
def test_unexpected_error_shows_an_error_id_and_logs_the_traceback(app, demo, caplog):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @public
    def explode():
        raise RuntimeError("secret internals: db password is hunter2")

    app.add_url_rule("/explode", "explode", explode)
    with caplog.at_level(logging.ERROR, logger="portal.errors"):
        response = app.test_client().get("/explode")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "hunter2" not in body
    error_id = soup(response).select_one(".error-id code").get_text()
    assert error_id == response.headers["X-Request-Id"]  # the request log line carries it too
    record = next(r for r in caplog.records if error_id in r.getMessage())
    assert record.exc_info and "hunter2" in str(record.exc_info[1])


def test_healthz_is_public_json(client):
    """Without a worker it is still 200: reported, not fatal (tests/test_jobs.py has the rest)."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {
        "status": "degraded",
        "database": "ok",
        "queue": "ok",
        "worker": "none",
        "worker_heartbeat_seconds": None,
    }


def test_htmx_request_gets_only_the_results_block(login_as):
    admin = login_as("admin@vendor.test")
    response = admin.client.get("/accounts?q=glob", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "<html" not in body and "<nav" not in body
    fragment = soup(response)
    assert fragment.select_one("#results")
    assert [td.get_text() for td in fragment.select("tbody td:nth-of-type(2)")] == [
        "Globex Manufacturing"
    ]
    assert "HX-Request" in response.headers["Vary"]
    full = admin.client.get("/accounts?q=glob")
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]


def test_htmx_request_without_a_session_redirects_the_whole_page(client, demo):
    response = client.get("/accounts", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=/accounts"


def test_forms_label_every_input(login_as, ids):
    admin = login_as("admin@vendor.test")
    for url in (
        "/accounts/new",
        "/users/new",
        f"/accounts/{ids['acme']}/addresses/new",
        "/password",
    ):
        page = soup(admin.client.get(url))
        for field in page.select("form input:not([type=hidden]), form select"):
            if field.get("type") == "checkbox" and field.find_parent("ul", class_="checklist"):
                assert page.select_one(f"label[for={field['id']}]"), (url, field["id"])
                continue
            assert field.get("id"), (url, field)
            labelled = page.select_one(f"label[for={field['id']}]") or field.get("aria-label")
            assert labelled, (url, field["id"])


def test_errors_are_tied_to_their_field_for_screen_readers(login_as):
    admin = login_as("admin@vendor.test")
    response = admin.post(
        "/accounts/new", {"number": "", "name": "", "status": "active", "timezone": "Europe/Paris"}
    )
    number = soup(response).select_one("#number")
    assert number["aria-invalid"] == "true"
    assert "number-error" in number["aria-describedby"].split()


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/99999999999999999999",
        "/catalog/products/99999999999999999999",
        "/catalog/prices/2147483648",
        "/users/99999999999999999999/edit",
    ],
)
def test_ids_too_large_for_the_database_are_not_found(login_as, url):
    """Not an overflow inside the database driver (a 500): a 404 like any missing id."""
    assert login_as("admin@vendor.test").get(url).status_code == 404


def test_the_built_navigation_follows_each_person_s_account_roles_and_language(app, login_as, ids):
    """portal.formatting builds the navigation once per side, roles, account, language
    and host: two customers' buyers each get their own account's link, a person who
    changes language gets the links in it at once, and the current page is per request."""
    from portal.accounts.models import User
    from portal.extensions import db

    def our_account(response) -> str:
        return soup(response).select_one(".usermenu-panel a").get("href")

    acme, globex = login_as("buyer@acme.test"), login_as("buyer@globex.test")
    assert our_account(acme.client.get("/")) == f"/accounts/{ids['acme']}"
    assert our_account(globex.client.get("/")) == f"/accounts/{ids['globex']}"
    assert our_account(acme.client.get("/orders")) == f"/accounts/{ids['acme']}"

    with app.app_context():
        db.session.scalar(db.select(User).where(User.email == "buyer@acme.test")).language = "id"
        db.session.commit()
    page = soup(acme.client.get("/orders"))
    labels = [a.get_text(strip=True) for a in page.select("nav.mainnav a")]
    assert "Pesanan" in labels and "Orders" not in labels
    assert page.select_one('nav.mainnav a[aria-current="page"]').get_text() == "Pesanan"
    english = soup(globex.client.get("/catalog"))
    assert english.select_one('nav.mainnav a[aria-current="page"]').get_text() == "Catalog"


def test_the_field_macro_ties_hint_error_and_requirement_to_the_input(app):
    """templates/_macros/forms.html's `field` (with portal.formatting.field_attributes):
    the label names the input, aria-describedby names the hint and the error shown, and
    a required field is marked; a field with neither says nothing more."""
    from bs4 import BeautifulSoup
    from flask import render_template_string
    from wtforms import BooleanField, StringField
    from wtforms.validators import DataRequired

    from portal.forms import PortalForm

    class Example(PortalForm):
        name = StringField(
            "Name <first>", description="As on the invoice", validators=[DataRequired()]
        )
        plain = StringField("Plain")
        agree = BooleanField("I agree", description="Tick to agree")

    with app.test_request_context():
        form = Example(formdata=None, meta={"csrf": False})
        form.name.errors = ["Enter a name & more."]
        page = BeautifulSoup(
            render_template_string(
                "{{ field(form.name) }}{{ field(form.plain) }}{{ field(form.agree) }}", form=form
            ),
            "html.parser",
        )
    name = page.select_one("input#name")
    assert name["aria-describedby"].split() == ["name-hint", "name-error"]
    assert name["aria-invalid"] == "true" and name.has_attr("required")
    assert page.select_one("label[for=name]").get_text() == "Name <first>"
    assert page.select_one("#name-hint").get_text() == "As on the invoice"
    assert page.select_one("#name-error").get_text() == "Enter a name & more."
    plain = page.select_one("input#plain")
    assert not {"aria-describedby", "aria-invalid", "required"} & set(plain.attrs)
    agree = page.select_one("input#agree")
    assert agree["aria-describedby"] == "agree-hint" and "aria-invalid" not in agree.attrs
    assert page.select_one("label[for=agree]").get_text() == "I agree"
