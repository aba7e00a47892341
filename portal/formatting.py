"""Template filters and globals: dates, numbers and money written by Babel in the
reader's locale and zone (portal.i18n chooses them), navigation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal, format_percent
from flask import Flask, current_app, has_request_context, request, url_for
from flask_babel import get_locale, get_timezone, get_translations
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape

from portal.accounts.roles import Role


def viewer_timezone() -> ZoneInfo:
    """The signed-in user's zone, else their account's, else the vendor's default."""
    if not has_request_context():
        return ZoneInfo(current_app.config["DEFAULT_TIMEZONE"])
    # portal.i18n's selector chooses it once per request (Flask-Babel keeps it): pages
    # call this for every time they show, and reading the user through the
    # current_user proxy each time cost more than writing the time.
    return ZoneInfo(get_timezone().zone)


def reader_locale() -> Locale:
    """The reader's locale (portal.i18n decides it once per request); English outside one."""
    return _one_of(get_locale() or _ENGLISH)


_ENGLISH = Locale.parse("en")
# One Locale object per locale. The texts kept below are found by their arguments, the
# locale among them, and each request parses its own Locale: equal objects that are not
# the same one are compared by Babel's __eq__ in Python (~2 µs for every date or amount
# a page writes), the same object by identity. Bounded: the portal's languages.
_LOCALES: dict[tuple, Locale] = {}


def _one_of(locale: Locale) -> Locale:
    key = (locale.language, locale.territory, locale.script, locale.variant, locale.modifier)
    found = _LOCALES.get(key)
    if found is None:
        found = locale
        if len(_LOCALES) < 64:
            _LOCALES[key] = locale
    return found


# strftime directives the templates pass -> CLDR date fields, so that every date and
# time is written by Babel in the reader's locale ("01 Dec 2026" / "01 Des 2026").
_DIRECTIVES = {
    "%d": "dd",
    "%e": "d",
    "%m": "MM",
    "%b": "MMM",
    "%B": "MMMM",
    "%y": "yy",
    "%Y": "yyyy",
    "%a": "EEE",
    "%A": "EEEE",
    "%H": "HH",
    "%M": "mm",
    "%S": "ss",
}


@lru_cache(maxsize=64)
def cldr_pattern(fmt: str) -> str:
    """'%d %b %Y' -> 'dd MMM yyyy'; letters that are not a directive are quoted."""
    out, i = [], 0
    while i < len(fmt):
        piece = fmt[i : i + 2]
        if piece in _DIRECTIVES:
            out.append(_DIRECTIVES[piece])
            i += 2
            continue
        char = fmt[i]
        out.append(f"'{char}'" if char.isalpha() else ("''" if char == "'" else char))
        i += 1
    return "".join(out)


def localtime(value: datetime | None, fmt: str = "%d %b %Y %H:%M") -> str:
    """A timestamp in the reader's zone and locale."""
    if value is None:
        return "—"
    return _localtime(value, viewer_timezone(), fmt, reader_locale())


def localtimes(fmt: str = "%d %b %Y %H:%M") -> Callable[[datetime | None], str]:
    """`localtime` for many timestamps of one page: the reader's zone and locale looked
    up once (each lookup cost more than writing a time already written once)."""
    zone, locale = viewer_timezone(), reader_locale()
    return lambda value: "—" if value is None else _localtime(value, zone, fmt, locale)


def day(value: date | None, fmt: str = "%d %b %Y") -> str:
    """A calendar date (a promise, a requested date) in the reader's locale."""
    if value is None:
        return "—"
    return _day(value, fmt, reader_locale())


# What Babel writes depends on nothing but these arguments (the CLDR data does not
# change while the process runs), so the texts are kept: Babel takes 15-40 µs for each,
# a list page shows dozens and shows the same ones again on the next view. Bounded,
# nothing to invalidate, and no host can disagree with another about a pure function.
@lru_cache(maxsize=8192)
def _localtime(value: datetime, zone: ZoneInfo, fmt: str, locale: Locale) -> str:
    return format_datetime(value.astimezone(zone), cldr_pattern(fmt), locale=locale)


@lru_cache(maxsize=8192)
def _day(value: date, fmt: str, locale: Locale) -> str:
    return format_date(value, cldr_pattern(fmt), locale=locale)


def ago(value: datetime | None) -> str:
    """'3 days ago' style, for lists where recency matters more than the exact time."""
    from portal.extensions import utcnow

    return _ago(value, utcnow(), get_translations())


def agos() -> Callable[[datetime | None], str]:
    """`ago` for many timestamps of one page: the clock read and the reader's
    translations looked up once (each lookup cost more than the rest of a row's text)."""
    from portal.extensions import utcnow

    now, translations = utcnow(), get_translations()
    return lambda value: _ago(value, now, translations)


def _ago(value: datetime | None, now: datetime, t) -> str:
    if value is None:
        return t.gettext("never")
    seconds = (now - value).total_seconds()
    if seconds < 60:
        return t.gettext("just now")
    # One message per unit, written out for the extractor: each language its own plural.
    if seconds < 3600:
        num = int(seconds // 60)
        return t.ngettext("%(num)d minute ago", "%(num)d minutes ago", num) % {"num": num}
    if seconds < 86400:
        num = int(seconds // 3600)
        return t.ngettext("%(num)d hour ago", "%(num)d hours ago", num) % {"num": num}
    if seconds < 86400 * 60:
        num = int(seconds // 86400)
        return t.ngettext("%(num)d day ago", "%(num)d days ago", num) % {"num": num}
    num = int(seconds // (86400 * 30))
    return t.ngettext("%(num)d month ago", "%(num)d months ago", num) % {"num": num}


def isodate(value: str | None, fmt: str = "%d %b %Y") -> str:
    """An ISO date kept in an event's detail, shown like every other date."""
    if not value:
        return "—"
    return day(date.fromisoformat(value), fmt)


# English keeps the ISO code after the amount ("1,234.50 EUR"), as the portal always
# wrote it; other locales use their own pattern ("Rp1.234.500", "€1.234,50").
_CURRENCY_PATTERNS = {"en": "#,##0.00 ¤¤"}


def reader_currency() -> str:
    """The currency a customer's user reads prices in (their account's); vendor staff
    read the base currency. Pages about one order or account pass its currency."""
    user = current_user._get_current_object() if has_request_context() else None
    if user is not None and user.is_authenticated and user.account is not None:
        return user.account.currency
    return current_app.config["CURRENCY"]


def money(value: Decimal | None, currency: str | None = None) -> str:
    """1234.5 -> '1,234.50 EUR' (en), 'Rp1.234.500' (id, IDR). Decimal, never a float;
    the currency's own digits (none for rupiah), whatever the amount carries. Without
    a currency, the reader's (reader_currency)."""
    if value is None:
        return "—"
    return money_in(value, currency or reader_currency(), reader_locale())


@lru_cache(maxsize=8192)
def _money(value: str, currency: str, locale: Locale) -> str:
    return format_currency(
        Decimal(value),
        currency,
        format=_CURRENCY_PATTERNS.get(locale.language),
        locale=locale,
        currency_digits=True,
    )


def number(value: Decimal | int | None) -> str:
    """1234.56 -> '1,234.56' (en), '1.234,56' (id)."""
    if value is None:
        return "—"
    return number_in(value, reader_locale())


def money_in(value: Decimal, currency: str, locale: Locale) -> str:
    """`money` in a given locale: for text written for someone other than the reader
    of this request (an e-mail in its recipient's language)."""
    # str(value): -0 and 0 are equal Decimals (one cache entry) but not the same text.
    return _money(str(value), currency, locale)


def number_in(value: Decimal | int | float, locale: Locale) -> str:
    """`number` in a given locale (kept, like `_money`: pages and notifications write
    the same quantities again and again)."""
    return _number(str(value), locale)


@lru_cache(maxsize=8192)
def _number(value: str, locale: Locale) -> str:
    return format_decimal(Decimal(value), locale=locale)


def day_in(value: date, locale: Locale, fmt: str = "%d %b %Y") -> str:
    """`day` in a given locale."""
    return _day(value, fmt, locale)


def localtime_in(
    value: datetime, zone: ZoneInfo, locale: Locale, fmt: str = "%d %b %Y %H:%M"
) -> str:
    """`localtime` in a given zone and locale."""
    return _localtime(value, zone, fmt, locale)


def percent(value: Decimal | float | None) -> str:
    """0.925 -> '92%' (en), '92%' (id): a share, written by the locale."""
    if value is None:
        return "—"
    return format_percent(value, locale=reader_locale())


def filesize(size: int | None) -> str:
    """20971520 -> '20 MB', 1536 -> '1.5 KB' (binary units, as limits are configured)."""
    if size is None:
        return "—"
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor:
            value = size / factor
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} byte{'s' if size != 1 else ''}"


# The main navigation: links, and groups of links behind a disclosure menu. At 1280 px
# the bar holds about nine entries in Indonesian beside the brand, the bell and the
# user menu; a tenth link wrapped it onto a second row. So each side keeps its daily
# work as links and gathers the rest under a few named groups: everything a person may
# use is then one click away, or two (open the group, follow the link).


@dataclass(frozen=True)
class Link:
    """A page in the navigation; `roles` limits it to holders of one of them."""

    label: str
    endpoint: str
    roles: frozenset[Role] | None = None


@dataclass(frozen=True)
class Group:
    """Links behind a menu button. `key` names the menu's list (its element id)."""

    label: str
    key: str
    links: tuple[Link, ...]


def _link(label, endpoint: str, roles=None) -> Link:
    return Link(label, endpoint, frozenset(roles) if roles else None)


_DESK = {Role.FULFILMENT, Role.ADMIN, Role.ACCOUNT_MANAGER}
_PLANNING = {Role.PLANNER, Role.ADMIN, Role.ACCOUNT_MANAGER}

NAVIGATION: dict[str, list[Link | Group]] = {
    "vendor": [
        _link(_l("Home"), "home.index"),
        _link(_l("Accounts"), "accounts.index"),
        _link(_l("Orders"), "ordering.orders"),
        _link(_l("Desk"), "fulfilment.inbox", _DESK),
        _link(_l("Promises"), "fulfilment.promises", _DESK),
        _link(_l("Catalog"), "catalog.index"),
        Group(
            _l("Planning"),
            "planning",
            (
                _link(_l("Forecasts"), "forecasts.inbox", _PLANNING),
                _link(_l("Demand across accounts"), "planning.demand", _PLANNING),
                _link(_l("Forecast accuracy"), "planning.accuracy", _PLANNING),
                _link(_l("Plans"), "plans.index"),
            ),
        ),
        Group(
            _l("After the sale"),
            "after-sale",
            (
                _link(
                    _l("Service requests"),
                    "service.index",
                    {Role.SERVICE, Role.ENGINEER, Role.ACCOUNT_MANAGER, Role.ADMIN},
                ),
                # Fulfilment too: it ships the units and enters their serial numbers.
                _link(
                    _l("Equipment"),
                    "equipment.index",
                    {
                        Role.SERVICE,
                        Role.ENGINEER,
                        Role.FULFILMENT,
                        Role.ACCOUNT_MANAGER,
                        Role.ADMIN,
                    },
                ),
            ),
        ),
        Group(
            _l("Relationship"),
            "relationship",
            (
                _link(
                    _l("Portfolio"), "relationship.portfolio", {Role.ACCOUNT_MANAGER, Role.ADMIN}
                ),
                _link(_l("Follow-ups"), "contacts.follow_ups"),
                _link(
                    _l("Relationship reviews"),
                    "reviews.index",
                    {Role.ACCOUNT_MANAGER, Role.ADMIN},
                ),
                _link(
                    _l("Suggestions"),
                    "ideas.index",
                    {Role.ENGINEER, Role.ADMIN, Role.ACCOUNT_MANAGER},
                ),
            ),
        ),
    ],
    "customer": [
        _link(_l("Home"), "home.index"),
        _link(_l("Quick order"), "ordering.quick_order", {Role.BUYER}),
        _link(_l("Cart"), "ordering.cart", {Role.BUYER}),
        _link(_l("Orders"), "ordering.orders"),
        _link(_l("Catalog"), "catalog.index"),
        Group(
            _l("Planning"),
            "planning",
            (
                _link(_l("Forecasts"), "forecasts.index", {Role.BUYER, Role.CUSTOMER_ADMIN}),
                _link(_l("Plans"), "plans.index"),
            ),
        ),
        Group(
            _l("After the sale"),
            "after-sale",
            (
                _link(_l("Equipment"), "equipment.index"),
                _link(_l("Service and complaints"), "service.index"),
            ),
        ),
        Group(
            _l("Relationship"),
            "relationship",
            (
                _link(_l("Scorecard"), "reviews.own_scorecard"),
                _link(_l("Reviews with us"), "reviews.index"),
                _link(_l("Notes shared with us"), "contacts.shared"),
                _link(_l("Suggestions"), "ideas.index"),
            ),
        ),
    ],
}

# The user menu's links beside password and e-mail settings: looking after the account
# and running the portal, not the day's work.
USER_MENU: dict[str, list[Link]] = {
    "vendor": [
        _link(_l("Users"), "accounts.users", {Role.ADMIN}),
        _link(_l("Audit log"), "accounts.audit_log", {Role.ADMIN}),
        _link(_l("Background work"), "background.index", {Role.ADMIN}),
        _link(_l("API tokens"), "api_tokens.index", {Role.ADMIN}),
        _link(_l("cXML"), "cxml_pages.index", {Role.ADMIN}),
        # Beside the portfolio's own link to it, so that it stays two clicks away.
        _link(
            _l("Relationship health: weights and thresholds"),
            "relationship.settings",
            {Role.ADMIN},
        ),
    ],
    "customer": [
        _link(_l("Our account"), "accounts.detail"),
        _link(_l("Team"), "accounts.users", {Role.CUSTOMER_ADMIN}),
        _link(_l("API tokens"), "api_tokens.index", {Role.CUSTOMER_ADMIN}),
        _link(_l("Cost of ownership"), "equipment.ownership_settings", {Role.CUSTOMER_ADMIN}),
    ],
}


def navigation() -> list[dict]:
    """The main navigation for the signed-in person: links and groups, the current marked.

    A group shows only the links the person may open; a group left with one link is
    that link (a menu of one is a click for nothing), and an empty group is left out.
    """
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return []
    here = request._get_current_object()
    items = []
    for entry in _built_links(user, here)[0]:
        if isinstance(entry, _BuiltLink):
            items.append(entry.item(here))
            continue
        links = [link.item(here) for link in entry.links]
        items.append(
            {
                "label": entry.label,
                "key": entry.key,
                "links": links,
                "current": any(link["current"] for link in links),
                "endpoint": None,
            }
        )
    return items


def user_menu() -> list[dict]:
    """The user menu's links for the signed-in person (account, administration)."""
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return []
    here = request._get_current_object()
    return [link.item(here) for link in _built_links(user, here)[1]]


def _side(user) -> str:
    return "vendor" if user.is_vendor_staff else "customer"


@dataclass(frozen=True, slots=True)
class _BuiltLink:
    """A link as a person's language and the URL rules write it."""

    label: Markup
    endpoint: str
    url: str
    below: str  # the start of the paths of pages below it

    def item(self, here) -> dict:
        # The page itself or a page below it ("/orders/2026-000001"), not a
        # sibling that shares a prefix ("/order" is not below "/orders").
        current = here.endpoint == self.endpoint or (
            self.endpoint != "home.index" and here.path.startswith(self.below)
        )
        return {"label": self.label, "url": self.url, "current": current, "endpoint": self.endpoint}


@dataclass(frozen=True, slots=True)
class _BuiltGroup:
    label: Markup
    key: str
    links: tuple[_BuiltLink, ...]


# The navigation and user menu built for a side, set of roles, account, language, host
# and script root. They derive from NAVIGATION and USER_MENU, the URL rules and the
# catalogues, none of which change while the process runs, so every process and host
# builds the same; only which link is the page shown is decided per request. Building
# them (a translation and a URL per link) was a tenth of every page's layout. Bounded,
# emptied when full: the Host header is the client's.
_BUILT_LINKS: dict[tuple, tuple[tuple, tuple]] = {}
_MAX_BUILT_LINKS = 2048


def _built_links(user, here) -> tuple[tuple, tuple]:
    roles = frozenset(user.roles)
    key = (_side(user), roles, user.account_id, str(reader_locale()), here.host, here.script_root)
    built = _BUILT_LINKS.get(key)
    if built is None:
        navigation = []
        for entry in NAVIGATION[_side(user)]:
            if isinstance(entry, Link):
                navigation.extend(_build(user, roles, [entry]))
                continue
            links = _build(user, roles, entry.links)
            if len(links) == 1:
                navigation.extend(links)
            elif links:
                navigation.append(_BuiltGroup(escape(str(entry.label)), entry.key, tuple(links)))
        built = (tuple(navigation), tuple(_build(user, roles, USER_MENU[_side(user)])))
        if len(_BUILT_LINKS) >= _MAX_BUILT_LINKS:
            _BUILT_LINKS.clear()
        _BUILT_LINKS[key] = built
    return built


def _build(user, roles: frozenset, links) -> list[_BuiltLink]:
    built = []
    for link in links:
        if link.roles and not roles & link.roles:
            continue
        args = {"account_id": user.account_id} if link.endpoint == "accounts.detail" else {}
        url = url_for(link.endpoint, **args)
        built.append(_BuiltLink(escape(str(link.label)), link.endpoint, url, url.rstrip("/") + "/"))
    return built


def field_attributes(field) -> dict:
    """The attributes templates/_macros/forms.html's `field` gives a field's input: its
    hint and error named by aria-describedby, aria-invalid when it has errors, required
    when a validator requires it. In Python, not in the macro: six Jinja statements a
    field cost as much as WTForms writing the input."""
    described_by = []
    if field.description:
        described_by.append(f"{field.id}-hint")
    if field.errors:
        described_by.append(f"{field.id}-error")
    attributes = {}
    if described_by:
        attributes["aria-describedby"] = " ".join(described_by)
    if field.errors:
        attributes["aria-invalid"] = "true"
    if field.flags.required:
        attributes["required"] = True
    return attributes


def _install_form_macros(app: Flask) -> None:
    """`field` and `form_errors` (templates/_macros/forms.html) for every template.

    A page rendered for htmx is one block of its template alone, and a block does not
    see what the template imported at its top; as globals the one form macro is there
    in every block, so a form re-rendered with its errors never fails for want of it.
    """
    # Before the macros' module is made: it keeps the globals it was made with.
    app.add_template_global(field_attributes)
    with app.app_context():
        forms = app.jinja_env.get_template("_macros/forms.html").module
    app.add_template_global(forms.field, "field")
    app.add_template_global(forms.form_errors, "form_errors")


def install(app: Flask) -> None:
    _install_form_macros(app)
    app.add_template_filter(localtime)
    app.add_template_filter(ago)
    app.add_template_filter(money)
    app.add_template_filter(isodate)
    app.add_template_filter(day)
    app.add_template_filter(number)
    app.add_template_filter(percent)
    app.add_template_filter(filesize)
    from portal.markdown import render as markdown

    app.add_template_filter(markdown, "markdown")
    app.add_template_global(navigation)
    app.add_template_global(user_menu)
    app.add_template_global(Role)
    from portal.extensions import utcnow

    app.add_template_global(utcnow, "now_utc")
    from portal.audit.service import ACTION_LABELS

    app.add_template_global(ACTION_LABELS, "action_labels")

    @app.context_processor
    def _vendor_name():
        return {"vendor_name": app.config["VENDOR_NAME"]}
