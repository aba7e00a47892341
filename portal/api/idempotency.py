"""`Idempotency-Key` for creating API requests (draft-ietf-httpapi-idempotency-key-header).

The key is claimed in a transaction of its own before the work starts, so every
other request with the same key sees the claim at once:

- same key, different request (method, path or body): 422;
- same key while the first request still runs: 409;
- same key after it finished: the stored status and body, nothing done again.

A request that fails with a server error gives its key back, so the client's
retry runs anew. Keys are kept `KEEP_DAYS` days (`purge` drops older ones).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from portal.extensions import db

from .models import ApiIdempotencyKey

KEEP_DAYS = 7
# A claim older than this belongs to a request that died without an answer (a killed
# worker): it is taken over instead of answering 409 for ever.
STALE_AFTER = timedelta(minutes=5)


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


@dataclass(frozen=True)
class Claim:
    """What to do with a request: run it (`record` is ours), or answer as stored/refused."""

    record: ApiIdempotencyKey | None = None
    replay: tuple[int, Any] | None = None
    conflict: str | None = None  # "in-use" (409) or "reused" (422)


def claim(account_id: int, key: str, fingerprint: str, now: datetime) -> Claim:
    """Claim `key` for this request, committed at once, or say why not."""
    record = ApiIdempotencyKey(
        account_id=account_id, key=key, request_hash=fingerprint, state="running", created_at=now
    )
    try:
        db.session.add(record)
        db.session.commit()
        return Claim(record=record)
    except IntegrityError:
        db.session.rollback()
    existing = db.session.scalar(
        select(ApiIdempotencyKey).where(
            ApiIdempotencyKey.account_id == account_id, ApiIdempotencyKey.key == key
        )
    )
    if existing is None:  # given back by a failed first request a moment ago
        return claim(account_id, key, fingerprint, now)
    if existing.request_hash != fingerprint:
        return Claim(conflict="reused")
    if existing.state == "running":
        if now - existing.created_at > STALE_AFTER:
            existing.created_at = now
            db.session.commit()
            return Claim(record=existing)
        return Claim(conflict="in-use")
    return Claim(replay=(existing.status_code or 200, existing.response_body))


def complete(record: ApiIdempotencyKey, status: int, body: Any, now: datetime) -> None:
    """Store the answer, so a repeat gets it without doing the work again."""
    db.session.rollback()  # whatever the failed work left behind is not ours to keep
    db.session.execute(
        ApiIdempotencyKey.__table__.update()
        .where(ApiIdempotencyKey.__table__.c.id == record.id)
        .values(state="done", status_code=status, response_body=body, completed_at=now)
    )
    db.session.commit()


def give_back(record: ApiIdempotencyKey) -> None:
    """The request failed unexpectedly: the key is free for the client's retry."""
    db.session.rollback()
    db.session.execute(delete(ApiIdempotencyKey).where(ApiIdempotencyKey.id == record.id))
    db.session.commit()


def purge(now: datetime) -> int:
    """Drop keys older than KEEP_DAYS (a scheduled clean-up; returns how many)."""
    result = db.session.execute(
        delete(ApiIdempotencyKey).where(
            ApiIdempotencyKey.created_at < now - timedelta(days=KEEP_DAYS)
        )
    )
    db.session.commit()
    return result.rowcount or 0
