"""Cancelling confirmed lines: the vendor cancels what is left of a line (a broken
promise in the ledger, when it was promised), a customer asks for a cancellation,
and the desk accepts or declines the request.

A customer cancels an unconfirmed order in ordering (`ordering.service.cancel`);
once the vendor has confirmed it, the customer asks here and the desk answers.
"""

from __future__ import annotations

from datetime import date
from functools import cache

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import days
from portal.accounts.models import User
from portal.accounts.roles import Role
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.ordering.models import Order, OrderLine
from portal.ordering.service import lock_order, record_event, release_reservation

from . import ledger
from .models import CancellationRequest
from .service import lock_check, notify_buyer, notify_desk, order_line, refresh_status, require_desk


def cancellation_requests(order: Order) -> list[CancellationRequest]:
    return list(db.session.scalars(_requests_of_order(), {"order_id": order.id}))


@cache
def _requests_of_order():
    """Built once per process (the order page shows them on every view)."""
    return (
        select(CancellationRequest)
        .where(CancellationRequest.order_id == bindparam("order_id"))
        .options(
            joinedload(CancellationRequest.line),
            joinedload(CancellationRequest.requested_by),
            joinedload(CancellationRequest.answered_by),
        )
        .order_by(CancellationRequest.requested_at)
    )


def pending_request_for(order: Order, line_id: int) -> CancellationRequest | None:
    return db.session.scalar(
        select(CancellationRequest).where(
            CancellationRequest.order_id == order.id,
            CancellationRequest.line_id == line_id,
            CancellationRequest.status == "pending",
        )
    )


# --- the vendor cancels -------------------------------------------------------------------


def cancel_line(user: User, order: Order, line_id: int, *, reason: str) -> OrderLine:
    """The vendor cancels what is left of a line. The ledger keeps it as a broken
    promise when it was promised."""
    require_desk(user)
    lock_order(order)
    line = order_line(order, line_id)
    reason = reason.strip()[:500]
    if not reason:
        raise DomainError("Say why the line is cancelled; the buyer sees it.", field="reason")
    if not line.is_active or line.outstanding <= 0:
        raise DomainError(f"Line {line.line_no} ({line.sku}) has nothing left to cancel.")
    if pending_request_for(order, line.id) is not None:
        # Accepting the buyer's request is the right way: it is then not a
        # broken promise, and the buyer gets an answer.
        raise DomainError(
            f"The buyer has asked to cancel line {line.line_no} ({line.sku}): "
            "answer that request instead."
        )
    with ledger.tracking(order):
        quantity = _cancel_rest(line)
        record_event(
            order, user, "line_cancelled_by_vendor", line, quantity=quantity, reason=reason
        )
        refresh_status(order)
    notify_buyer(
        order,
        user,
        "line_cancelled",
        {
            "line": line.line_no,
            "sku": line.sku,
            "quantity": quantity,
            "unit": line.unit,
            "vendor": current_app.config["VENDOR_NAME"],
            "reason": reason,
        },
    )
    db.session.commit()
    return line


def _cancel_rest(line: OrderLine) -> int:
    quantity = line.outstanding
    lock_check(
        db.session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == line.id,
                OrderLine.shipped_quantity + OrderLine.cancelled_quantity + quantity
                == OrderLine.quantity,
            )
            .values(cancelled_quantity=OrderLine.cancelled_quantity + quantity)
            .execution_options(synchronize_session=False)
        ).rowcount,
        f"Line {line.line_no} ({line.sku}) changed a moment ago: reload and try again.",
    )
    db.session.refresh(line)
    release_reservation(line)
    if line.shipped_quantity == 0:
        line.status = "cancelled"
    return quantity


# --- the customer's request ---------------------------------------------------------------


def request_cancellation(
    user: User, order: Order, line_id: int, *, reason: str
) -> CancellationRequest:
    """A customer asks to cancel a line the vendor has already confirmed."""
    if user.account_id != order.account_id or not user.has_role(
        Role.BUYER, Role.APPROVER, Role.CUSTOMER_ADMIN
    ):
        raise Forbidden("Only the account's own users can ask to cancel its orders.")
    lock_order(order)
    line = order_line(order, line_id)
    if line.status != "confirmed" or line.outstanding <= 0:
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) has nothing left that could be cancelled."
        )
    if pending_request_for(order, line.id) is not None:
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) already has a cancellation request waiting."
        )
    reason = reason.strip()[:1000]
    if not reason:
        raise DomainError(_("Tell the vendor why you want to cancel."), field="reason")
    request = CancellationRequest(
        order_id=order.id,
        line_id=line.id,
        account_id=order.account_id,
        requested_by_id=user.id,
        reason=reason,
    )
    try:
        # A partial unique index allows one pending request per line.
        with db.session.begin_nested():
            db.session.add(request)
    except IntegrityError:
        db.session.rollback()
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) already has a cancellation request waiting."
        ) from None
    record_event(
        order, user, "cancellation_requested", line, quantity=line.outstanding, reason=reason
    )
    notify_desk(
        order,
        user,
        "cancellation_requested",
        {"account": order.account.name, "line": line.line_no, "sku": line.sku},
        link=f"/desk/orders/{order.number}",
    )
    db.session.commit()
    return request


def answer_cancellation(
    user: User,
    order: Order,
    request_id: int,
    *,
    accept: bool,
    comment: str,
    today: date | None = None,
) -> CancellationRequest:
    """Accept (what is left of the line is cancelled) or decline, with a comment.

    The cancellation is dated `today`, by default the account's day (portal.days): the
    ledger keeps a line cancelled after its promised date as a broken promise, and that
    promise was made in the account's days."""
    today = today or days.account_today(order.account)
    require_desk(user)
    lock_order(order)
    request = db.session.scalar(
        select(CancellationRequest).where(
            CancellationRequest.id == request_id, CancellationRequest.order_id == order.id
        )
    )
    if request is None:
        raise NotFound("No such cancellation request for this order.")
    comment = comment.strip()[:1000]
    if not accept and not comment:
        raise DomainError("Say why the request is declined; the buyer sees it.", field="comment")
    if request.status != "pending":
        raise DomainError("This request has already been answered.")
    line = request.line
    if accept and line.outstanding <= 0:
        raise DomainError(
            f"Line {line.line_no} ({line.sku}) has shipped in full: nothing is left to cancel."
        )
    lock_check(
        db.session.execute(
            update(CancellationRequest)
            .where(CancellationRequest.id == request.id, CancellationRequest.status == "pending")
            .values(
                status="accepted" if accept else "declined",
                answered_by_id=user.id,
                answered_at=utcnow(),
                answer=comment,
            )
            .execution_options(synchronize_session=False)
        ).rowcount,
        "This request was answered a moment ago by someone else.",
    )
    db.session.refresh(request)
    with ledger.tracking(order):
        if accept:
            quantity = _cancel_rest(line)
            record_event(
                order,
                user,
                "line_cancelled",
                line,
                quantity=quantity,
                on_date=today,
                on_request=request.id,
            )
        record_event(
            order,
            user,
            "cancellation_answered",
            line,
            accepted=accept,
            comment=comment,
        )
        refresh_status(order)
    if request.requested_by is not None:
        from portal.notifications import service as notifications

        notifications.notify(
            [request.requested_by],
            "cancellation_answered",
            {
                "variant": "accepted" if accept else "declined",
                "number": order.number,
                "line": line.line_no,
                "sku": line.sku,
                "comment": comment or None,
            },
            f"/orders/{order.number}",
            exclude=user,
        )
    db.session.commit()
    return request
