"""PunchOut: a procurement system opens a session of the terminal for one of its users
and gets the cart back as a PunchOutOrderMessage.

1. PunchOutSetupRequest (create, edit, inspect) → a start URL with a random token
   (only its SHA-256 is kept) that works once, for START_MINUTES.
2. The start URL signs the browser in as the person the request names (its Extrinsic
   UserEmail, else its Contact's Email: an active buyer of the account; the
   credential's acting user when it names no one), in a PunchOut session:
   catalogue, quick order and cart at the account's prices, no checkout
   (portal.cxml.routes keeps the session to those pages). The session has a
   cart of its own (`cart_name`), apart from the user's own cart, which it never
   touches. For edit and inspect the items of the request are put in the session's
   cart; inspect allows no change.
3. "Return to your purchasing system" turns the session's cart into a
   PunchOutOrderMessage the browser posts to BrowserFormPost (field
   `cxml-urlencoded`), empties that cart and ends the session.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select

from portal.accounts import service as accounts
from portal.accounts.roles import Role
from portal.audit import service as audit
from portal.catalog import service as catalog
from portal.catalog.models import sku_key
from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow
from portal.ordering import service as ordering
from portal.ordering.models import CartLine

from . import credentials, documents
from .documents import CxmlError, Envelope
from .models import CxmlCredential, PunchOutSession

START_MINUTES = 5
OPERATIONS = ("create", "edit", "inspect")
# Where a developer's own purchasing system stub may take the cart back over plain http.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cart_name(session: PunchOutSession) -> str:
    """The session's own cart among the user's carts (portal.ordering.models.CartLine)."""
    return f"punchout:{session.id}"


def form_post_url(url: str, credential: CxmlCredential) -> str:
    """The BrowserFormPost URL, if the cart may go there; CxmlError otherwise.

    The browser posts the cart (products, prices) to it without the user seeing the
    address, so it must be https, and on the host of the account's outbound cXML
    address when the vendor has set one: a request that names another host is a
    purchasing system (or someone with its secret) asking for the cart elsewhere.
    Plain http only to this machine, and never in production.
    """
    parts = urlsplit(url)
    try:
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError:
        raise CxmlError(400, "The BrowserFormPost URL is not a valid address.") from None
    if not host or parts.username is not None or parts.password is not None:
        raise CxmlError(
            400, "The BrowserFormPost URL needs a host name and no user name or password."
        )
    local_http = (
        parts.scheme == "http"
        and host in LOCAL_HOSTS
        and current_app.config.get("ENV") != "production"
    )
    if parts.scheme != "https" and not local_http:
        raise CxmlError(400, "The BrowserFormPost URL must be an https address.")
    allowed = urlsplit(credential.outbound_url or "").hostname
    if allowed and host != allowed.lower():
        raise CxmlError(
            403,
            f"The BrowserFormPost URL must be on {allowed}, the host of this account's "
            "cXML address; ask the vendor to change that address if it moved.",
        )
    return url


def setup(credential: CxmlCredential, envelope: Envelope, start_url_for) -> tuple[int, str, str]:
    """Open (or, for a repeated payloadID not yet used, re-issue) a PunchOut session;
    returns (200, message, start URL)."""
    request = documents.punchout_setup_request(envelope)
    if request.operation not in OPERATIONS:
        raise CxmlError(450, f"PunchOut operation “{request.operation[:20]}” is not supported.")
    for item in request.items:
        documents.quantity_of(item)
    browser_form_post = form_post_url(request.browser_form_post, credential)
    user = credentials.procurement_user(credential, request.user_email)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    found = db.session.scalar(
        select(PunchOutSession).where(
            PunchOutSession.account_id == credential.account_id,
            PunchOutSession.payload_id == envelope.payload_id,
        )
    )
    if found is not None and found.started_at is not None:
        raise CxmlError(409, "This PunchOut session was opened already; send a new request.")
    session = found or PunchOutSession(
        account_id=credential.account_id,
        user_id=user.id,
        payload_id=envelope.payload_id,
        operation=request.operation,
        buyer_cookie=request.buyer_cookie,
        browser_form_post=browser_form_post,
        created_at=now,
    )
    # A repeat that names someone else re-issues the session for them, not for the first.
    session.user_id = user.id
    session.start_token_hash = _hash(token)
    session.start_expires_at = now + timedelta(minutes=START_MINUTES)
    db.session.add(session)
    # The items of an edit or inspect go into the cart when the session starts.
    session.items = [
        {"sku": item.supplier_part_id, "quantity": documents.quantity_of(item)}
        for item in request.items
    ]
    db.session.commit()
    return 200, f"PunchOut session ({request.operation}) ready.", start_url_for(token)


def start(token: str, *, client_address: str | None, user_agent: str | None):
    """Use a start URL: the session's user and a new sign-in token, or NotFound."""
    now = utcnow()
    found = db.session.scalar(
        select(PunchOutSession).where(PunchOutSession.start_token_hash == _hash(token))
    )
    if found is None or found.started_at is not None or found.start_expires_at < now:
        raise NotFound("This PunchOut link has expired or was used already.")
    found.started_at = now
    user = found.user
    # Deactivated, or no longer a buyer, since the setup request named them.
    if not user.active or not user.has_role(Role.BUYER):
        raise NotFound("This PunchOut link has expired or was used already.")
    # The session's cart starts empty (or with the items sent for edit/inspect); the
    # user's own cart is another cart and stays as it is.
    db.session.execute(
        delete(CartLine).where(CartLine.user_id == user.id, CartLine.cart_name == cart_name(found))
    )
    if found.items:
        by_key = catalog.products_by_sku_key([sku_key(i["sku"]) for i in found.items])
        for item in found.items:
            product = by_key.get(sku_key(item["sku"]))
            if product is not None and not product.is_discontinued:
                db.session.add(
                    CartLine(
                        account_id=user.account_id,
                        user_id=user.id,
                        cart_name=cart_name(found),
                        product_id=product.id,
                        quantity=item["quantity"],
                    )
                )
    sign_in_token = accounts.open_delegated_session(
        user, client_address=client_address, user_agent=user_agent, reason="punchout"
    )
    audit.record(
        "punchout_started",
        actor=user,
        client_address=client_address,
        target=f"punchout:{found.id}",
        detail={"operation": found.operation},
    )
    db.session.commit()
    return found, user, sign_in_token


def session_of(session_id: int | None, user) -> PunchOutSession | None:
    """The user's live PunchOut session by id (None when it ended or is not theirs)."""
    if not session_id:
        return None
    found = db.session.get(PunchOutSession, session_id)
    if found is None or found.user_id != user.id or found.returned_at is not None:
        return None
    return found


def order_message(session: PunchOutSession, user, today: date, now: datetime) -> str:
    """The session's cart as a PunchOutOrderMessage; that cart is emptied and the session
    ended (the user's own cart is not touched)."""
    credential = credentials.credential_of(session.account_id)
    if credential is None:
        raise DomainError("This account no longer has cXML credentials.")
    cart = ordering.cart(user, today, cart_name(session))
    if cart.unpriced:
        # A procurement system would book the line at no price; refuse it as checkout does.
        raise catalog.no_price_error(cart.unpriced[0].line.product, cart.currency)
    items = [
        documents.CartItem(
            sku=row.line.product.sku,
            name=row.line.product.name,
            quantity=row.line.quantity,
            unit_price=row.unit_price,
            unit=documents.unit_code(row.line.product.unit),
            category=row.line.product.category.name if row.line.product.category else "",
        )
        for row in cart.rows
    ]
    document = documents.punchout_order_message(
        payload_id=documents.new_payload_id(),
        moment=now,
        vendor=credentials.vendor_credential(),
        customer=credentials.customer_credential(credential),
        buyer_cookie=session.buyer_cookie,
        currency=cart.currency,
        items=items,
        operation_allowed="inspect" if session.operation == "inspect" else "edit",
    )
    session.returned_at = now
    db.session.execute(
        delete(CartLine).where(
            CartLine.user_id == user.id, CartLine.cart_name == cart_name(session)
        )
    )
    audit.record(
        "punchout_returned",
        actor=user,
        target=f"punchout:{session.id}",
        detail={"lines": len(items)},
    )
    db.session.commit()
    return document


def purge_abandoned_carts(now: datetime) -> int:
    """Drop the carts of PunchOut sessions never returned: a line added longer ago than a
    sign-in lasts (SESSION_ABSOLUTE_HOURS), and a day more, is in a session that has ended
    (returns how many lines). The users' own carts are never touched."""
    lifetime = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"], days=1)
    result = db.session.execute(
        delete(CartLine).where(
            CartLine.cart_name.like("punchout:%"), CartLine.added_at < now - lifetime
        )
    )
    db.session.commit()
    return result.rowcount or 0
