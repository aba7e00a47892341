"""What the signals say (a reading's figure, baseline and reason), kept as message ids
with typed parameters so that each reader reads them in their own language.

A `Phrase` is a lazy string: in code and tests it reads as the sentence in the current
language (English outside a request), while the snapshot stores `stored(phrase)`, the
JSON that portal.notifications.messages writes again for every reader (`shown`). Snapshots
written before hold plain English strings: those are shown as they are.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_babel.speaklater import LazyString
from markupsafe import escape

from portal.notifications import messages


class Phrase(LazyString):
    """A sentence from a lazy template and its parameters (numbers, dates, phrases)."""

    def __init__(self, template: LazyString, **params: Any) -> None:
        super().__init__(messages.render_value, messages.message(template, params))

    def __html__(self):
        # LazyString's own __html__ marks itself safe; a reason can quote what a
        # customer wrote, so it is escaped like any other text.
        return escape(str(self))


class Joined(Phrase):
    """Phrases one after another, separated by "; " (as notifications join a list)."""

    def __init__(self, parts: list) -> None:
        LazyString.__init__(self, messages.render_value, [stored(part) for part in parts])


class Shown(Phrase):
    """`shown(value)` written when it is read (str, or in a template), not before."""

    def __init__(self, value: Any) -> None:
        LazyString.__init__(self, shown, value)


def stored(value: Any) -> Any:
    """What the snapshot keeps of a figure, baseline or reason: a phrase as its JSON."""
    if isinstance(value, Phrase):
        return value._args[0]
    return value


def shown(value: Any) -> str:
    """A stored figure, baseline or reason in the reader's language; a string as it is."""
    return messages.render_value(value)


def number(value: float | int | Decimal) -> Any:
    """A number as a parameter written by the reader's locale (12.5 -> "12,5" in id)."""
    if isinstance(value, int | Decimal):
        return value
    return int(value) if value == int(value) else Decimal(f"{value:g}")


def days(value: float | None) -> Any:
    """12 -> "12 days", 1 -> "1 day", 12.5 -> "12.5 days"; None -> "—"."""
    if value is None:
        return "—"
    return Phrase(lazy_ngettext("%(num)s day", "%(num)s days", value), num=number(value))


def pct(value: float | None) -> Any:
    """47.4 -> "47 %"; None -> "—"."""
    if value is None:
        return "—"
    return Phrase(_l("%(pct)s %%"), pct=int(f"{value:.0f}"))


def amount(value) -> int:
    """An order value, whole (the signals compare sums in the account's currency)."""
    return int(f"{value:.0f}")
