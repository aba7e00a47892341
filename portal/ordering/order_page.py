"""What areas built on ordering add to the customer's order page.

The customer's order page (`ordering.order`) shows the order as placed: lines,
expected dates, approval, timeline. What happened at the vendor's desk since
(promises and their changes, shipments, cancellation requests, how well the
promises were kept) is fulfilment's, and fulfilment builds on ordering, so
ordering must not import it. Instead fulfilment registers, when its blueprint
is registered on the app, a function that gives the page those figures for one
order; the page renders what the registered functions return. Kept on the app
(not in a module-level list), so every app built by `create_app` has exactly
the parts registered on it.

A part is given the order's events as the page read them for its timeline (oldest
first, with their actor and line): what happened at the desk is in them, and
reading them again for each part cost the page a statement each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import Flask, current_app

from .models import Order, OrderEvent

Part = Callable[[Order, date, list[OrderEvent]], dict[str, Any]]

PARTS_KEY = "ordering.order_page_parts"

# What the page shows when no area adds anything: an order nobody at the vendor
# has touched yet. The names are the page template's.
EMPTY: dict[str, Any] = {
    "history": {},
    "shipments": [],
    "requests": [],
    "pending_lines": set(),
    "figures": {},
    "kept": None,
    "reasons": {},
    "reason_form": None,
}


def add_part(app: Flask, part: Part) -> None:
    """Register a function (order, today, events) -> template values for the order page."""
    app.extensions.setdefault(PARTS_KEY, []).append(part)


def parts(order: Order, today: date, events: list[OrderEvent]) -> dict[str, Any]:
    """The template values every registered area gives for this order; `events`: the
    order's events, oldest first (`service.timeline`)."""
    values = dict(EMPTY)
    for part in current_app.extensions.get(PARTS_KEY, ()):
        values |= part(order, today, events)
    return values


# Where an order came from, when another area made it (a replacement for a service
# request): (text, link or None) pairs, shown on the customer's and the desk's page.
Origin = Callable[[Order, Any], list[tuple[str, str | None]]]
ORIGINS_KEY = "ordering.order_origins"


def add_origin(app: Flask, origin: Origin) -> None:
    """Register a function (order, viewer) -> [(text, link or None)] for the order pages."""
    app.extensions.setdefault(ORIGINS_KEY, []).append(origin)


def origins(order: Order, viewer) -> list[tuple[str, str | None]]:
    """What the registered areas say this order was made for."""
    found: list[tuple[str, str | None]] = []
    for origin in current_app.extensions.get(ORIGINS_KEY, ()):
        found.extend(origin(order, viewer))
    return found
