"""Pages rendered under a pseudo-locale: every text that went through gettext comes out
wrapped in ⟦…⟧, so English left outside the markers never went through gettext and an
Indonesian reader would see it in English.

PSEUDO_PAGES names the pages (and the part of each) already translated. Extend it with
every page you translate, until it is every page of the access matrix (tests/test_access.py).
"""

from __future__ import annotations

import re

import pytest
from babel.support import Translations
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db

from .support import soup

PSEUDO = "eo"  # a locale Babel knows and the portal has no catalogue for
OPEN, CLOSE = "⟦", "⟧"

# (who, path, CSS selector of the translated parts, expected status). None: not signed in.
PSEUDO_PAGES = [
    (None, "/login", "body", 200),
    (None, "/no-such-page", "body", 404),
    ("buyer@acme.test", "/no-such-page", "body", 404),
    # The quick order's pad and paste form (its checked lines still show domain texts
    # from the services: availability, line problems, not yet translated).
    ("buyer@acme.test", "/order", "header, main .page-head, .quick-order", 200),
    # Home, cart, checkout, order page: only the layout around them so far.
    ("buyer@acme.test", "/", "header, #relationship-timeline", 200),
    # What each vendor role owes (the portfolio's rows are relationship's own texts).
    ("planner@vendor.test", "/", "header, main", 200),
    ("fulfilment@vendor.test", "/", "header, main", 200),
    ("engineer@vendor.test", "/", "header, main", 200),
    ("service@vendor.test", "/", "header, main", 200),
    ("buyer@acme.test", "/cart", "header", 200),
    ("buyer@acme.test", "/orders", "header", 200),
    (
        "manager@vendor.test",
        "/",
        "header, main .page-head, #home-portfolio .section-head, #home-portfolio thead",
        200,
    ),
]
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
    rest = re.sub(f"{OPEN}.*?{CLOSE}", " ", text, flags=re.DOTALL)
    for value in sorted(allowed, key=len, reverse=True):
        rest = rest.replace(value, " ")
    return re.findall(r"[A-Za-z]{2,}(?:[ '-][A-Za-z]+)*", rest)


@pytest.mark.parametrize(("who", "path", "part", "status"), PSEUDO_PAGES)
def test_translated_pages_show_no_text_outside_gettext(
    app, client, login_as, pseudo, who, path, part, status
):
    # Data people typed is not translated: names, e-mails, the vendor's name, and the
    # names of the languages in their own words on the switch.
    allowed = [app.config["VENDOR_NAME"], *app.config["LANGUAGES"].values()]
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
        found += _untranslated(region.get_text(" "), allowed)
        for element in region.find_all(True):
            for name in ATTRIBUTES:
                if element.has_attr(name):
                    found += _untranslated(element[name], allowed)
    assert not found, f"{path} shows text that never went through gettext: {found}"


def test_the_pseudo_locale_catches_english(app, pseudo):
    """The check itself: plain English outside the markers is found."""
    assert _untranslated(f"{OPEN}Sign in{CLOSE} Forgot password?", []) == ["Forgot password"]
    assert _untranslated(f"{OPEN}Sign in{CLOSE} 12,00 · Bea", ["Bea"]) == []
