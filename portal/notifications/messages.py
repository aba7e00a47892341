"""What each kind of notification says: one template per kind, rendered when read.

A notification is stored as its kind and its parameters (JSON), never as a sentence:
the sentence is written when someone reads it, in the reader's language and zone, so
the same row reads "Order 2026-000012 was confirmed" to one person and "Pesanan
2026-000012 telah dikonfirmasi" to another, and a translation fixed later fixes the
old rows too. The English rendering is also kept in `Notification.text`: what an
older release (which does not know a newer kind) shows, and what rows written before
kinds carried parameters still show.

Parameters are encoded once, when written (`encode`), so that what they are survives
JSON: a date stays a date (written as the reader writes dates), an amount keeps its
currency, a translatable label (a `lazy_gettext` value such as a status name) keeps
its message id and is translated for each reader. Text people typed (a title, a
comment, a reason) and names are stored as they are.

A kind may say different things depending on its parameters:
- a `variant` parameter picks `MESSAGES["kind.variant"]` (a status, accepted or
  declined): the caller names which sentence it means;
- an entry that is a tuple of templates takes the first whose placeholders all have
  a value (a shipment with or without carrier and tracking number);
- a `Counted` template has plural forms, picked by the count in one of its parameters
  ("1 line", "2 lines"; Indonesian has one form).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_timedelta
from flask_babel import get_translations, gettext, lazy_ngettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from portal import formatting

log = logging.getLogger("portal.notifications")

# The longest text a string parameter keeps (the rendered sentence is cut to one line
# of TEXT_MAX as well; a parameter far longer than that is never shown whole).
PARAM_TEXT_MAX = 300


class Counted:
    """A sentence whose words follow a count: `template` is a `lazy_ngettext` (so its
    singular and plural are extracted and translated like any plural), `by` names the
    parameter whose value picks the form when the sentence is written. The count given
    to lazy_ngettext is a stand-in: the parameter's value is what counts."""

    __slots__ = ("by", "singular", "plural")

    def __init__(self, by: str, template: LazyString) -> None:
        if template._func is not ngettext:
            raise TypeError("a counted sentence is a lazy_ngettext template")
        self.by = by
        self.singular, self.plural = template._args[0], template._args[1]

    def text(self, count: int) -> str:
        """The form for `count` in the current language, placeholders still in it."""
        # Not flask_babel.ngettext: it would format "%(num)s" itself.
        return get_translations().ungettext(self.singular, self.plural, count)


_COMMIT_MISMATCH = Counted(
    "count",
    lazy_ngettext(
        "%(vendor)s committed less than your forecast version %(version)s for %(count)s "
        "product-month.",
        "%(vendor)s committed less than your forecast version %(version)s for %(count)s "
        "product-months.",
        1,
    ),
)

# kind (or "kind.variant") -> its sentence, or several to choose from by parameters.
MESSAGES: dict[str, Any] = {
    # --- orders -------------------------------------------------------------------------
    "approval_needed": _l("Order %(number)s from %(buyer)s (%(total)s) needs your approval."),
    "order_approved": (
        _l("Order %(number)s was approved by %(actor)s: “%(comment)s”"),
        _l("Order %(number)s was approved by %(actor)s."),
    ),
    "order_rejected": (
        _l("Order %(number)s was rejected by %(actor)s: “%(comment)s”"),
        _l("Order %(number)s was rejected by %(actor)s."),
    ),
    "order_placed": Counted(
        "lines",
        lazy_ngettext(
            "New order %(number)s from %(account)s: %(lines)s line, %(total)s.",
            "New order %(number)s from %(account)s: %(lines)s lines, %(total)s.",
            1,
        ),
    ),
    "order_confirmed": (
        _l("Order %(number)s was confirmed; the first lines are promised for %(date)s."),
        _l("Order %(number)s was confirmed: every line declined."),
    ),
    "promise_changed": _l(
        "Order %(number)s, line %(line)s (%(sku)s): now promised for %(date)s instead of "
        "%(before)s (%(reason)s)."
    ),
    "order_shipped": (
        Counted(
            "quantity",
            lazy_ngettext(
                "Order %(number)s: %(quantity)s unit shipped %(date)s with %(carrier)s, "
                "tracking %(tracking)s.",
                "Order %(number)s: %(quantity)s units shipped %(date)s with %(carrier)s, "
                "tracking %(tracking)s.",
                1,
            ),
        ),
        Counted(
            "quantity",
            lazy_ngettext(
                "Order %(number)s: %(quantity)s unit shipped %(date)s with %(carrier)s.",
                "Order %(number)s: %(quantity)s units shipped %(date)s with %(carrier)s.",
                1,
            ),
        ),
        Counted(
            "quantity",
            lazy_ngettext(
                "Order %(number)s: %(quantity)s unit shipped %(date)s, tracking %(tracking)s.",
                "Order %(number)s: %(quantity)s units shipped %(date)s, tracking %(tracking)s.",
                1,
            ),
        ),
        Counted(
            "quantity",
            lazy_ngettext(
                "Order %(number)s: %(quantity)s unit shipped %(date)s.",
                "Order %(number)s: %(quantity)s units shipped %(date)s.",
                1,
            ),
        ),
    ),
    "order_delivered": Counted(
        "quantity",
        lazy_ngettext(
            "Order %(number)s: %(quantity)s unit delivered %(date)s.",
            "Order %(number)s: %(quantity)s units delivered %(date)s.",
            1,
        ),
    ),
    "line_cancelled": _l(
        "Order %(number)s, line %(line)s (%(sku)s): %(quantity)s %(unit)s cancelled by "
        "%(vendor)s: %(reason)s"
    ),
    "cancellation_requested": _l(
        "%(account)s asks to cancel order %(number)s, line %(line)s (%(sku)s)."
    ),
    "cancellation_answered.accepted": (
        _l(
            "Your request to cancel order %(number)s, line %(line)s (%(sku)s) was accepted: "
            "%(comment)s"
        ),
        _l("Your request to cancel order %(number)s, line %(line)s (%(sku)s) was accepted."),
    ),
    "cancellation_answered.declined": (
        _l(
            "Your request to cancel order %(number)s, line %(line)s (%(sku)s) was declined: "
            "%(comment)s"
        ),
        _l("Your request to cancel order %(number)s, line %(line)s (%(sku)s) was declined."),
    ),
    # --- suggestions ----------------------------------------------------------------------
    "idea_submitted": _l("New suggestion %(reference)s from %(account)s: %(title)s"),
    "idea_proposed": _l("%(vendor)s proposes %(reference)s: %(title)s"),
    "idea_answered.question": _l("Your suggestion %(reference)s has a question: %(title)s"),
    "idea_answered.answer": _l("Your suggestion %(reference)s was answered: %(title)s"),
    "idea_answered": _l("Your suggestion %(reference)s has a reply: %(title)s"),
    "idea_message": _l("%(account)s wrote on %(reference)s: %(title)s"),
    "idea_assigned": _l("%(reference)s from %(account)s is yours: %(title)s"),
    "idea_status": _l("Your suggestion %(reference)s is now %(status)s: %(title)s"),
    "idea_status.accepted": _l("%(account)s accepted %(reference)s: %(title)s"),
    "idea_status.declined": _l("%(account)s declined %(reference)s: %(title)s"),
    "idea_status.merged": _l("Your suggestion %(reference)s was merged into %(target)s: %(title)s"),
    # --- plans and forecasts ----------------------------------------------------------------
    "plan_published": _l("New plan from %(source)s: %(title)s (%(plan_kind)s, from %(date)s)"),
    "plan_changed": _l("Plan changed from %(source)s: %(title)s (%(plan_kind)s, from %(date)s)"),
    "plan_changed.withdrawn": _l(
        "Plan withdrawn from %(source)s: %(title)s (%(plan_kind)s, from %(date)s)"
    ),
    "forecast_published": Counted(
        "cells",
        lazy_ngettext(
            "%(account)s published forecast version %(version)s (%(cells)s cell changed).",
            "%(account)s published forecast version %(version)s (%(cells)s cells changed).",
            1,
        ),
    ),
    "commit_mismatch": _COMMIT_MISMATCH,
    # Written before the sentence had plural forms (count 1 named its variant): the
    # same sentence, so those rows read as new ones do.
    "commit_mismatch.one": _COMMIT_MISMATCH,
    # --- service ---------------------------------------------------------------------------
    "service_opened": _l("New request %(reference)s from %(account)s (%(priority)s): %(title)s"),
    "service_opened.by_vendor": _l("%(actor)s opened %(reference)s for you: %(title)s"),
    "service_answered": _l("%(reference)s has an answer: %(title)s"),
    "service_message": _l("%(account)s wrote on %(reference)s: %(title)s"),
    "service_assigned": _l("%(reference)s from %(account)s is yours now: %(title)s"),
    "service_status.acknowledged": _l(
        "%(reference)s is acknowledged; %(owner)s looks after it: %(title)s"
    ),
    "service_status.in_progress": _l("%(reference)s is being worked on: %(title)s"),
    "service_status.waiting": _l("%(reference)s waits for your answer: %(title)s"),
    "service_status.resolved": _l(
        "%(reference)s is resolved: please confirm or reopen it: %(title)s"
    ),
    "service_status.closed": _l(
        "%(reference)s was closed: you can still tell us how it went. %(title)s"
    ),
    "service_rated.satisfied": _l("%(account)s closed %(reference)s (satisfied): %(title)s"),
    "service_rated.not_satisfied": _l(
        "%(account)s closed %(reference)s (not satisfied): %(title)s"
    ),
    "service_reopened": _l("%(account)s reopened %(reference)s: %(title)s"),
    "service_replacement": _l(
        "Order %(number)s replaces %(quantity)s × %(sku)s free of charge (%(reference)s)"
    ),
    "service_promise_warning": _l(
        "%(reference)s from %(account)s: the promised %(promise)s is due in %(left)s of "
        "working time. %(title)s"
    ),
    "service_promise_breached": _l(
        "%(reference)s from %(account)s: the promised %(promise)s is overdue. %(title)s"
    ),
    # --- relationships -----------------------------------------------------------------------
    "follow_up_assigned": _l(
        "%(actor)s asks you to follow up with %(account)s by %(date)s: %(title)s"
    ),
    "review_due": _l("The relationship review of %(account)s for %(quarter)s is due."),
    "review_shared": _l("%(actor)s shared the relationship review of %(quarter)s with you."),
    "review_commented": _l("%(actor)s (%(account)s) commented on the review of %(quarter)s."),
    "relationship_red": _l(
        "%(account)s turned red — %(signals)s. What is the next step? Acknowledge it on the "
        "account's page."
    ),
    # Many accounts at once (a first refresh): one message naming the worst.
    "relationship_red.many": (
        _l(
            "%(count)s accounts turned red: %(accounts)s and %(more)s more. What is the next "
            "step for each? Acknowledge them on their pages."
        ),
        _l(
            "%(count)s accounts turned red: %(accounts)s. What is the next step for each? "
            "Acknowledge them on their pages."
        ),
    ),
    "relationship_escalated": (
        _l(
            "%(account)s has been red for %(subject)s since %(date)s and %(manager)s has not "
            "acknowledged it in two working days: %(reason)s"
        ),
        _l(
            "%(account)s has been red for %(subject)s since %(date)s and nobody has "
            "acknowledged it in two working days: %(reason)s"
        ),
    ),
}

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class UnknownMessage(LookupError):
    """No template for this kind (a newer release wrote it) or its parameters do not fit."""


# --- writing -----------------------------------------------------------------------------


def money(amount: Decimal, currency: str) -> dict[str, str]:
    """An amount with its currency, as a parameter: written in the reader's format."""
    return {"money": str(amount), "currency": currency}


def encode(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as JSON that keeps what each value is; None values are left out."""
    encoded: dict[str, Any] = {}
    for name, value in params.items():
        if value is not None:
            encoded[name] = _encode_value(name, value)
    return encoded


def message(template: LazyString, params: Mapping[str, Any]) -> dict[str, Any]:
    """A translatable sentence with typed parameters, as JSON kept for later readers:
    its message id (and plural form and count, for a `lazy_ngettext` template) and the
    parameters encoded as notifications' own; `render_value` writes it in the reader's
    language. The relationship signals' figures and reasons are stored this way."""
    encoded: dict[str, Any] = {"msg": template._args[0], "params": encode(params)}
    if template._func is ngettext:
        encoded["plural"], encoded["n"] = template._args[1], template._args[2]
    return encoded


def render_value(value: Any) -> str:
    """A stored value in the reader's language and zone: a string stays as it is (what
    was stored before sentences kept their message ids), a message or typed value is
    written for this reader; what cannot be read shows as "—", never an error."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    try:
        return _render_value(
            value, formatting.reader_locale(), formatting.viewer_timezone(), get_translations()
        )
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as error:
        log.info("stored value shown as a dash: %s", error)
        return "—"


def _encode_value(name: str, value: Any) -> Any:
    if isinstance(value, dict) and "msg" in value:
        return value  # already encoded by `message` (a stored reason passed on)
    if isinstance(value, LazyString):
        if value._func is render_value and len(value._args) == 1:
            # A sentence kept as a message (portal.relationship.phrases.Phrase).
            return value._args[0]
        if value._func is gettext and len(value._args) == 1 and not value._kwargs:
            # The message id: translated again for each reader.
            return {"msg": value._args[0]}
        return _text(str(value))
    if isinstance(value, bool):
        raise ValueError(f"say what {name}={value!r} means with a variant, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return {"number": str(value)}
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{name} is a naive datetime; timestamps are UTC-aware")
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"seconds": int(value.total_seconds())}
    if isinstance(value, dict) and set(value) == {"money", "currency"}:
        return dict(value)
    if isinstance(value, list | tuple):
        return [_encode_value(name, item) for item in value]
    if isinstance(value, str):
        return _text(value)
    raise ValueError(f"a notification parameter cannot be a {type(value).__name__}: {name}")


def _text(value: str) -> str:
    return one_line(value, PARAM_TEXT_MAX)


def one_line(value: str, limit: int) -> str:
    """Whitespace collapsed (no line breaks: the text is also a mail header), cut to `limit`."""
    value = " ".join((value or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


# --- reading -----------------------------------------------------------------------------


def template_for(kind: str, params: Mapping[str, Any]):
    """The lazy template this kind and these parameters call for, or UnknownMessage."""
    variant = params.get("variant")
    key = f"{kind}.{variant}" if variant else kind
    entry = MESSAGES.get(key)
    if entry is None:
        raise UnknownMessage(key)
    choices = entry if isinstance(entry, tuple) else (entry,)
    for template in choices:
        if all(name in params for name in placeholders(template)):
            return template
    raise UnknownMessage(f"{key}: no template fits {sorted(params)}")


def placeholders(template) -> frozenset[str]:
    """The names a template's English text uses ("%(number)s" -> "number"); a counted
    one's, in either form, and its count."""
    if isinstance(template, Counted):
        return (
            _placeholders(template.singular)
            | _placeholders(template.plural)
            | frozenset([template.by])
        )
    return _placeholders(template._args[0])


@lru_cache(maxsize=256)
def _placeholders(msgid: str) -> frozenset[str]:
    # Asked for each row shown (50 on a list page); the templates are a fixed set.
    return frozenset(_PLACEHOLDER.findall(msgid))


def render(
    kind: str,
    params: Mapping[str, Any] | None,
    fallback: str,
    *,
    zone: ZoneInfo | None = None,
) -> str:
    """The sentence in the current locale (the reader's, or a forced one) and `zone`
    (default: the reader's). No parameters (a row from before they were stored), an
    unknown kind or parameters that do not fit: the stored text, never an error."""
    # Whatever JSON a row holds (written by hand, or by another release): never a 500.
    if not isinstance(params, Mapping):
        return fallback
    try:
        template = template_for(kind, params)
        locale = formatting.reader_locale()
        zone = zone or formatting.viewer_timezone()
        values = {
            name: _render_value(value, locale, zone)
            for name, value in params.items()
            if name != "variant"
        }
        if isinstance(template, Counted):
            # The form follows the stored count (an int), not its written form.
            count = params[template.by]
            if not isinstance(count, int) or isinstance(count, bool):
                raise TypeError(f"{template.by} counts, so it is a whole number: {count!r}")
            text = template.text(count) % values
        else:
            text = gettext(template._args[0], **values)
    except (
        UnknownMessage,
        KeyError,
        TypeError,
        ValueError,
        AttributeError,
        InvalidOperation,
    ) as error:
        log.info("notification %s shown from its stored text: %s", kind, error)
        return fallback
    return " ".join(text.split())


def _render_value(value: Any, locale: Locale, zone: ZoneInfo, t=None) -> str:
    """`value` written for `locale` and `zone`; `t`, the reader's translations, looked up
    once for a sentence and the sentences inside it (else for each message)."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return formatting.number_in(value, locale)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        # A list of items, each maybe a pair ("signal: reason").
        return "; ".join(
            ": ".join(_render_value(part, locale, zone, t) for part in item)
            if isinstance(item, list)
            else _render_value(item, locale, zone, t)
            for item in value
        )
    if isinstance(value, dict):
        if "msg" in value:
            if t is None:
                t = get_translations()
            params = {
                name: _render_value(item, locale, zone, t)
                for name, item in (value.get("params") or {}).items()
            }
            if "plural" in value:
                # Not flask_babel.ngettext: its own "num" would clash with the parameter.
                return t.ungettext(value["msg"], value["plural"], value["n"]) % params
            # Without parameters gettext leaves "%" alone: only format when there are some.
            text = t.ugettext(value["msg"])
            return text % params if params else text
        if "money" in value:
            return formatting.money_in(Decimal(value["money"]), value["currency"], locale)
        if "number" in value:
            return formatting.number_in(Decimal(value["number"]), locale)
        if "date" in value:
            return formatting.day_in(date.fromisoformat(value["date"]), locale)
        if "datetime" in value:
            return formatting.localtime_in(datetime.fromisoformat(value["datetime"]), zone, locale)
        if "seconds" in value:
            return format_timedelta(timedelta(seconds=value["seconds"]), threshold=2, locale=locale)
    raise ValueError(f"not a notification parameter: {value!r}")


# --- whom it is written for, outside their own request -----------------------------------


def language_of(user) -> str:
    """The language an e-mail to `user` is written in: their own, else their account's
    default for its users, else the portal's default (as portal.i18n decides for pages,
    minus what only a browser can say)."""
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if user.language in languages:
        return user.language
    account = user.account
    if account is not None and account.default_language in languages:
        return account.default_language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def zone_of(user) -> ZoneInfo:
    """The zone times are written in for `user`: theirs, their account's, the vendor's."""
    from flask import current_app

    account = user.account
    name = user.timezone or (account.timezone if account is not None else None)
    return ZoneInfo(name or current_app.config["DEFAULT_TIMEZONE"])
