"""cXML's doors: the documents purchasing systems post (`cxml` blueprint: no session,
no CSRF, credentials inside the document), PunchOut's browser pages, and the vendor
admins' page of credentials and the outbound log (`cxml_pages`)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user
from wtforms import SelectChoice

from portal import days
from portal.accounts.roles import Role
from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow
from portal.security import client_address, public, requires, writes

from . import credentials, documents, inbound, orders, outbound, punchout
from .documents import CxmlError
from .forms import CredentialForm

bp = Blueprint("cxml", __name__, url_prefix="/cxml")
pages = Blueprint("cxml_pages", __name__)

SESSION_KEY = "punchout_session"
XML_MIMETYPE = "text/xml"


# --- the machine door -------------------------------------------------------------------------


def _xml(code: int, xml: str):
    """HTTP 200 carries every cXML Response (the Status inside says what happened), as
    procurement systems expect; only our own failure is HTTP 500 as well, so that the
    sender's transport retries it."""
    response = make_response(xml, 500 if code >= 500 else 200)
    response.mimetype = XML_MIMETYPE
    response.headers["X-Cxml-Status"] = str(code)
    return response


def _refusal(code: int, message: str):
    return _xml(code, documents.response(code, message, utcnow()))


def _receive(expected: str, handler):
    data = request.get_data(cache=False)
    try:
        envelope = documents.parse(data)
        if envelope.request_kind != expected:
            raise CxmlError(
                400, f"This address takes a {expected}, not a {envelope.request_kind[:40]}."
            )
        vendor = credentials.vendor_credential()
        if envelope.to.identity.lower() != vendor.identity.lower():
            raise CxmlError(
                400,
                f"The document is addressed to {envelope.to.identity[:60]}, "
                f"not to {vendor.identity} ({vendor.domain}).",
            )
        credential = credentials.authenticate(envelope.sender_from, envelope.sender)
    except CxmlError as refused:
        db.session.rollback()
        return _refusal(refused.code, refused.message)
    code, xml = inbound.answer_once(credential, envelope, data, handler)
    return _xml(code, xml)


@bp.post("/order")
def order():
    """An OrderRequest (new, update, delete) from a purchasing system."""
    return _receive("OrderRequest", orders.process)


@bp.post("/punchout")
def punchout_setup():
    """A PunchOutSetupRequest (create, edit, inspect): answers a one-time start URL."""

    def handler(credential, envelope):
        return punchout.setup(
            credential,
            envelope,
            lambda token: url_for("cxml_pages.punchout_start", token=token, _external=True),
        )

    return _receive("PunchOutSetupRequest", handler)


def routing_error(error):
    """404, 405 and 413 under /cxml/: a cXML answer, never an HTML page."""
    code = getattr(error, "code", 400) or 400
    return _refusal(
        400,
        f"{code} {getattr(error, 'name', '')}: POST a cXML document to "
        "/cxml/order or /cxml/punchout.",
    )


@bp.errorhandler(Exception)
def _failure(error):
    from werkzeug.exceptions import HTTPException

    if isinstance(error, HTTPException) and (error.code or 500) < 500:
        return routing_error(error)
    db.session.rollback()
    current_app.logger.exception("cXML request failed")
    return _refusal(500, "Something went wrong on our side; nothing was saved. Send it again.")


# --- PunchOut in the browser ------------------------------------------------------------------


@pages.get("/punchout/start/<token>")
@public
@writes
def punchout_start(token: str):
    """The one-time start URL: signs the browser in as the buyer the setup request named
    (portal.cxml.punchout), in a PunchOut session, and opens the quick order."""
    try:
        found, user, sign_in_token = punchout.start(
            token[:100], client_address=client_address(), user_agent=request.user_agent.string
        )
    except NotFound:
        db.session.rollback()
        return render_template(
            "errors/error.html",
            title="PunchOut link expired",
            message="This PunchOut link has expired or was used already. "
            "Start again from your purchasing system.",
        ), 404
    session.clear()
    session.permanent = True
    user.current_auth_session_token = sign_in_token
    login_user(user)
    session["seen"] = int(time.time())
    session[SESSION_KEY] = found.id
    return redirect(url_for("ordering.cart" if found.items else "ordering.quick_order"), code=303)


def current_punchout():
    """The signed-in person's live PunchOut session, or None (read once per request)."""
    if "punchout" not in g:
        g.punchout = (
            punchout.session_of(session.get(SESSION_KEY), current_user)
            if current_user.is_authenticated and session.get(SESSION_KEY)
            else None
        )
    return g.punchout


# What a PunchOut session may open: the catalogue, the quick order and the cart.
PUNCHOUT_ENDPOINTS = {
    "catalog.index",
    "catalog.product",
    "ordering.quick_order",
    "ordering.pad_row",
    "ordering.suggest",
    "ordering.accept",
    "ordering.cart",
    "ordering.cart_line",
    "notifications.bell",
    "cxml_pages.punchout_return",
    "auth.logout",
    "static",
}
# What an inspect session may post: nothing but the way back.
INSPECT_POSTS = {"cxml_pages.punchout_return", "auth.logout"}


@pages.before_app_request
def _keep_punchout_to_the_terminal():
    """In a PunchOut session: the terminal's catalogue, quick order and cart only (no
    checkout, no orders, no administration); an inspect session changes nothing."""
    # Static files and the document door never read the session (no Vary: Cookie there).
    if request.endpoint in (None, "static") or request.blueprint == bp.name:
        return None
    if not session.get(SESSION_KEY):
        return None
    if not current_user.is_authenticated:
        return None
    found = current_punchout()
    if found is None:
        session.pop(SESSION_KEY, None)
        return None
    # The terminal's cart pages fill the session's own cart, not the user's (portal.ordering).
    g.cart_name = punchout.cart_name(found)
    endpoint = request.endpoint
    if endpoint == "home.index":
        return redirect(url_for("ordering.cart"))
    allowed = endpoint in PUNCHOUT_ENDPOINTS
    if found.operation == "inspect" and request.method == "POST":
        allowed = endpoint in INSPECT_POSTS
    if not allowed:
        flash(
            _(
                "In a PunchOut session the catalogue, quick order and cart are open; "
                "return the cart to your purchasing system to order."
            ),
            "info",
        )
        return redirect(url_for("ordering.cart"), code=303)
    return None


@pages.app_context_processor
def _punchout_context():
    return {"punchout": current_punchout() if session.get(SESSION_KEY) else None}


@pages.post("/punchout/return")
@requires(Role.BUYER)
def punchout_return():
    """The cart back to the purchasing system: an auto-submitting form that posts the
    PunchOutOrderMessage to BrowserFormPost; the cart is emptied and the session ends."""
    found = current_punchout()
    if found is None:
        flash(_("This is not a PunchOut session: order through the checkout."), "info")
        return redirect(url_for("ordering.cart"), code=303)
    from portal.accounts import service as accounts

    now = utcnow()
    user = current_user._get_current_object()
    try:
        # Prices valid on the buyer's account's day, as the cart and checkout price them
        # (portal.days): at 18:30 UTC a Jakarta account is already on the next day.
        document = punchout.order_message(found, user, days.user_today(user, now), now)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("ordering.cart"), code=303)
    target = found.browser_form_post
    accounts.end_session(user, reason="sign_out", client_address=client_address())
    from flask_login import logout_user

    logout_user()
    session.clear()
    response = make_response(
        render_template("cxml/punchout_return.html", document=document, target=target)
    )
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(target))
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"form-action {origin}; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    )
    return response


# --- the vendor admins' page ------------------------------------------------------------------


@pages.get("/integrations/cxml")
@requires(Role.ADMIN)
def index():
    """Every account's cXML identity, and the log of outbound messages."""
    from portal.accounts import service as accounts

    viewer = current_user._get_current_object()
    return render_template(
        "cxml/index.html",
        accounts=accounts.accounts_for(viewer),
        credentials=credentials.credentials(viewer),
        messages=outbound.messages(viewer),
        vendor=credentials.vendor_credential(),
    )


def _form(account) -> CredentialForm:
    form = CredentialForm()
    form.acting_user_id.choices = [
        SelectChoice(u.id, f"{u.name} <{u.email}>") for u in credentials.buyers_of(account)
    ]
    return form


@pages.route("/integrations/cxml/accounts/<int:account_id>", methods=["GET", "POST"])
@requires(Role.ADMIN)
def edit(account_id: int):
    """Set an account's cXML identity, shared secret, acting user and outbound URL."""
    viewer = current_user._get_current_object()
    try:
        account = credentials.get_account(viewer, account_id)
    except NotFound:
        abort(404)
    existing = credentials.credential_of(account.id)
    form = _form(account)
    if request.method == "GET" and existing is not None:
        form.domain.data, form.identity.data = existing.domain, existing.identity
        form.acting_user_id.data = existing.acting_user_id
        form.outbound_url.data = existing.outbound_url or ""
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                credentials.save(
                    viewer,
                    account,
                    credentials.CredentialInput(
                        domain=form.domain.data or "",
                        identity=form.identity.data or "",
                        shared_secret=form.shared_secret.data or "",
                        acting_user_id=form.acting_user_id.data or 0,
                        outbound_url=form.outbound_url.data or "",
                    ),
                    client_address=client_address(),
                )
            except DomainError as error:
                db.session.rollback()
                error.attach_to(form)
            else:
                flash(_("cXML credentials of %(account)s saved.", account=account.name), "success")
                return redirect(url_for("cxml_pages.index"), code=303)
        status = 422
    return render_template("cxml/edit.html", form=form, account=account, existing=existing), status


@pages.post("/integrations/cxml/messages/<int:message_id>/retry")
@requires(Role.ADMIN)
def retry(message_id: int):
    """Send a failed outbound message again."""
    try:
        message = outbound.send_again(current_user._get_current_object(), message_id)
    except NotFound:
        abort(404)
    flash(
        _(
            "%(document)s for order %(number)s queued again.",
            document=message.kind,
            number=message.order.number,
        ),
        "success",
    )
    return redirect(url_for("cxml_pages.index"), code=303)
