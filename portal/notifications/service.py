"""Notifying people: a row for the bell and the list, an e-mail after the commit.

`notify` adds rows to the caller's transaction and queues one e-mail per
recipient in the session's outbox (`Session.info`). The e-mails leave only
when the whole transaction commits; a rollback, a rolled-back savepoint or a
session closed without a commit drops what was queued inside it, so a change
that did not happen is never announced. Sending runs in a background thread
and never raises: a slow or unreachable mail server cannot hold up or break
the request that made the change.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session, SessionTransaction

from portal.errors import NotFound
from portal.extensions import db, utcnow

from .models import Notification

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
SMTP_TIMEOUT_SECONDS = 10
# Key of the outbox in Session.info: a list of `_Queued`.
_OUTBOX = "portal.notifications.outbox"


@dataclass(frozen=True)
class MailSettings:
    """How to send, read from the app's configuration when the mail is queued."""

    server: str | None
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    sender: str

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        return cls(
            server=config.get("MAIL_SERVER") or None,
            port=int(config.get("MAIL_PORT") or 25),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            use_tls=bool(config.get("MAIL_USE_TLS")),
            sender=config.get("MAIL_FROM") or "portal@localhost",
        )


@dataclass(frozen=True)
class Mail:
    to_name: str
    to_address: str
    subject: str
    body: str


@dataclass(frozen=True)
class _Queued:
    # The innermost transaction (savepoint or root) that was open when queued:
    # if it rolls back, the mail goes with it.
    transaction: SessionTransaction
    settings: MailSettings
    mail: Mail


# --- writing ---------------------------------------------------------------------------


def notify(
    users: Iterable[User],
    kind: str,
    text: str,
    link: str,
    *,
    exclude: User | None = None,
) -> list[Notification]:
    """Tell each user about something, in the caller's transaction; the caller commits.

    One notification per distinct active user; `exclude` (the person who acted)
    is skipped, so nobody is told about their own action. `link` is a path
    inside the portal. An e-mail per recipient is sent after the commit.
    """
    if not kind or len(kind) > KIND_MAX:
        raise ValueError(f"a notification kind has 1 to {KIND_MAX} characters: {kind!r}")
    if not is_local_path(link) or len(link) > LINK_MAX:
        raise ValueError(f"a notification links to a path inside the portal: {link!r}")
    text = _one_line(text, TEXT_MAX)
    if not text:
        raise ValueError("a notification needs a text")

    recipients: dict[int, User] = {}
    for user in users:
        if user.id is None:
            raise ValueError("notify() needs users that are stored (with an id)")
        if exclude is not None and user.id == exclude.id:
            continue
        if _can_be_notified(user):
            recipients.setdefault(user.id, user)
    created = [
        Notification(user_id=user.id, kind=kind, text=text, link=link)
        for user in recipients.values()
    ]
    if not created:
        return []
    session = db.session()
    session.add_all(created)  # begins the transaction if none is open yet

    config = current_app.config
    settings = MailSettings.from_config(config)
    url = config.get("PUBLIC_URL", "http://localhost:5000").rstrip("/") + link
    portal_name = f"{config['VENDOR_NAME']} Portal"
    transaction = session.get_nested_transaction() or session.get_transaction()
    assert transaction is not None
    outbox: list[_Queued] = session.info.setdefault(_OUTBOX, [])
    for user in recipients.values():
        name = _one_line(user.name, 200)
        body = (
            f"Hello {name},\n\n{text}\n\nOpen it in the portal: {url}\n\n"
            f"-- \nThe {portal_name}. You get this e-mail because you have an account there.\n"
        )
        outbox.append(_Queued(transaction, settings, Mail(name, user.email, text, body)))
    return created


def _can_be_notified(user: User) -> bool:
    """Active, and not in a closed account (whose users cannot sign in any more)."""
    return user.active and (user.account is None or user.account.status != "closed")


def _one_line(value: str, limit: int) -> str:
    """Whitespace collapsed (no line breaks: the text is also a mail header), cut to `limit`."""
    value = " ".join((value or "").split())
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


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
    count = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    return count or 0


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


# --- the outbox: sent after the commit, dropped with a rollback ------------------------


@event.listens_for(Session, "after_commit")
def _send_after_commit(session: Session) -> None:
    # SQLAlchemy fires after_commit for a released savepoint too; the mail
    # waits until the outermost transaction is committed.
    if session.get_nested_transaction() is not None:
        return
    queued: list[_Queued] = session.info.pop(_OUTBOX, None) or []
    if queued:
        deliver([(entry.settings, entry.mail) for entry in queued])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    # Fired for every rollback, naming the transaction that ended: a savepoint
    # drops only what was queued inside it. (after_rollback cannot tell a
    # savepoint from the whole transaction, so it is not used.)
    queued: list[_Queued] | None = session.info.get(_OUTBOX)
    if queued:
        queued[:] = [q for q in queued if not _inside(q.transaction, previous_transaction)]


@event.listens_for(Session, "after_transaction_end")
def _drop_uncommitted(session: Session, transaction: SessionTransaction) -> None:
    # The outermost transaction ended without after_commit having taken the
    # outbox: rolled back, or the session closed without a commit.
    if transaction.parent is None:
        session.info.pop(_OUTBOX, None)


def _inside(transaction: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ancestor:
            return True
        transaction = transaction.parent
    return False


def deliver(mails: list[tuple[MailSettings, Mail]]) -> None:
    """Send committed mail: by SMTP in a background thread, or to the log without a server."""
    batches: dict[MailSettings, list[Mail]] = {}
    for settings, mail in mails:
        batches.setdefault(settings, []).append(mail)
    for settings, batch in batches.items():
        if settings.server is None:
            for mail in batch:
                log.info("mail to %s: %s", mail.to_address, mail.subject)
            continue
        threading.Thread(
            target=_send, args=(settings, batch), name="portal-mail", daemon=True
        ).start()


def _send(settings: MailSettings, mails: list[Mail]) -> None:
    """One SMTP connection for a batch. Every failure is logged, none is raised."""
    assert settings.server is not None
    try:
        with smtplib.SMTP(settings.server, settings.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if settings.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            for mail in mails:
                try:
                    smtp.send_message(_message(settings, mail))
                except smtplib.SMTPException:
                    # One refused recipient must not cost the others their mail.
                    log.exception("mail to %s was not accepted", mail.to_address)
    except Exception:
        log.exception(
            "could not send %d mail(s) via %s:%s", len(mails), settings.server, settings.port
        )


def _message(settings: MailSettings, mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((mail.to_name, mail.to_address))
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(utcnow())
    # The sender's domain, not socket.getfqdn(): that can wait on DNS.
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2].strip("> "))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(mail.body)
    return message
