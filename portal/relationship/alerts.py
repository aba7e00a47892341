"""Alerts that reach a person: when an account, or one of its signals, turns red, its
account manager is told once for that episode and asked for a next step. An episode
ends when the subject is no longer red; a red that stays red sends nothing more. Not
acknowledged within two working days, it goes to the vendor admins (`escalate`, a
scheduled job). Acknowledging is setting the next step as a follow-up (contacts): a
follow-up set for the account, from here or from the contact log, acknowledges its
waiting alerts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime

from flask_babel import force_locale, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select
from sqlalchemy import update as update_
from sqlalchemy.orm import selectinload

from portal import days
from portal.accounts.models import CustomerAccount, User, UserRole
from portal.accounts.roles import Role
from portal.contacts import service as contacts
from portal.contacts.models import FollowUp
from portal.errors import DomainError
from portal.extensions import db
from portal.ideas.service import add_business_days
from portal.notifications import service as notifications

from . import phrases, signals
from .models import Episode

ESCALATE_AFTER_WORKING_DAYS = 2
NEXT_STEP_MAX = 500


def subject_label(subject: str):
    """What turned red, as a lazy label: a notification keeps its message id and each
    reader reads it in their language (an unknown key, from an older release, as is)."""
    if subject == "account":
        return _l("the account as a whole")
    found = signals.by_key().get(subject)
    return found.label if found else subject


def _english(reason) -> str:
    with force_locale("en"):
        return phrases.shown(reason)


# The portfolio showing only the red accounts: where a message about many of them points.
PORTFOLIO_RED_LINK = "/relationship/portfolio?status=red"


def _link(account: CustomerAccount) -> str:
    return f"/relationship/accounts/{account.number}"


# More accounts than this turning red for one person in one refresh make one message
# that names them, not a message each: the first refresh after a quiet spell (or of a new
# install) must not flood a manager's, or the admins', inbox with hundreds of mails.
SINGLE_ALERTS_MAX = 3
SUMMARY_NAMES_MAX = 200  # characters of account names in the one message


def update(healths: dict, day: date, now: datetime) -> int:
    """Open an episode for each newly red subject (and tell the manager), end the
    episodes whose subject is no longer red. Returns how many episodes opened; the
    caller commits.

    Set-based, a handful of statements whatever the number of accounts: one read of
    the open episodes, one UPDATE ending those no longer red, one INSERT of the new
    ones, one read of the accounts that turned red with their managers, and a
    notification per person told (see SINGLE_ALERTS_MAX), not a round of queries per
    account."""
    ids = list(healths)
    if not ids:
        return 0
    open_: dict[int, set[str]] = defaultdict(set)
    ended = []
    red_of = {account_id: health.red_subjects() for account_id, health in healths.items()}
    for episode_id, account_id, subject in db.session.execute(
        select(Episode.id, Episode.account_id, Episode.subject).where(
            Episode.account_id.in_(ids), Episode.ended_on.is_(None)
        )
    ):
        open_[account_id].add(subject)
        if subject not in red_of[account_id]:
            ended.append(episode_id)
    if ended:
        db.session.execute(
            update_(Episode).where(Episode.id.in_(ended)).values(ended_on=day),
        )
    new = {
        account_id: {s: reason for s, reason in red.items() if s not in open_[account_id]}
        for account_id, red in red_of.items()
    }
    new = {account_id: subjects for account_id, subjects in new.items() if subjects}
    if not new:
        return 0
    accounts = {
        a.id: a
        for a in db.session.scalars(
            select(CustomerAccount)
            .options(selectinload(CustomerAccount.account_manager))
            .where(CustomerAccount.id.in_(list(new)))
        )
    }
    rows = []
    # Who hears of which accounts: the manager, or the admins at once when nobody
    # (active) answers for the account.
    told: dict[int | None, list[CustomerAccount]] = defaultdict(list)
    for account_id, subjects in new.items():
        account = accounts[account_id]
        manager = account.account_manager
        escalate_now = manager is None or not manager.active
        told[None if escalate_now else manager.id].append(account)
        rows.extend(
            {
                "account_id": account_id,
                "subject": subject,
                # The English sentence (a text column, read by people who search it
                # and by older releases) and the message that each reader reads in
                # their language (`reason_of`); the notification below keeps it too.
                "reason": _english(reason)[:500],
                "reason_message": None if isinstance(reason, str) else reason,
                "started_on": day,
                "manager_id": account.account_manager_id,
                "notified_at": now,
                "escalated_at": now if escalate_now else None,
                "next_step": "",
            }
            for subject, reason in subjects.items()
        )
    db.session.execute(insert(Episode), rows)
    admins = _admins() if None in told else []
    for manager_id, their in told.items():
        recipients = admins if manager_id is None else [their[0].account_manager]
        if len(their) > SINGLE_ALERTS_MAX:
            _tell_many(recipients, their, new)
            continue
        for account in their:
            # One message per account and refresh, naming every episode that began.
            notifications.notify(
                recipients,
                "relationship_red",
                {
                    "account": account.name,
                    "signals": [[subject_label(s), r] for s, r in new[account.id].items()],
                },
                _link(account),
            )
    return len(rows)


def _tell_many(recipients: list[User], accounts: list[CustomerAccount], new: dict) -> None:
    """One message for many accounts that turned red at once, worst news first (most
    red subjects), naming as many as fit and linking to the red accounts of the portfolio."""
    accounts = sorted(accounts, key=lambda a: (-len(new[a.id]), a.name.lower()))
    names: list[str] = []
    for account in accounts:
        if sum(len(n) + 2 for n in names) + len(account.name) > SUMMARY_NAMES_MAX:
            break
        names.append(account.name)
    rest = len(accounts) - len(names)
    params = {"variant": "many", "count": len(accounts), "accounts": ", ".join(names)}
    if rest:
        params["more"] = rest
    notifications.notify(recipients, "relationship_red", params, PORTFOLIO_RED_LINK)


def _admins() -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.ADMIN.value, User.account_id.is_(None), User.active)
        )
    )


def escalation_due(notified_at: datetime) -> date:
    """The day an unacknowledged alert goes to the admins: two working days after,
    counted in the vendor's days (its managers' and admins' schedule, portal.days)."""
    return add_business_days(
        days.local_day(notified_at, days.vendor_zone()), ESCALATE_AFTER_WORKING_DAYS
    )


def escalate(now: datetime) -> int:
    """Send the admins every open episode its manager has not acknowledged within two
    working days. Commits; returns how many went up."""
    waiting = list(
        db.session.scalars(
            select(Episode).where(
                Episode.ended_on.is_(None),
                Episode.acknowledged_at.is_(None),
                Episode.escalated_at.is_(None),
                Episode.notified_at.is_not(None),
            )
        )
    )
    due = [e for e in waiting if escalation_due(e.notified_at) <= days.vendor_today(now)]
    if not due:
        return 0
    admins = _admins()
    accounts = {
        a.id: a
        for a in db.session.scalars(
            select(CustomerAccount).where(CustomerAccount.id.in_({e.account_id for e in due}))
        )
    }
    for episode in due:
        account = accounts[episode.account_id]
        manager = account.account_manager.name if account.account_manager else None
        notifications.notify(
            admins,
            "relationship_escalated",
            {
                "account": account.name,
                "subject": subject_label(episode.subject),
                "date": episode.started_on,
                "manager": manager,
                # The message, so each admin reads it in their language; older
                # episodes have only the English sentence.
                "reason": episode.reason_message or episode.reason,
            },
            _link(account),
        )
        episode.escalated_at = now
    db.session.commit()
    return len(due)


def open_episodes(account_id: int) -> list[Episode]:
    return list(
        db.session.scalars(
            select(Episode)
            .where(Episode.account_id == account_id, Episode.ended_on.is_(None))
            .order_by(Episode.started_on, Episode.id)
        )
    )


def reason_of(episode: Episode) -> str:
    """Why the episode began, in the reader's language (older episodes: as stored)."""
    if episode.reason_message:
        return phrases.shown(episode.reason_message)
    return episode.reason


def next_step_shown(episode: Episode) -> str:
    """The acknowledged next step in the reader's language (older episodes: as stored)."""
    if episode.next_step_message:
        return phrases.shown(episode.next_step_message)
    return episode.next_step


def waiting_episodes(account_id: int) -> list[Episode]:
    """The account's open red alerts nobody has taken on yet."""
    return [e for e in open_episodes(account_id) if e.acknowledged_at is None]


def next_step_of(follow_up: FollowUp) -> phrases.Phrase:
    """The follow-up as the alert's next step: what, by when, who; a phrase, so that
    each reader reads it in their language and writes the day their way."""
    return phrases.Phrase(
        _l("%(kind)s by %(date)s (%(owner)s): %(title)s"),
        kind=follow_up.kind_label,
        date=follow_up.due_on,
        owner=follow_up.owner.name if follow_up.owner else _l("the account's manager"),
        title=follow_up.title,
    )


def take_on(user: User, account: CustomerAccount, follow_up: FollowUp, now: datetime) -> int:
    """Acknowledge the account's waiting red alerts with this follow-up as their next step.
    Called by `contacts.service.set_follow_up` before it commits, so a follow-up set from
    anywhere (the alert, the contact log, the follow-up form) answers the alert and the
    escalation no longer happens. Returns how many alerts it acknowledged."""
    waiting = waiting_episodes(account.id)
    step = next_step_of(follow_up)
    for episode in waiting:
        episode.acknowledged_at = now
        episode.acknowledged_by_id = user.id
        episode.next_step = _english(phrases.stored(step))[:NEXT_STEP_MAX]
        episode.next_step_message = phrases.stored(step)
    return len(waiting)


def acknowledge(
    user: User, account: CustomerAccount, data: contacts.FollowUpInput, now: datetime
) -> tuple[int, FollowUp]:
    """The manager (or an admin) takes the account's open red alerts on by setting their
    next step as a follow-up (kind, due date, owner) through the contacts area's one
    `set_follow_up`; `account` is the one the caller already checked the user may see.
    Returns how many alerts were acknowledged, and the follow-up."""
    waiting = waiting_episodes(account.id)
    if not waiting:
        raise DomainError("No red alert of this account waits for acknowledgement.")
    if not (data.reason or "").strip():
        # A text the follow-up keeps as typed: in the words of the person setting it.
        what = ", ".join(str(subject_label(e.subject)) for e in waiting)
        data = replace(
            data, reason=gettext("Red alert: %(what)s", what=what)[: contacts.TEXT_LIMITS["reason"]]
        )
    # Due by the day of the person who sets it, as from the contact log (portal.days).
    follow_up = contacts.set_follow_up(user, account, data, days.user_today(user, now), now=now)
    return len(waiting), follow_up
