"""Languages and formats: the catalogue is complete, the reader's language is chosen in the
right order (also for htmx fragments), and Babel writes dates, numbers and money."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db

from .support import Browserless, soup

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
# Every language besides the source (English) must translate every message.
TARGET_LANGUAGES = ("id",)
PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture(scope="module", autouse=True)
def _compiled_catalogues():
    """The .mo files are built by `make translations` (make test depends on it)."""
    for language in TARGET_LANGUAGES:
        po = TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"
        mo = po.with_suffix(".mo")
        assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime, (
            f"{mo} is missing or older than its .po: run `make translations`"
        )


def _extracted() -> dict[str, str]:
    """Every message in the code and templates now (not what messages.pot said once)."""
    with open(ROOT / "babel.cfg") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {
        "_": None,
        "gettext": None,
        "ngettext": (1, 2),
        "_l": None,
        "lazy_gettext": None,
        "lazy_ngettext": (1, 2),
    }
    found = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found[msgid] = filename
    return found


@pytest.mark.parametrize("language", TARGET_LANGUAGES)
def test_every_message_has_a_translation_that_is_not_fuzzy(language):
    extracted = _extracted()
    assert "Sign in" in extracted and "Quick order" in extracted  # the extraction works
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        catalogue = read_po(handle)
    assert not catalogue.fuzzy, "the catalogue's header is marked fuzzy"
    problems = []
    for msgid, where in sorted(extracted.items()):
        entry = catalogue.get(msgid)
        if entry is None or not entry.string:
            problems.append(f"untranslated ({where}): {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy ({where}): {msgid!r}")
        else:
            strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
            for string in strings:
                if sorted(PLACEHOLDER.findall(string)) != sorted(PLACEHOLDER.findall(msgid)):
                    problems.append(f"placeholders differ: {msgid!r} -> {string!r}")
    assert not problems, "run `make extract-messages` and translate:\n" + "\n".join(problems)


# --- which language -----------------------------------------------------------------


def _set(email: str | None = None, *, language=None, account_default=None):
    if email:
        user = db.session.scalar(select(User).where(User.email == email))
        user.language = language
        user.account.default_language = account_default
    db.session.commit()


def _lang(response) -> str:
    return soup(response).html["lang"]


def test_before_sign_in_the_browser_decides_and_english_is_the_fallback(client, demo):
    assert _lang(client.get("/login", headers={"Accept-Language": "id-ID,id;q=0.9"})) == "id"
    assert _lang(client.get("/login", headers={"Accept-Language": "fr-FR"})) == "en"
    page = soup(client.get("/login", headers={"Accept-Language": "id"}))
    assert page.h1.get_text() == "Masuk"
    assert page.select_one("label[for=password]").get_text() == "Kata sandi"


def test_the_sign_in_switch_is_remembered_and_survives_signing_in(app, client, demo):
    person = Browserless(client)
    page = soup(client.get("/login", headers={"Accept-Language": "en"}))
    switch = {a.get_text(): a["href"] for a in page.select(".language-switch a")}
    assert page.select_one(".language-switch [aria-current]").get_text() == "English"
    client.get(switch["Bahasa Indonesia"], headers={"Accept-Language": "en"})
    assert _lang(client.get("/login", headers={"Accept-Language": "en"})) == "id"
    # A vendor user has no account default: the switch still holds after signing in.
    assert person.login("fulfilment@vendor.test").status_code == 303
    home = soup(client.get("/", headers={"Accept-Language": "en"}))
    assert home.html["lang"] == "id"
    assert "Keluar" in home.select_one(".usermenu-panel button").get_text()


def test_a_person_s_own_language_beats_the_account_default_and_the_browser(app, login_as):
    with app.app_context():
        _set("buyer@acme.test", language=None, account_default="id")
    buyer = login_as("buyer@acme.test")
    assert _lang(buyer.client.get("/", headers={"Accept-Language": "en"})) == "id"
    with app.app_context():
        _set("buyer@acme.test", language="en", account_default="id")
    assert _lang(buyer.client.get("/", headers={"Accept-Language": "id"})) == "en"
    with app.app_context():
        _set("buyer@acme.test", language=None, account_default=None)
    assert _lang(buyer.client.get("/", headers={"Accept-Language": "id"})) == "id"
    assert _lang(buyer.client.get("/", headers={"Accept-Language": "de"})) == "en"


def test_an_htmx_fragment_comes_in_the_person_s_language_not_the_header_s(app, login_as, catalog):
    from portal.catalog.models import Product

    with app.app_context():
        _set("buyer@acme.test", language="id")
        sku = db.session.scalar(select(Product.sku).order_by(Product.sku).limit(1))
    buyer = login_as("buyer@acme.test")
    response = buyer.client.get(
        f"/order/row?n=0&sku={sku}&qty=1000",
        headers={"HX-Request": "true", "Accept-Language": "en-US,en"},
    )
    cell = soup(response).select_one("td#pad-info-0")
    assert "<html" not in response.get_data(as_text=True)
    # Indonesian writes money with its own separators (the vendor's currency is EUR).
    assert re.search(r"€\d{1,3}(\.\d{3})*,\d{2}", cell.get_text()), cell.get_text()
    with app.app_context():
        _set("buyer@acme.test", language="en")
    english = soup(
        buyer.client.get(
            f"/order/row?n=0&sku={sku}&qty=1000",
            headers={"HX-Request": "true", "Accept-Language": "id"},
        )
    ).select_one("td#pad-info-0")
    assert re.search(r"\d{1,3}(,\d{3})*\.\d{2} EUR", english.get_text()), english.get_text()


def test_catalog_and_account_pages_speak_indonesian_with_babel_s_numbers(app, login_as, catalog):
    """Pages that went through gettext read in Indonesian, counts and dates by Babel."""
    from portal.accounts.models import CustomerAccount
    from portal.catalog.models import Product

    with app.app_context():
        _set("buyer@acme.test", language="id")
        product = db.session.scalar(
            select(Product).where(Product.lead_time_days > 1).order_by(Product.sku).limit(1)
        )
        product_id, lead = product.id, product.lead_time_days
        account_id = db.session.scalar(
            select(CustomerAccount.id).where(CustomerAccount.name.like("Acme%"))
        )
    buyer = login_as("buyer@acme.test")
    page = soup(buyer.client.get(f"/catalog/products/{product_id}"))
    facts = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in page.select("dl.facts > div")
    }
    assert facts["Waktu tunggu"] == f"{lead} hari"
    assert page.select_one("#availability").find_previous("h2").get_text() == "Ketersediaan"
    page = soup(buyer.client.get(f"/accounts/{account_id}"))
    facts = {
        row.dt.get_text(strip=True): row.dd.get_text(strip=True)
        for row in page.select("dl.facts > div")
    }
    assert "Nomor akun" in facts and "Pelanggan sejak" in facts
    # The account's date in Indonesian month names ("01 Des 2026"), not English ones.
    assert re.fullmatch(r"\d{2} \w{3} \d{4}", facts["Pelanggan sejak"])
    assert page.select_one("section h2").get_text() == "Alamat"
    with app.app_context():
        _set("buyer@acme.test", language="en")


def test_error_pages_speak_the_reader_s_language(client, demo):
    page = soup(client.get("/login/nothing-here", headers={"Accept-Language": "id"}))
    assert page.h1.get_text() == "Tidak ditemukan"


# --- formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "amount", "currency", "shown"),
    [
        ("en", "1234.5", None, "1,234.50 EUR"),
        ("en", "1234500", "IDR", "1,234,500 IDR"),
        ("id", "1234500", "IDR", "Rp1.234.500"),
        # Rupiah has no decimals, whatever the amount carries.
        ("id", "1234500.40", "IDR", "Rp1.234.500"),
        ("id", "1234.5", None, "€1.234,50"),
    ],
)
def test_money_is_written_by_babel_in_the_reader_s_locale(app, language, amount, currency, shown):
    from flask_babel import force_locale

    from portal.formatting import money

    with app.test_request_context(), force_locale(language):
        assert money(Decimal(amount), currency) == shown


def test_dates_and_numbers_follow_the_locale_and_zone(app):
    from flask_babel import force_locale

    from portal.formatting import day, localtime, number

    moment = datetime(2026, 12, 1, 7, 5, tzinfo=UTC)
    with app.test_request_context():
        assert day(date(2026, 12, 1)) == "01 Dec 2026"
        assert localtime(moment) == "01 Dec 2026 08:05"  # Europe/Berlin, the vendor's zone
        assert number(Decimal("1234.56")) == "1,234.56"
        with force_locale("id"):
            assert day(date(2026, 12, 1)) == "01 Des 2026"
            assert number(Decimal("1234.56")) == "1.234,56"


def test_kept_dates_and_amounts_follow_a_change_of_language_and_zone(app):
    """portal.formatting keeps what Babel wrote per value, zone and locale: the same value
    read again in another language or zone is written for that one, and back again."""
    import pytz
    from flask_babel import force_locale, get_timezone

    from portal import i18n
    from portal.formatting import day, localtime, money

    moment = datetime(2026, 12, 1, 7, 5, tzinfo=UTC)
    with app.test_request_context():
        for _ in range(2):
            assert (day(date(2026, 12, 1)), money(Decimal("1234.5"))) == (
                "01 Dec 2026",
                "1,234.50 EUR",
            )
            with force_locale("id"):
                assert (day(date(2026, 12, 1)), money(Decimal("1234.5"))) == (
                    "01 Des 2026",
                    "€1.234,50",
                )
        assert money(Decimal("-0")) == "-0.00 EUR" and money(Decimal("0")) == "0.00 EUR"
        assert localtime(moment) == "01 Dec 2026 08:05"
        get_timezone()
        i18n._babel_context().babel_tzinfo = pytz.timezone("Asia/Jakarta")
        assert localtime(moment) == "01 Dec 2026 14:05"


def test_babel_s_request_namespace_is_the_one_flask_babel_keeps_on_g(app):
    """portal.i18n reads Flask-Babel's namespace without the `g` proxy: the same object."""
    from flask import g
    from flask_babel import get_locale

    from portal import i18n

    assert i18n._babel_context() is None  # no application context
    with app.test_request_context():
        assert str(get_locale()) == "en"
        assert i18n._babel_context() is g._flask_babel
        assert g._flask_babel.babel_locale == get_locale()


@pytest.mark.parametrize("language", ("en", "id"))
def test_template_gettext_writes_what_jinja_s_own_newstyle_gettext_writes(app, language):
    """portal.i18n's `_`, `gettext` and `ngettext` for templates are Jinja's newstyle
    callables by a shorter way: the same text for every case Jinja's handle (escaped
    variables, "%%", plural forms, a translated text, none of it escaped twice)."""
    from flask_babel import force_locale, get_translations
    from jinja2 import Environment
    from markupsafe import Markup

    jinja_s = Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    jinja_s.install_gettext_callables(
        lambda text: get_translations().ugettext(text),
        lambda one, many, n: get_translations().ungettext(one, many, n),
        newstyle=True,
    )
    source = (
        "{{ _('Skip to content') }}|{{ _('Sign out') }}|{{ gettext('<b>%(who)s</b>', who=who) }}"
        "|{{ _('First response, median / 90 %%') }}|{{ _('100 % sure') if false }}"
        "|{{ ngettext('Notifications, %(num)d unread', 'Notifications, %(num)d unread', n) }}"
        "|{{ ngettext('%(num)d line', '%(num)d lines', n, num=n) }}"
        "|{% trans %}Portal{% endtrans %}|{% trans count=n %}{{ count }} line{% pluralize %}"
        "{{ count }} lines{% endtrans %}|{{ _('Markup %(x)s', x=safe) }}"
    )
    ours = app.jinja_env.from_string(source)
    theirs = jinja_s.from_string(source)
    with app.test_request_context(), force_locale(language):
        for n in (1, 2, 0):
            values = {"who": "<script>", "n": n, "safe": Markup("<i>ok</i>")}
            written = ours.render(values)
            assert written == theirs.render(values)
            assert "&lt;script&gt;" in written and "<i>ok</i>" in written and "90 %" in written
        # Outside autoescape (a text template) nothing is escaped, by either.
        plain = app.jinja_env.overlay(autoescape=False).from_string(source)
        jinja_s.autoescape = False
        assert plain.render(values) == jinja_s.from_string(source).render(values)
    if language == "id":
        assert "Langsung ke konten|Keluar|" in written


def test_translations_kept_for_a_request_follow_a_change_of_language_within_it(app):
    """portal.i18n keeps the request's translations beside their locale: a language
    forced or refreshed within the request is read in that language, and back."""
    from flask_babel import force_locale, gettext, refresh

    with app.test_request_context():
        assert gettext("Sign out") == "Sign out"
        with force_locale("id"):
            assert gettext("Sign out") == "Keluar"
        assert gettext("Sign out") == "Sign out"
        refresh()
        with force_locale("id"):
            assert app.jinja_env.from_string("{{ _('Sign out') }}").render() == "Keluar"
        assert app.jinja_env.from_string("{{ _('Sign out') }}").render() == "Sign out"


def test_wtforms_own_messages_come_in_the_reader_s_language(app):
    """A validator without a message of its own says what WTForms says: from the portal's
    catalogue (WTForms ships no Indonesian), placeholders filled by WTForms, plural
    forms included."""
    from flask_babel import force_locale
    from wtforms import IntegerField, StringField
    from wtforms.validators import DataRequired, Length

    from portal.forms import PortalForm

    class Sample(PortalForm):
        class Meta:
            csrf = False

        name = StringField("Name", validators=[DataRequired()])
        code = StringField("Code", validators=[Length(min=3)])
        quantity = IntegerField("Quantity")

    shown = {}
    for language in ("en", "id"):
        data = {"name": "", "code": "ab", "quantity": "many"}
        with app.test_request_context("/", method="POST", data=data), force_locale(language):
            form = Sample()
            assert not form.validate()
            shown[language] = {name: errors[0] for name, errors in form.errors.items()}
    assert shown["en"] == {
        "name": "This field is required.",
        "code": "Field must be at least 3 characters long.",
        "quantity": "Not a valid integer value.",
    }
    assert shown["id"] == {
        "name": "Kolom ini wajib diisi.",
        "code": "Kolom paling sedikit 3 karakter.",
        "quantity": "Bukan bilangan bulat yang valid.",
    }


def test_every_form_derives_from_the_portal_s_form_base():
    """A form on FlaskForm directly would show WTForms' messages in English to everyone."""
    import ast

    direct = []
    for path in (ROOT / "portal").rglob("*.py"):
        if path.name == "forms.py" and path.parent.name == "portal":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                getattr(base, "id", getattr(base, "attr", None)) == "FlaskForm"
                for base in node.bases
            ):
                direct.append(f"{path.relative_to(ROOT)}:{node.name}")
    assert direct == []
