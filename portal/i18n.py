"""The reader's language and time zone (Flask-Babel), chosen once per request.

English is the source language: every text is written in English in the code and
templates and goes through gettext; `portal/translations/<lang>/LC_MESSAGES` holds
the catalogues (GLOSSARY.md beside them keeps one word per concept). Another language
later is a new catalogue and an entry in LANGUAGES, nothing else.

Who decides, first that applies:
1. a signed-in person's own choice (`User.language`);
2. their customer account's default for its users (`CustomerAccount.default_language`);
3. the switch on the sign-in page, kept in the session (`?lang=id`);
4. the browser's Accept-Language;
5. English.

The decision reads the person, never only the request's headers, so an htmx fragment
comes in the same language as the page around it.
"""

from __future__ import annotations

from types import SimpleNamespace

import flask_babel
from flask import Flask, current_app, has_request_context, request, session
from flask.globals import _cv_app
from flask_babel import Babel
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup

# Language code -> its name in that language (the switch shows each in its own words).
LANGUAGES = {"en": "English", "id": "Bahasa Indonesia"}
SOURCE_LANGUAGE = "en"
# The session key of the sign-in page's switch; kept across sign-in and sign-out.
SESSION_KEY = "language"

babel = Babel()


def _person():
    if not has_request_context():
        return None
    user = current_user._get_current_object()
    return user if user is not None and user.is_authenticated else None


def select_locale() -> str:
    """The reader's language code (see the module's docstring for the order)."""
    languages = current_app.config["LANGUAGES"]
    user = _person()
    if user is not None:
        if user.language in languages:
            return user.language
        account = user.account
        if account is not None and account.default_language in languages:
            return account.default_language
    if has_request_context():
        chosen = session.get(SESSION_KEY)
        if chosen in languages:
            return chosen
        best = request.accept_languages.best_match(list(languages))
        if best:
            return best
    return SOURCE_LANGUAGE


def select_timezone() -> str:
    """The reader's zone: their own, else their account's, else the vendor's default."""
    user = _person()
    name = None
    if user is not None:
        account = user.account
        name = user.timezone or (account.timezone if account is not None else None)
    return name or current_app.config["DEFAULT_TIMEZONE"]


def remember_switch() -> None:
    """`?lang=id` on any public page (the sign-in page's switch) is kept in the session."""
    wanted = request.args.get("lang")
    if wanted and wanted in current_app.config["LANGUAGES"] and session.get(SESSION_KEY) != wanted:
        session[SESSION_KEY] = wanted
        from flask_babel import refresh

        refresh()


def _babel_context() -> SimpleNamespace | None:
    """Flask-Babel's per-request namespace (on `g`), as flask_babel._get_current_context
    returns it, read from the context variable instead of through the `g` proxy three
    times. Flask-Babel asks for it three times for every text it translates and for
    every date and amount written: a page paid 100-150 lookups, a tenth of its time."""
    context = _cv_app.get(None)
    if context is None:
        return None
    found = context.g.__dict__.get("_flask_babel")
    if found is None:
        found = context.g._flask_babel = SimpleNamespace()
    return found


class _RequestDomain(flask_babel.Domain):
    """Flask-Babel's domain, with the request's translations kept for the request:
    Flask-Babel looks them up again for every text it translates (the locale written
    as a string, a dictionary probed), 50-120 times a page. Kept per request beside
    the locale they are for, so a change of language within the request (`refresh`,
    `force_locale`, both of which put another Locale object in its place) reads the
    new language's."""

    def get_translations(self):
        context = _babel_context()
        if context is None:
            return super().get_translations()
        locale = flask_babel.get_locale()
        kept = context.__dict__.get("portal_translations")
        if kept is not None and kept[0] is locale:
            return kept[1]
        translations = super().get_translations()
        context.portal_translations = (locale, translations)
        return translations


@pass_context
def template_gettext(context, string: str, /, **variables) -> str:
    """`_()` and `gettext()` in templates: what Jinja's newstyle gettext does (escaped
    in an autoescaped template, always a format string) by a shorter way. Jinja's own
    goes through `Context.call` three times and formats with `%` even when the text has
    no placeholder: ten microseconds a text, and a page writes 20-50 of them."""
    text = flask_babel.get_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    # A text without "%" formats to itself whatever the variables are.
    return text % variables if "%" in text else text


@pass_context
def template_ngettext(context, singular: str, plural: str, num: int, /, **variables) -> str:
    """`ngettext()` in templates, as `template_gettext` (`num` is a variable too)."""
    variables.setdefault("num", num)
    text = flask_babel.get_translations().ungettext(singular, plural, num)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables if "%" in text else text


def install(app: Flask) -> None:
    # The same namespace by a shorter way (tests/test_i18n.py holds both to it).
    flask_babel._get_current_context = _babel_context
    app.config.setdefault("LANGUAGES", dict(LANGUAGES))
    app.config.setdefault("BABEL_DEFAULT_LOCALE", SOURCE_LANGUAGE)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    with app.app_context():
        # Flask-Babel keeps its domain on the Babel object (a cached property).
        babel.domain_instance = _RequestDomain(domain=babel.domain)
    # After Flask-Babel installed Jinja's callables: the same texts, cheaper (above).
    app.jinja_env.globals.update(
        _=template_gettext, gettext=template_gettext, ngettext=template_ngettext
    )
    app.before_request(remember_switch)

    @app.context_processor
    def _languages():
        from flask_babel import get_locale

        return {"languages": app.config["LANGUAGES"], "current_language": str(get_locale())}
