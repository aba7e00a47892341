"""Inbound documents by payloadID: a repeat is answered as before and does nothing.

The payloadID is claimed (a row in state "running", committed at once) before the
work starts, so of two copies arriving together one does the work and the other is
told to retry (cXML 409) — on SQLite and PostgreSQL alike, through the unique
(account, payloadID) constraint. A success keeps its answer for repeats. A refusal
(4xx) or a failure gives the claim back: nothing of the document stays, and a
repeat is judged again (and, the data unchanged, refused again the same way).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal.errors import DomainError, Forbidden
from portal.extensions import db, utcnow

from . import documents
from .documents import CxmlError, Envelope
from .models import CxmlCredential, CxmlInbound

log = logging.getLogger("portal.cxml")

# A claim this old belongs to a request that died without an answer: taken over.
STALE_AFTER = timedelta(minutes=5)
KEEP_DAYS = 90


@dataclass(frozen=True)
class Claim:
    record: CxmlInbound | None = None
    replay: str | None = None
    conflict: str | None = None


def document_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def claim(account_id: int, payload_id: str, digest: str, kind: str, now: datetime) -> Claim:
    record = CxmlInbound(
        account_id=account_id,
        payload_id=payload_id,
        document_hash=digest,
        kind=kind,
        state="running",
        created_at=now,
    )
    try:
        db.session.add(record)
        db.session.commit()
        return Claim(record=record)
    except IntegrityError:
        db.session.rollback()
    existing = db.session.scalar(
        select(CxmlInbound).where(
            CxmlInbound.account_id == account_id, CxmlInbound.payload_id == payload_id
        )
    )
    if existing is None:  # given back a moment ago
        return claim(account_id, payload_id, digest, kind, now)
    if existing.document_hash != digest:
        return Claim(conflict="This payloadID came before with a different document.")
    if existing.state == "running":
        if now - existing.created_at > STALE_AFTER:
            existing.created_at = now
            db.session.commit()
            return Claim(record=existing)
        return Claim(conflict="This document is being processed; send it again shortly.")
    return Claim(replay=existing.response_xml or "")


def _complete(record_id: int, code: int, xml: str) -> None:
    db.session.rollback()
    db.session.execute(
        CxmlInbound.__table__.update()
        .where(CxmlInbound.__table__.c.id == record_id)
        .values(state="done", status_code=code, response_xml=xml, completed_at=utcnow())
    )
    db.session.commit()


def _give_back(record_id: int) -> None:
    db.session.rollback()
    db.session.execute(delete(CxmlInbound).where(CxmlInbound.id == record_id))
    db.session.commit()


# The work: takes the credentials and the envelope, returns (code, message, start URL or
# None); raises CxmlError or DomainError to refuse.
Handler = Callable[[CxmlCredential, Envelope], tuple[int, str, str | None]]


def answer_once(
    credential: CxmlCredential, envelope: Envelope, data: bytes, handler: Handler
) -> tuple[int, str]:
    """Run `handler` at most once per payloadID; returns (status code, response XML)."""
    account_id, record_id = credential.account_id, None
    now = utcnow()
    result = claim(account_id, envelope.payload_id, document_hash(data), envelope.request_kind, now)
    if result.replay is not None:
        return 200, result.replay
    if result.conflict:
        return 409, documents.response(409, result.conflict, now)
    record_id = result.record.id
    try:
        code, message, start_url = handler(credential, envelope)
    except CxmlError as refused:
        _give_back(record_id)
        return refused.code, documents.response(refused.code, refused.message, utcnow())
    except Forbidden as refused:
        _give_back(record_id)
        return 403, documents.response(403, refused.message, utcnow())
    except DomainError as refused:
        _give_back(record_id)
        return 406, documents.response(406, refused.message, utcnow())
    except Exception:
        log.exception("cXML %s %s failed", envelope.request_kind, envelope.payload_id)
        _give_back(record_id)
        return 500, documents.response(
            500, "Something went wrong on our side; nothing was saved. Send it again.", utcnow()
        )
    xml = documents.response(code, message, utcnow(), start_url=start_url)
    if start_url is None:
        _complete(record_id, code, xml)
    else:
        # A start URL is a one-time credential: never kept. A repeat of the setup request
        # gets a fresh URL for the same PunchOut session (portal.cxml.punchout).
        _give_back(record_id)
    return code, xml


def purge(now: datetime) -> int:
    """Drop stored answers older than KEEP_DAYS (a scheduled clean-up)."""
    removed = db.session.execute(
        delete(CxmlInbound).where(CxmlInbound.created_at < now - timedelta(days=KEEP_DAYS))
    ).rowcount
    db.session.commit()
    return removed or 0
