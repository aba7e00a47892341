"""Notifying people: a row for the bell and the list, and an e-mail in the outbox.

`notify` adds the rows to the caller's transaction: the notifications, and per
recipient who wants it at once an `OutboxMessage` (or a digest item for those
who chose the daily digest). Everything exists only if that transaction
commits; a rollback leaves no notification and no mail. After the commit the
worker is nudged to deliver (portal.jobs); a request never talks to a mail
server. Delivery, retries and failures: portal.notifications.outbox.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from portal.errors import NotFound
from portal.extensions import db, utcnow
from portal.i18n import SOURCE_LANGUAGE

from . import messages, outbox, preferences
from .models import DELIVERY_DIGEST, DELIVERY_IMMEDIATE, DigestItem, Notification

if TYPE_CHECKING:
    from portal.accounts.models import User

log = logging.getLogger("portal.notifications")

# The client-side event that makes the header's bell fetch its count again. A
# response fires it with the header `HX-Trigger: notifications-changed`
# (portal.htmx.trigger); the bell listens for it on <body>.
CHANGED_EVENT = "notifications-changed"

KIND_MAX = 40
TEXT_MAX = 300
LINK_MAX = 300
# Set in Session.info when outbox rows were added: the commit nudges the worker.
_NUDGE = "portal.notifications.nudge"
# Set in Session.info while `without_nudges()` runs.
_QUIET = "portal.notifications.quiet"


# --- writing ---------------------------------------------------------------------------


def notify(
    users: Iterable[User],
    kind: str,
    params: Mapping[str, Any],
    link: str,
    *,
    exclude: User | None = None,
) -> list[Notification]:
    """Tell each user about something, in the caller's transaction; the caller commits.

    `kind` names the sentence (messages.MESSAGES) and `params` fill it: they are
    stored, and the sentence is written when read, in the reader's language (see
    portal.notifications.messages for what a parameter may be). One notification
    per distinct active user; `exclude` (the person who acted) is skipped, so
    nobody is told about their own action. `link` is a path inside the portal. An
    e-mail per recipient, in their language, is sent after the commit.
    """
    if not kind or len(kind) > KIND_MAX:
        raise ValueError(f"a notification kind has 1 to {KIND_MAX} characters: {kind!r}")
    if not is_local_path(link) or len(link) > LINK_MAX:
        raise ValueError(f"a notification links to a path inside the portal: {link!r}")
    encoded = messages.encode(params)
    try:
        messages.template_for(kind, encoded)
    except messages.UnknownMessage as error:
        # A writer's mistake, found by its tests: the reader would only see the fallback.
        raise ValueError(f"no sentence for this notification: {error}") from None
    # Kept beside the parameters: what an older release, which does not know this
    # kind, shows instead (in the source language, the one every reader can be shown).
    with force_locale(SOURCE_LANGUAGE):
        text = _one_line(messages.render(kind, encoded, kind, zone=ZoneInfo("UTC")), TEXT_MAX)

    recipients: dict[int, User] = {}
    for user in users:
        if user.id is None:
            raise ValueError("notify() needs users that are stored (with an id)")
        if exclude is not None and user.id == exclude.id:
            continue
        if _can_be_notified(user):
            recipients.setdefault(user.id, user)
    created = [
        Notification(user_id=user.id, kind=kind, params=encoded, text=text, link=link)
        for user in recipients.values()
    ]
    if not created:
        return []
    session = db.session()
    session.add_all(created)  # begins the transaction if none is open yet
    session.flush()  # ids for the digest items

    wanted = preferences.deliveries(recipients, kind)
    for note in created:
        user = recipients[note.user_id]
        if wanted[user.id] == DELIVERY_DIGEST:
            session.add(DigestItem(user_id=user.id, notification_id=note.id))
        elif wanted[user.id] == DELIVERY_IMMEDIATE:
            outbox.queue_notification(user, note)
            session.info[_NUDGE] = True
    return created


def text_of(note: Notification) -> str:
    """The notification's sentence for the reader of this request (their language and
    zone); its stored text when it has no parameters or a kind this release lacks."""
    return _one_line(messages.render(note.kind, note.params, note.text), TEXT_MAX)


def _can_be_notified(user: User) -> bool:
    """Active, and not in a closed account (whose users cannot sign in any more)."""
    return user.active and (user.account is None or user.account.status != "closed")


_one_line = messages.one_line


def is_local_path(link: str | None) -> bool:
    """True for a path inside this portal ("/orders/2026-000012"), false for anything a
    browser could read as another site: "//host", "/\\host", "https://...", "javascript:"."""
    if not link or not link.startswith("/") or link.startswith(("//", "/\\")):
        return False
    if "\\" in link or any(ord(char) < 32 or ord(char) == 127 for char in link):
        return False
    parts = urlsplit(link)
    return not parts.scheme and not parts.netloc


# --- reading and marking ---------------------------------------------------------------


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread (one COUNT on an index)."""
    count = db.session.scalar(_unread_query(user.id))
    return count or 0


def unread_count_of(user_id):
    """The unread count as a scalar subquery for `user_id` (a column): the sign-in
    loader reads it in the same statement as the session and its user."""
    return _unread_query(user_id).scalar_subquery()


def _unread_query(user_id):
    return (
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )


def recent(user: User, limit: int = 50, offset: int = 0) -> list[Notification]:
    """The user's notifications, newest first."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
        .limit(max(0, limit))
        .offset(max(0, offset))
    )
    return list(db.session.scalars(query))


def mark_read(user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read; another user's id is NotFound."""
    notification = db.session.scalar(
        select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user.id
        )
    )
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = utcnow()
    db.session.commit()
    return notification


def mark_all_read(user: User, *, up_to: int | None = None) -> int:
    """Mark the user's unread notifications read; returns how many were.

    `up_to` is the newest id the user was shown: one that arrived after the
    page was drawn stays unread, since the user has not seen it.
    """
    statement = (
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if up_to is not None:
        statement = statement.where(Notification.id <= up_to)
    marked = db.session.execute(statement).rowcount
    db.session.commit()
    return marked


def open_notification(user: User, notification_id: int) -> str:
    """Mark one of the user's notifications read and return its link."""
    return mark_read(user, notification_id).link


# --- after the commit: nudge the worker ----------------------------------------------------


@event.listens_for(Session, "after_commit")
def _nudge_after_commit(session: Session) -> None:
    # SQLAlchemy fires after_commit for a released savepoint too; the nudge
    # waits until the outermost transaction is committed.
    if session.get_nested_transaction() is not None:
        return
    if session.info.pop(_NUDGE, False) and not session.info.get(_QUIET):
        from portal import jobs

        # Never raises: the rows are committed, and the schedule delivers them
        # within a minute if the nudge cannot be queued.
        jobs.enqueue("deliver_outbox")


@contextmanager
def without_nudges() -> Iterator[None]:
    """Commit without waking the worker each time: for bulk writes such as the demo
    load, whose thousand commits would otherwise queue a thousand deliveries of an
    outbox the schedule empties within a minute anyway."""
    db.session.info[_QUIET] = True
    try:
        yield
    finally:
        db.session.info.pop(_QUIET, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_uncommitted(session: Session, transaction) -> None:
    # The outermost transaction ended without a commit taking the flag.
    if transaction.parent is None:
        session.info.pop(_NUDGE, None)
