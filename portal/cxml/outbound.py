"""ConfirmationRequest and ShipNoticeRequest to the account's purchasing system.

The desk's steps write order events (portal.ordering.service.record_event); this
module listens for them on the database session, so fulfilment knows nothing of
cXML. When a transaction that wrote "order_confirmed", "promise_changed",
"line_cancelled_by_vendor", "cancellation_answered" or "shipped" events commits, the
document is built from the order as it then stands and written to `cxml_message` in
that same transaction: a rolled-back change sends nothing, a committed one always has
its message. Only orders that came by cXML are confirmed this way, and only when the
account has an outbound URL.

The worker (`deliver_due`, the job "deliver_cxml", nudged after the commit and run
every minute) posts each message; see `deliver_due` for retries.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, joinedload

from portal.accounts.roles import Role
from portal.errors import NotFound
from portal.extensions import db, utcnow
from portal.ordering.models import Order, OrderEvent, OrderLine

from . import credentials, documents
from .models import CxmlMessage, CxmlOrder

log = logging.getLogger("portal.cxml")

CONFIRMING_EVENTS = {
    "order_confirmed",
    "promise_changed",
    "line_cancelled_by_vendor",
    "cancellation_answered",
}
SHIPPING_EVENTS = {"shipped"}
_PENDING = "portal.cxml.pending"
_NUDGE = "portal.cxml.nudge"

TIMEOUT_SECONDS = 10
LEASE_MINUTES = 5
RETRY_HOURS = 24
MAX_DELAY_MINUTES = 60
BATCH_SIZE = 50


# --- listening to the desk ------------------------------------------------------------------


@event.listens_for(Session, "after_flush")
def _note_events(session: Session, _context) -> None:
    for obj in session.new:
        if isinstance(obj, OrderEvent) and obj.kind in CONFIRMING_EVENTS | SHIPPING_EVENTS:
            session.info.setdefault(_PENDING, set()).add(obj.id)


@event.listens_for(Session, "before_commit")
def _write_messages(session: Session) -> None:
    if session.in_nested_transaction():
        return
    # Events added since the last flush get their ids (and are noted) now.
    session.flush()
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    # Only the events that survived (a savepoint rolled back takes its events along).
    rows = session.execute(
        select(OrderEvent.order_id, OrderEvent.kind, OrderEvent.detail)
        .where(OrderEvent.id.in_(pending))
        .order_by(OrderEvent.id)
    ).all()
    wanted: dict[tuple[int, str], str] = {}
    for order_id, kind, detail in rows:
        if kind in SHIPPING_EVENTS:
            shipment = (detail or {}).get("shipment")
            if shipment:
                wanted[(order_id, f"shipment:{shipment}")] = "ShipNoticeRequest"
        else:
            wanted[(order_id, "confirmation")] = "ConfirmationRequest"
    if wanted and queue_messages(session, wanted):
        session.info[_NUDGE] = True


@event.listens_for(Session, "after_commit")
def _nudge(session: Session) -> None:
    if session.in_nested_transaction():
        return
    if session.info.pop(_NUDGE, False):
        from portal import jobs

        jobs.enqueue("deliver_cxml")


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction) -> None:
    # The outermost transaction ended: what it noted is done (committed) or void.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_NUDGE, None)


def queue_messages(session: Session, wanted: dict[tuple[int, str], str]) -> int:
    """Build and add the messages for (order id, cause) pairs; returns how many."""
    links = {
        link.order_id: link
        for link in session.scalars(
            select(CxmlOrder).where(CxmlOrder.order_id.in_({oid for oid, _ in wanted}))
        )
    }
    written = 0
    now = utcnow()
    for (order_id, cause), kind in wanted.items():
        link = links.get(order_id)
        if link is None:
            continue
        credential = credentials.credential_of(link.account_id)
        if credential is None or not credential.outbound_url:
            continue
        order = session.get(Order, order_id)
        payload_id = documents.new_payload_id()
        if kind == "ConfirmationRequest":
            document = confirmation_document(order, link, credential, payload_id, now)
        else:
            document = ship_notice_document(
                order, link, credential, int(cause.split(":")[1]), payload_id, now
            )
        session.add(
            CxmlMessage(
                account_id=link.account_id,
                order_id=order_id,
                kind=kind,
                cause=cause if kind != "ConfirmationRequest" else "confirmation",
                payload_id=payload_id,
                url=credential.outbound_url,
                document=document,
                state="queued",
                next_attempt_at=now,
                give_up_at=now + timedelta(hours=RETRY_HOURS),
                created_at=now,
                updated_at=now,
            )
        )
        written += 1
    return written


def _line_number(link: CxmlOrder, line: OrderLine, by_id: dict[int, OrderLine]) -> str:
    root = line
    while root.split_from_id and root.split_from_id in by_id:
        root = by_id[root.split_from_id]
    return str(link.line_numbers.get(str(root.line_no), root.line_no))


def confirmation_document(order, link, credential, payload_id: str, now: datetime) -> str:
    """Every line's state: accepted parts with their dates, rejected and open parts."""
    transit = timedelta(days=current_app.config["TRANSIT_DAYS"])
    by_delivery = order.account.promise_basis == "delivery"
    lines = sorted(order.lines, key=lambda line: line.line_no)
    by_id = {line.id: line for line in lines}
    grouped: dict[str, list[documents.ConfirmedPart]] = {}
    units: dict[str, str] = {}
    for line in lines:
        number = _line_number(link, line, by_id)
        units[number] = documents.unit_code(line.unit)
        parts = grouped.setdefault(number, [])
        if line.status == "confirmed":
            kept = line.quantity - line.cancelled_quantity
            if kept:
                promised = line.promised_on
                parts.append(
                    documents.ConfirmedPart(
                        kept,
                        "accept",
                        shipment_date=None if by_delivery else promised,
                        delivery_date=promised if by_delivery else promised + transit,
                    )
                )
            if line.cancelled_quantity:
                parts.append(documents.ConfirmedPart(line.cancelled_quantity, "reject"))
        elif line.status in ("declined", "cancelled"):
            parts.append(documents.ConfirmedPart(line.quantity, "reject"))
        else:
            parts.append(documents.ConfirmedPart(line.quantity, "unknown"))
    confirmed = [
        documents.ConfirmedLine(number, sum(p.quantity for p in parts), units[number], parts)
        for number, parts in grouped.items()
    ]
    return documents.confirmation_request(
        payload_id=payload_id,
        moment=now,
        vendor=credentials.vendor_credential(),
        customer=credentials.customer_credential(credential),
        confirm_id=f"{order.number}-{uuid.uuid4().hex[:6]}",
        order_ref=link.order_ref,
        order_date=link.order_date,
        order_payload_id=link.payload_id,
        lines=confirmed,
    )


def ship_notice_document(order, link, credential, shipment_id: int, payload_id, now) -> str:
    from portal.fulfilment.models import Shipment

    shipment = db.session.get(Shipment, shipment_id)
    by_id = {line.id: line for line in order.lines}
    shipped = [
        documents.ShippedLine(
            _line_number(link, by_id[item.line_id], by_id),
            item.quantity,
            documents.unit_code(by_id[item.line_id].unit),
        )
        for item in shipment.lines
        if item.quantity > 0 and item.line_id in by_id
    ]
    return documents.ship_notice_request(
        payload_id=payload_id,
        moment=now,
        vendor=credentials.vendor_credential(),
        customer=credentials.customer_credential(credential),
        shipment_id=f"{order.number}-S{shipment.id}",
        shipped_on=shipment.shipped_on,
        carrier=shipment.carrier,
        tracking=shipment.tracking,
        order_ref=link.order_ref,
        order_date=link.order_date,
        order_payload_id=link.payload_id,
        lines=shipped,
    )


# --- delivering -----------------------------------------------------------------------------


@dataclass
class Delivery:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Claimed:
    id: int
    url: str
    document: str
    attempts: int
    give_up_at: datetime


def deliver_due(*, now: datetime | None = None) -> Delivery:
    """Post every message that is due, one by one, each outcome committed at once.

    2xx with a cXML Status 2xx: sent. A connection failure, a time-out, an HTTP 5xx,
    408 or 429, or a cXML Status 5xx: tried again after 1, 2, 4 … 60 minutes until a
    day has passed, then failed. Any other answer (an HTTP or cXML 4xx: the receiver
    refuses the document) fails at once. Failed messages keep the last answer; vendor
    admins send them again from the cXML page. A worker that dies while posting leaves a
    claim that runs out after LEASE_MINUTES; the message is then posted again (the
    receiver recognises a repeat by its payloadID).
    """
    offset = (now - utcnow()) if now is not None else timedelta(0)
    report = Delivery()
    moment = utcnow() + offset
    db.session.execute(
        update(CxmlMessage)
        .where(CxmlMessage.state == "sending", CxmlMessage.lease_until < moment)
        .values(state="queued", updated_at=moment)
    )
    db.session.commit()
    while True:
        moment = utcnow() + offset
        due = db.session.scalars(
            select(CxmlMessage.id)
            .where(CxmlMessage.state == "queued", CxmlMessage.next_attempt_at <= moment)
            .order_by(CxmlMessage.id)
            .limit(BATCH_SIZE)
        ).all()
        if not due:
            return report
        for message_id in due:
            claimed = _claim(message_id, moment)
            if claimed is not None:
                _post(claimed, report, utcnow() + offset)


def _claim(message_id: int, now: datetime) -> _Claimed | None:
    changed = db.session.execute(
        update(CxmlMessage)
        .where(CxmlMessage.id == message_id, CxmlMessage.state == "queued")
        .values(
            state="sending",
            lease_until=now + timedelta(minutes=LEASE_MINUTES),
            attempts=CxmlMessage.attempts + 1,
            updated_at=now,
        )
    ).rowcount
    if not changed:
        db.session.rollback()
        return None
    row = db.session.execute(
        select(
            CxmlMessage.url, CxmlMessage.document, CxmlMessage.attempts, CxmlMessage.give_up_at
        ).where(CxmlMessage.id == message_id)
    ).one()
    db.session.commit()
    return _Claimed(message_id, *row)


def _post(claimed: _Claimed, report: Delivery, now: datetime) -> None:
    request = urllib.request.Request(
        claimed.url,
        data=claimed.document.encode("utf-8"),
        headers={"Content-Type": "text/xml; charset=utf-8", "User-Agent": "Portal cXML"},
        method="POST",
    )
    temporary = True
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            body = answer.read(64 * 1024)
            code, text = documents.status_of(body)
            status = f"HTTP {answer.status}" + (f", cXML {code}" if code else "")
            detail = text or body[:300].decode("utf-8", "replace")
            if code is None or 200 <= code < 300:
                return _finish(claimed, "sent", status, detail, now, report)
            temporary = code >= 500
    except urllib.error.HTTPError as error:
        status = f"HTTP {error.code}"
        detail = error.read(300).decode("utf-8", "replace") if error.fp else str(error.reason)
        temporary = error.code >= 500 or error.code in (408, 429)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        status = "no connection"
        detail = str(getattr(error, "reason", error))
    if temporary and now < claimed.give_up_at:
        delay = min(2 ** (claimed.attempts - 1), MAX_DELAY_MINUTES)
        return _finish(claimed, "queued", status, detail, now, report, delay)
    return _finish(claimed, "failed", status, detail, now, report)


def _finish(claimed, state, status, detail, now, report, delay_minutes: int = 0) -> None:
    values = {
        "state": state,
        "last_status": status[:40],
        "last_answer": " ".join(detail.split())[:1000],
        "lease_until": None,
        "updated_at": now,
    }
    if state == "sent":
        values["sent_at"] = now
        report.sent += 1
    elif state == "queued":
        values["next_attempt_at"] = now + timedelta(minutes=delay_minutes)
        report.retrying += 1
    else:
        report.failed += 1
    db.session.execute(update(CxmlMessage).where(CxmlMessage.id == claimed.id).values(**values))
    db.session.commit()


# --- the log --------------------------------------------------------------------------------


def messages(viewer, *, limit: int = 100) -> list[CxmlMessage]:
    """The newest outbound messages (vendor admins)."""
    credentials.require_vendor_admin(viewer)
    return list(
        db.session.scalars(
            select(CxmlMessage)
            .options(joinedload(CxmlMessage.order), joinedload(CxmlMessage.account))
            .order_by(CxmlMessage.id.desc())
            .limit(limit)
        )
    )


def send_again(viewer, message_id: int) -> CxmlMessage:
    """Put a failed message back in the queue for another day of attempts."""
    credentials.require_vendor_admin(viewer)
    if not viewer.has_role(Role.ADMIN):
        raise NotFound("No such message.")
    message = db.session.get(CxmlMessage, message_id)
    if message is None:
        raise NotFound("No such message.")
    now = utcnow()
    message.state, message.next_attempt_at = "queued", now
    message.give_up_at = now + timedelta(hours=RETRY_HOURS)
    message.updated_at = now
    db.session.commit()
    from portal import jobs

    jobs.enqueue("deliver_cxml")
    return message
