"""Everything htmx, behind one small module.

htmx-flask gives `request.htmx`; jinja2-fragments renders one named block of
a page template. Routes call `render_page`, which answers a full page to a
normal request and only the named block to an htmx request, so there is never
a second copy of the markup. Swapping the library is a change to this file.
"""

from __future__ import annotations

from typing import Any

from flask import Response, make_response, render_template, request
from htmx_flask import Htmx
from htmx_flask import make_response as htmx_make_response
from jinja2_fragments.flask import render_block

htmx = Htmx()


def is_htmx() -> bool:
    """True for a request made by htmx, except boosted navigation (which wants the page)."""
    headers = getattr(request, "htmx", None)
    return bool(headers) and not headers.boosted


def render_page(template: str, block: str, status: int = 200, **context: Any) -> Response:
    """Render the whole page, or just `block` of it when htmx asks for a fragment."""
    if is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def render_fragment(template: str, block: str, **context: Any) -> Response:
    """Render only `block` of a page, whoever asks (an endpoint that exists only
    to serve that fragment, such as a preview)."""
    response = make_response(render_block(template, block, **context))
    response.vary.add("HX-Request")
    return response


def client_redirect(url: str, status: int = 200) -> Response:
    """Tell htmx to load `url` as a full page (HX-Redirect)."""
    return htmx_make_response("", status, redirect=url)


def trigger(response: Response, event: str) -> Response:
    """Fire a client-side event on the requesting element when htmx gets the response
    (HX-Trigger); it bubbles up to <body>, where listeners like the bell hear it."""
    existing = response.headers.get("HX-Trigger")
    response.headers["HX-Trigger"] = f"{existing}, {event}" if existing else event
    return response
