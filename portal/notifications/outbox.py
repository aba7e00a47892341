"""The e-mail outbox: written with the change, delivered by the worker.

`notify` adds an `OutboxMessage` to the caller's transaction, so a change that
rolls back leaves no mail and one that commits always has its mail. The worker
(`deliver_due`, a job in portal.jobs) sends what is due:

- It claims rows with one conditional UPDATE (queued → sending, with its name
  and a lease), so two workers never take the same row.
- Each message is marked sent (and committed) right after the server accepted
  it, before the next one is handed over.
- A temporary failure (connection refused, time-out, a 4xx reply) puts the row
  back in the queue with a growing delay (1, 2, 4 … 60 minutes); after
  `RETRY_HOURS` it becomes failed. A permanent failure (a 5xx reply, a bad
  address) is failed at once. Failed rows keep the server's answer; vendor
  admins see them and can resend.

A worker killed mid-batch leaves rows in 'sending' whose lease runs out. Of the
rows one claim still holds, only the lowest id can have been in the server's
hands (the rest were never tried: messages go in id order and every outcome is
committed before the next one starts). That one is NOT resent: it becomes failed
with a message saying it may have arrived, and an admin decides (its
Message-ID lets a receiver recognise a duplicate). The others go back to the
queue. So a message the server accepted is never sent twice by the portal on
its own: at most once after acceptance, at the price of an admin's look at the
rare message a crash left in doubt.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import TYPE_CHECKING, Any

from flask import current_app
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from portal.errors import DomainError, NotFound
from portal.extensions import db, utcnow

from . import messages
from .models import DigestItem, Notification, OutboxMessage

if TYPE_CHECKING:
    from portal.accounts.models import User

log = logging.getLogger("portal.notifications")

SMTP_TIMEOUT_SECONDS = 10
BATCH_SIZE = 100
# The most one run of the job sends before it hands the worker back (it nudges itself).
RUN_LIMIT = 5000
LEASE_MINUTES = 10
RETRY_HOURS = 24
MAX_DELAY_MINUTES = 60
ERROR_MAX = 1000
SUBJECT_MAX = 300


@dataclass(frozen=True)
class MailSettings:
    """How to send, read from the worker's configuration when it sends."""

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


# --- writing -----------------------------------------------------------------------------


def queue_mail(user: User, kind: str, subject: str, body: str) -> OutboxMessage:
    """Add one e-mail to the caller's transaction (the caller commits)."""
    sender = current_app.config.get("MAIL_FROM") or "portal@localhost"
    message = OutboxMessage(
        user_id=user.id,
        recipient_name=user.name[:200],
        recipient=user.email,
        subject=subject,
        body=body,
        kind=kind,
        # The sender's domain, not socket.getfqdn(): that can wait on DNS.
        give_up_at=utcnow() + timedelta(hours=RETRY_HOURS),
        message_id=make_msgid(domain=sender.rpartition("@")[2].strip("> ") or "localhost"),
    )
    db.session.add(message)
    return message


def queue_notification(user: User, note: Notification) -> OutboxMessage:
    """The e-mail of one notification, written in the recipient's language and zone
    (not the language of whoever caused it) and added to the caller's transaction.

    Written now, not at delivery: the row is the message, as the admins' list of
    failed mail shows it and as a resend sends it again under the same Message-ID.
    """
    with force_locale(messages.language_of(user)):
        text = messages.one_line(
            messages.render(note.kind, note.params, note.text, zone=messages.zone_of(user)),
            SUBJECT_MAX,
        )
        body = "\n\n".join(
            [
                _("Hello %(name)s,", name=messages.one_line(user.name, 200)),
                text,
                _("Open it in the portal: %(url)s", url=absolute(note.link)),
                _signature(
                    _(
                        "You get this e-mail because you have an account there; choose "
                        "which e-mail you get under %(url)s",
                        url=absolute("/notifications/settings"),
                    )
                ),
            ]
        )
    return queue_mail(user, note.kind, text, body)


def _signature(reason: str) -> str:
    """The sign-off below "-- " (mail programs hide what follows it in replies)."""
    return f"-- \n{portal_name()}. {reason}\n"


def portal_name() -> str:
    """The portal's name as e-mails sign off with it, in the current language."""
    return _("%(vendor)s Portal", vendor=current_app.config["VENDOR_NAME"])


def absolute(link: str) -> str:
    """A path inside the portal as an address people can open from an e-mail."""
    return current_app.config.get("PUBLIC_URL", "http://localhost:5000").rstrip("/") + link


# --- delivering --------------------------------------------------------------------------


@dataclass
class Delivery:
    """What one run of `deliver_due` did."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    recovered: int = 0


class _Temporary(Exception):
    pass


class _Permanent(Exception):
    pass


def deliver_due(*, now: datetime | None = None, worker: str | None = None) -> Delivery:
    """Send every outbox row that is due, batch by batch; see the module's docstring."""
    from portal import jobs

    # `now` moves a test's clock; the run's decisions (what is due, when to retry) all
    # read the same clock, so a row retried in this run is never due again in it.
    offset = (now - utcnow()) if now is not None else timedelta(0)

    def clock() -> datetime:
        return utcnow() + offset

    settings = MailSettings.from_config(current_app.config)
    report = Delivery(recovered=recover_stale_claims(clock()))
    claimant = f"{worker or jobs.worker_name()}/{uuid.uuid4().hex[:8]}"
    while report.sent + report.retrying + report.failed < RUN_LIMIT:
        rows = _claim(claimant, clock())
        if not rows:
            return report
        _send_batch(settings, claimant, rows, report, clock)
    jobs.enqueue("deliver_outbox")  # more is due: another run, after the jobs waiting
    return report


@dataclass(frozen=True)
class _Claimed:
    """A claimed row's fields, read once: touching an ORM object after a commit would
    reload it and open a read transaction that SQLite cannot turn into a write."""

    id: int
    recipient_name: str
    recipient: str
    subject: str
    body: str
    message_id: str
    attempts: int
    give_up_at: datetime
    lease_until: datetime | None


def _claim(claimant: str, now: datetime) -> list[_Claimed]:
    due = (
        select(OutboxMessage.id)
        .where(OutboxMessage.state == "queued", OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(BATCH_SIZE)
        # PostgreSQL: a second worker skips what the first is claiming instead of
        # waiting for it (SQLite serialises writers and ignores this).
        .with_for_update(skip_locked=True)
    )
    # One statement, a write from the start: on SQLite it takes the write lock at
    # once; on PostgreSQL the state condition is checked again on a locked row.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due), OutboxMessage.state == "queued")
        .values(
            state="sending",
            claimed_by=claimant,
            lease_until=now + timedelta(minutes=LEASE_MINUTES),
            attempts=OutboxMessage.attempts + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    rows = [
        _Claimed(*row)
        for row in db.session.execute(
            select(
                OutboxMessage.id,
                OutboxMessage.recipient_name,
                OutboxMessage.recipient,
                OutboxMessage.subject,
                OutboxMessage.body,
                OutboxMessage.message_id,
                OutboxMessage.attempts,
                OutboxMessage.give_up_at,
                OutboxMessage.lease_until,
            )
            .where(OutboxMessage.claimed_by == claimant, OutboxMessage.state == "sending")
            .order_by(OutboxMessage.id)
        )
    ]
    db.session.commit()  # end the read, so the next statement starts a write
    return rows


def _send_batch(
    settings: MailSettings,
    claimant: str,
    rows: list[_Claimed],
    report: Delivery,
    clock: Callable[[], datetime] = utcnow,
) -> None:
    """One SMTP connection for the batch; each outcome committed before the next send."""
    if settings.server is None:
        # No server configured (a laptop): the message goes to the log instead.
        for row in rows:
            log.info("mail to %s: %s", row.recipient, row.subject)
            _outcome(row, claimant, report, clock(), sent=True)
        return
    try:
        smtp = smtplib.SMTP(settings.server, settings.port, timeout=SMTP_TIMEOUT_SECONDS)
    except (OSError, smtplib.SMTPException) as error:
        for row in rows:
            _outcome(
                row, claimant, report, clock(), error=_Temporary(_connection_error(settings, error))
            )
        return
    with smtp:
        try:
            if settings.use_tls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except (OSError, smtplib.SMTPException) as error:
            # The server cannot be used at all yet (TLS, login): every message waits.
            for row in rows:
                _outcome(
                    row, claimant, report, error=_Temporary(_connection_error(settings, error))
                )
            return
        broken: Exception | None = None
        for row in rows:
            if broken is not None:
                _outcome(row, claimant, report, clock(), error=_Temporary(str(broken)))
                continue
            if row.lease_until is not None and clock() > row.lease_until - timedelta(
                seconds=SMTP_TIMEOUT_SECONDS * 3
            ):
                _release(row, claimant)  # not tried: back to the queue as it was
                continue
            try:
                _send_one(smtp, settings, row)
            except _Permanent as error:
                _outcome(row, claimant, report, clock(), error=error)
            except _Temporary as error:
                _outcome(row, claimant, report, clock(), error=error)
            except (OSError, smtplib.SMTPServerDisconnected) as error:
                # The connection broke while handing this one over. The server has not
                # confirmed it, so it is tried again (the only case that can produce a
                # duplicate: a server that accepted and dropped the line before its
                # reply; the Message-ID lets the receiver see it). The rest waits.
                broken = _Temporary(_connection_error(settings, error))
                _outcome(row, claimant, report, clock(), error=broken)
            else:
                _outcome(row, claimant, report, clock(), sent=True)


def _send_one(smtp: smtplib.SMTP, settings: MailSettings, row: _Claimed) -> None:
    if not _plausible_address(row.recipient):
        raise _Permanent(f"Bad address: {row.recipient!r}.")
    try:
        refused = smtp.send_message(_message(settings, row))
    except smtplib.SMTPRecipientsRefused as error:
        code, answer = next(iter(error.recipients.values()))
        raise _classify(code, answer) from None
    except smtplib.SMTPResponseException as error:  # sender refused, data refused, …
        raise _classify(error.smtp_code, error.smtp_error) from None
    if refused:  # one recipient per message: this cannot be partial, but be sure
        code, answer = next(iter(refused.values()))
        raise _classify(code, answer)


def _classify(code: int, answer: bytes | str) -> Exception:
    text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
    reply = f"{code} {text}".strip()
    return _Permanent(reply) if 500 <= code < 600 else _Temporary(reply)


def _connection_error(settings: MailSettings, error: Exception) -> str:
    reason = str(error).strip() or type(error).__name__
    return f"{settings.server}:{settings.port}: {reason}"


def _plausible_address(address: str) -> bool:
    local, at, domain = (address or "").rpartition("@")
    return bool(at and local and "." in domain) and not any(c.isspace() for c in address)


def _outcome(
    row: _Claimed,
    claimant: str,
    report: Delivery,
    now: datetime,
    *,
    sent: bool = False,
    error: Exception | None = None,
) -> None:
    """Record what happened to one claimed row, and commit it at once."""
    values: dict[str, Any] = {"claimed_by": None, "lease_until": None, "updated_at": now}
    if sent:
        values.update(state="sent", sent_at=now, last_error=None)
        report.sent += 1
    else:
        answer = str(error)[:ERROR_MAX]
        retry_at = now + timedelta(minutes=min(MAX_DELAY_MINUTES, 2 ** max(0, row.attempts - 1)))
        if isinstance(error, _Temporary) and retry_at < row.give_up_at:
            values.update(state="queued", next_attempt_at=retry_at, last_error=answer)
            report.retrying += 1
        else:
            if isinstance(error, _Temporary):
                answer = f"Gave up after {RETRY_HOURS} hours of trying. Last answer: {answer}"
            values.update(state="failed", last_error=answer[:ERROR_MAX])
            report.failed += 1
            log.warning("mail to %s failed: %s", row.recipient, answer)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == claimant)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _release(row: _Claimed, claimant: str) -> None:
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == row.id, OutboxMessage.claimed_by == claimant)
        .values(
            state="queued",
            claimed_by=None,
            lease_until=None,
            attempts=OutboxMessage.attempts - 1,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


INTERRUPTED = (
    "The worker stopped while handing this message to the mail server: it may have "
    "been delivered. It is not resent on its own; resend it if the recipient did not "
    "get it (a duplicate carries the same Message-ID)."
)


def recover_stale_claims(now: datetime) -> int:
    """Claims whose lease ran out (a worker that died): the one message that may have
    been in the server's hands is failed, the rest go back to the queue."""
    stale = (OutboxMessage.state == "sending") & (OutboxMessage.lease_until < now)
    in_doubt = (
        select(func.min(OutboxMessage.id)).where(stale).group_by(OutboxMessage.claimed_by)
    ).scalar_subquery()
    doubtful = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(in_doubt))
        .values(
            state="failed",
            last_error=INTERRUPTED,
            claimed_by=None,
            lease_until=None,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    untried = db.session.execute(
        update(OutboxMessage)
        .where(stale)
        .values(
            state="queued",
            claimed_by=None,
            lease_until=None,
            attempts=OutboxMessage.attempts - 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if doubtful:
        log.warning("%d message(s) left in doubt by a stopped worker: failed, not resent", doubtful)
    return doubtful + untried


def _message(settings: MailSettings, row: _Claimed) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = formataddr((row.recipient_name, row.recipient))
    message["Subject"] = row.subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = row.message_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies
    message.set_content(row.body)
    return message


# --- for vendor admins -------------------------------------------------------------------


def failed_messages(limit: int = 50) -> list[OutboxMessage]:
    """Failed e-mail, newest first, with the server's answer."""
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.state == "failed")
            .order_by(OutboxMessage.updated_at.desc(), OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def counts() -> dict[str, int]:
    """Outbox rows per state."""
    return dict(
        db.session.execute(
            select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)
        ).all()
    )


def resend(actor: User, message_id: int) -> OutboxMessage:
    """Put a failed message back in the queue, due now, with a fresh day of retries.

    The Message-ID stays: it is the same message. Only vendor admins may.
    """
    from portal.accounts.roles import Role
    from portal.audit import service as audit

    if not actor.has_role(Role.ADMIN):
        raise DomainError(_("Only vendor admins may resend e-mail."))
    row = db.session.get(OutboxMessage, message_id)
    if row is None:
        raise NotFound(_("No such message."))
    now = utcnow()
    changed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.state == "failed")
        .values(
            state="queued",
            next_attempt_at=now,
            give_up_at=now + timedelta(hours=RETRY_HOURS),
            attempts=0,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        raise DomainError(_("That message is not failed (any more): nothing to resend."))
    audit.record(
        "mail_resent",
        actor=actor,
        # A reference, like the other audit targets, not an English phrase: the audit
        # log is read in its reader's language.
        target=f"outbox_message:{message_id}",
        detail={
            "recipient": row.recipient,
            "subject": row.subject,
            "last_error": row.last_error,
        },
    )
    db.session.commit()
    db.session.refresh(row)
    return row


# --- the daily digest --------------------------------------------------------------------


def send_digests() -> int:
    """One e-mail per user with notifications waiting for their digest; returns how many."""
    from portal.accounts.models import User

    # DELETE … RETURNING first: the transaction starts with a write (SQLite takes
    # the write lock at once), and an item can only ever go into one digest.
    taken = db.session.execute(
        delete(DigestItem).returning(DigestItem.user_id, DigestItem.notification_id)
    ).all()
    if not taken:
        db.session.commit()
        return 0
    by_user: dict[int, list[int]] = {}
    for user_id, notification_id in taken:
        by_user.setdefault(user_id, []).append(notification_id)
    notes = {
        n.id: n
        for n in db.session.scalars(
            select(Notification).where(Notification.id.in_([n for _, n in taken]))
        )
    }
    written = 0
    for user_id, ids in by_user.items():
        user = db.session.get(User, user_id)
        if user is None or not user.active:
            continue
        items = sorted((notes[i] for i in ids if i in notes), key=lambda n: n.created_at)
        if not items:
            continue
        queue_digest(user, items)
        written += 1
    db.session.commit()
    return written


def queue_digest(user: User, items: list[Notification]) -> OutboxMessage:
    """One user's digest of `items`, in their language and zone, into the outbox."""
    zone = messages.zone_of(user)
    with force_locale(messages.language_of(user)):
        lines = "\n".join(
            f"- {messages.one_line(messages.render(n.kind, n.params, n.text, zone=zone), 300)}"
            f"\n  {absolute(n.link)}"
            for n in items
        )
        count = ngettext("%(num)d notification", "%(num)d notifications", len(items))
        body = "\n\n".join(
            [
                _("Hello %(name)s,", name=messages.one_line(user.name, 200)),
                _(
                    "Your daily digest from the %(portal)s: %(count)s.",
                    portal=portal_name(),
                    count=count,
                ),
                lines,
                _signature(
                    _(
                        "You chose to get these once a day. Change that under %(url)s",
                        url=absolute("/notifications/settings"),
                    )
                ),
            ]
        )
        subject = _("Your daily digest: %(count)s", count=count)
    return queue_mail(user, "digest", subject, body)
