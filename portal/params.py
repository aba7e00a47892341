"""What the portal reads from URLs, query strings and forms, made safe to hand to a database.

Whole numbers: one rule everywhere, plain digits, at most DATABASE_INT_MAX (a
32-bit integer column). Anything else is no number at all, so the caller's
default applies: a page that is not there, a field with its message. Handing
Python's unbounded integers to the database would overflow the column (a
server error) instead.

Text: a NUL character is refused for the whole request (400). No form or link
sends one, PostgreSQL cannot store or even compare it, and stripping it would
silently change what was asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, request
from werkzeug.routing import IntegerConverter

if TYPE_CHECKING:
    from flask import Flask

DATABASE_INT_MAX = 2**31 - 1


def database_int(value: str | None) -> int:
    """The number `value` writes in plain digits (0..DATABASE_INT_MAX); ValueError otherwise.

    Made for werkzeug's `request.args.get(name, default, type=database_int)`,
    which answers `default` when the conversion raises ValueError.
    """
    text = (value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(DATABASE_INT_MAX)):
        raise ValueError(f"not a whole number from 0 to {DATABASE_INT_MAX}: {text[:20]!r}")
    number = int(text)
    if number > DATABASE_INT_MAX:
        raise ValueError(f"larger than {DATABASE_INT_MAX}: {text!r}")
    return number


def optional_database_int(value: str | None) -> int | None:
    """`database_int`, or None where the value is missing or is not such a number."""
    try:
        return database_int(value)
    except ValueError:
        return None


class DatabaseIdConverter(IntegerConverter):
    """`<int:…>` in every route: whole numbers a 32-bit integer column can hold."""

    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", DATABASE_INT_MAX)
        super().__init__(url_map, *args, **kwargs)


def _refuse_nul_characters():
    """Answer 400 to a request whose path, query string or form holds a NUL character."""
    if "\x00" in request.path:
        abort(400)
    for values in (request.args, request.form):
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400)
    return None


def install(app: Flask) -> None:
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(_refuse_nul_characters)
