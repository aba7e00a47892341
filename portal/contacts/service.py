"""The contact log and follow-ups: who may work on an account, recording, reading, and the
set-based figures other areas read (`last_contacts`, `open_follow_ups`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Select, bindparam, case, func, select
from sqlalchemy.orm import joinedload

from portal import days
from portal.accounts.models import CustomerAccount, User
from portal.accounts.roles import VENDOR_ROLES, Role
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow
from portal.security import scoped

from .models import CONTACT_KINDS, FOLLOW_UP_KINDS, ContactEntry, FollowUp

# How far back a contact may be dated, and how far ahead a follow-up may fall due:
# beyond that a date is a typing error, not a plan.
OLDEST_CONTACT_DAYS = 366 * 2
FURTHEST_DUE_DAYS = 366 * 2
TEXT_LIMITS = {
    "summary": 200,
    "vendor_people": 500,
    "customer_people": 500,
    "notes": 20_000,
    "next_step": 500,
    "title": 200,
    "reason": 500,
    "done_note": 1000,
}


# --- who may work on which account ---------------------------------------------------------


def works_on_all_accounts(viewer: User) -> bool:
    """Vendor staff other than account managers work on every account; an account manager
    (without another vendor role) on the accounts they manage."""
    if not viewer.is_vendor_staff:
        return False
    return bool(viewer.roles & (VENDOR_ROLES - {Role.ACCOUNT_MANAGER}))


def may_work_on(viewer: User, account: CustomerAccount) -> bool:
    """Whether the viewer may log contacts and follow-ups for this account."""
    if not viewer.is_vendor_staff:
        return False
    return works_on_all_accounts(viewer) or account.account_manager_id == viewer.id


def workable_accounts(viewer: User) -> Select:
    """The ids of the accounts the viewer may log contacts and follow-ups for, as a query."""
    if not viewer.is_vendor_staff:
        raise Forbidden("The contact log is the vendor's.")
    query = select(CustomerAccount.id)
    if not works_on_all_accounts(viewer):
        query = query.where(CustomerAccount.account_manager_id == viewer.id)
    return query


def account_for(viewer: User, account_id: int) -> CustomerAccount:
    """One account the viewer works on, or NotFound."""
    account = db.session.scalar(
        select(CustomerAccount)
        .options(joinedload(CustomerAccount.account_manager))
        .where(CustomerAccount.id == account_id, CustomerAccount.id.in_(workable_accounts(viewer)))
    )
    if account is None:
        raise NotFound("No such account.")
    return account


def account_by_number(viewer: User, number: str) -> CustomerAccount | None:
    """The account with this number, if the viewer works on it (for prefilled links)."""
    account_id = db.session.scalar(
        select(CustomerAccount.id).where(CustomerAccount.number == number.strip().upper()[:20])
    )
    if account_id is None:
        return None
    try:
        return account_for(viewer, account_id)
    except NotFound:
        return None


def accounts_to_choose(viewer: User) -> list[CustomerAccount]:
    return list(
        db.session.scalars(
            select(CustomerAccount)
            .where(CustomerAccount.id.in_(workable_accounts(viewer)))
            .order_by(CustomerAccount.name)
        )
    )


def owners_to_choose() -> list[User]:
    """Who may own a follow-up: the vendor's active staff."""
    return list(
        db.session.scalars(
            select(User).where(User.account_id.is_(None), User.active.is_(True)).order_by(User.name)
        )
    )


# --- checking what people typed ---------------------------------------------------------------


def _text(raw: str | None, field: str, what: str, *, required: bool = False) -> str:
    text = (raw or "").strip()
    if required and not text:
        raise DomainError(f"Write {what}.", field=field)
    if len(text) > TEXT_LIMITS[field]:
        raise DomainError(
            f"Keep {what} under {TEXT_LIMITS[field]:,} characters.".replace(",", " "), field=field
        )
    return text


def _contact_day(day: date | None, today: date) -> date:
    if day is None:
        raise DomainError("Give the day of the contact.", field="contacted_on")
    if day > today:
        raise DomainError(
            "A contact is recorded after it happened: not in the future.", field="contacted_on"
        )
    if day < today - timedelta(days=OLDEST_CONTACT_DAYS):
        raise DomainError("That is more than two years ago: check the date.", field="contacted_on")
    return day


def _due_day(day: date | None, today: date) -> date:
    if day is None:
        raise DomainError("Give the day it is due.", field="due_on")
    if day < today:
        raise DomainError("A new follow-up cannot be due in the past.", field="due_on")
    if day > today + timedelta(days=FURTHEST_DUE_DAYS):
        raise DomainError("That is more than two years ahead: check the date.", field="due_on")
    return day


def _owner(owner_id: int | None, account: CustomerAccount) -> User:
    if owner_id is None:
        if account.account_manager is None:
            raise DomainError("The account has no manager: choose who owns it.", field="owner_id")
        return account.account_manager
    owner = db.session.get(User, owner_id)
    if owner is None or not owner.is_vendor_staff or not owner.active:
        raise DomainError("Choose an owner from the vendor's staff.", field="owner_id")
    return owner


# --- the contact log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ContactInput:
    kind: str
    contacted_on: date | None
    summary: str = ""
    vendor_people: str = ""
    customer_people: str = ""
    notes: str = ""
    next_step: str = ""
    shared: bool = False


def log_contact(
    user: User, account: CustomerAccount, data: ContactInput, today: date
) -> ContactEntry:
    """Record a call, visit, meeting or e-mail with the account (any vendor staff)."""
    if not user.is_vendor_staff:
        raise Forbidden("Only the vendor's staff log contacts.")
    if data.kind not in CONTACT_KINDS:
        raise DomainError("Choose call, visit, meeting or e-mail.", field="kind")
    entry = ContactEntry(
        account_id=account.id,
        kind=data.kind,
        contacted_on=_contact_day(data.contacted_on, today),
        summary=_text(data.summary, "summary", "what it was about", required=True),
        vendor_people=_text(data.vendor_people, "vendor_people", "who took part"),
        customer_people=_text(data.customer_people, "customer_people", "who took part"),
        notes=_text(data.notes, "notes", "the notes"),
        next_step=_text(data.next_step, "next_step", "the next step"),
        shared=bool(data.shared),
        author_id=user.id,
        created_at=utcnow(),
    )
    if not entry.vendor_people:
        entry.vendor_people = user.name
    db.session.add(entry)
    db.session.commit()
    return entry


def contact_log(account: CustomerAccount, *, limit: int = 100) -> list[ContactEntry]:
    """The account's contacts, newest first, as the vendor sees them (internal ones too)."""
    return list(
        db.session.scalars(
            select(ContactEntry)
            .options(joinedload(ContactEntry.author))
            .where(ContactEntry.account_id == account.id)
            .order_by(ContactEntry.contacted_on.desc(), ContactEntry.id.desc())
            .limit(limit)
        )
    )


def shared_contacts(viewer: User, *, limit: int = 100) -> list[ContactEntry]:
    """What the vendor shared with the viewer's own account: shared entries only, never
    an internal one, never another account's."""
    if viewer.is_vendor_staff:
        raise Forbidden("This page is the customer's.")
    return list(
        db.session.scalars(
            scoped(select(ContactEntry), ContactEntry, viewer)
            .options(joinedload(ContactEntry.author))
            .where(ContactEntry.shared.is_(True))
            .order_by(ContactEntry.contacted_on.desc(), ContactEntry.id.desc())
            .limit(limit)
        )
    )


def contacts_of(account: CustomerAccount, ids: Iterable[int]) -> list[ContactEntry]:
    """The account's entries a follow-up may link to (recent ones)."""
    return list(
        db.session.scalars(
            select(ContactEntry).where(
                ContactEntry.account_id == account.id, ContactEntry.id.in_(list(ids))
            )
        )
    )


@dataclass(frozen=True)
class LastContact:
    contacted_on: date
    kind: str
    summary: str

    @property
    def kind_label(self) -> str:
        return CONTACT_KINDS[self.kind]

    def days_ago(self, today: date) -> int:
        return (today - self.contacted_on).days


def last_contacts(account_ids: Iterable[int] | Select) -> dict[int, LastContact]:
    """The newest logged contact of each account (accounts without one are left out).

    One statement for any number of accounts: `account_ids` is a list or a query of ids.
    """
    if isinstance(account_ids, Select):
        rows = db.session.execute(_last_contacts_of(account_ids))
    else:
        # On the session's connection: rows of columns need none of the ORM's handling.
        rows = db.session.connection().execute(
            _last_contacts_of_listed(), {"account_ids": list(account_ids)}
        )
    return {account_id: LastContact(day, kind, summary) for account_id, day, kind, summary in rows}


@cache
def _last_contacts_of_listed() -> Select:
    """Built once per process (the portfolio and the vendor's home ask on every view);
    the ids are bound per call."""
    return _last_contacts_of(bindparam("account_ids", expanding=True))


def _last_contacts_of(ids) -> Select:
    ranked = (
        select(
            ContactEntry.account_id,
            ContactEntry.contacted_on,
            ContactEntry.kind,
            ContactEntry.summary,
            func.row_number()
            .over(
                partition_by=ContactEntry.account_id,
                order_by=(ContactEntry.contacted_on.desc(), ContactEntry.id.desc()),
            )
            .label("rank"),
        )
        .where(ContactEntry.account_id.in_(ids))
        .subquery()
    )
    return select(
        ranked.c.account_id, ranked.c.contacted_on, ranked.c.kind, ranked.c.summary
    ).where(ranked.c.rank == 1)


# --- follow-ups -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpInput:
    kind: str
    title: str
    due_on: date | None
    owner_id: int | None = None
    reason: str = ""
    contact_id: int | None = None


def set_follow_up(
    user: User,
    account: CustomerAccount,
    data: FollowUpInput,
    today: date,
    *,
    now: datetime | None = None,
) -> FollowUp:
    """Set an owned next step for the account; the owner defaults to its manager.

    The one way a follow-up is set: from the follow-up form, and from acknowledging a red
    alert on the relationship page. Either way it acknowledges the account's red alerts
    still waiting, with this follow-up as their next step, so an account that has a dated,
    owned next step is not escalated to the admins as if nobody had answered."""
    if not user.is_vendor_staff:
        raise Forbidden("Only the vendor's staff set follow-ups.")
    if data.kind not in FOLLOW_UP_KINDS:
        raise DomainError("Choose call, visit, review or other.", field="kind")
    title = _text(data.title, "title", "what is to be done", required=True)
    reason = _text(data.reason, "reason", "the reason")
    due_on = _due_day(data.due_on, today)
    owner = _owner(data.owner_id, account)
    contact_id = None
    if data.contact_id is not None:
        if not contacts_of(account, [data.contact_id]):
            raise DomainError("Link a contact of this account.", field="contact_id")
        contact_id = data.contact_id
    follow_up = FollowUp(
        account_id=account.id,
        kind=data.kind,
        title=title,
        reason=reason,
        due_on=due_on,
        owner_id=owner.id,
        contact_id=contact_id,
        created_by_id=user.id,
        created_at=now or utcnow(),
    )
    db.session.add(follow_up)
    db.session.flush()
    # Imported here: relationship reads this area, not the other way round, except for
    # this one hook.
    from portal.relationship import alerts

    alerts.take_on(user, account, follow_up, now or utcnow())
    if owner.id != user.id:
        from portal.notifications import service as notifications

        notifications.notify(
            [owner],
            "follow_up_assigned",
            {"actor": user.name, "account": account.name, "date": due_on, "title": title},
            f"/contacts/accounts/{account.id}",
        )
    db.session.commit()
    return follow_up


def follow_up_for(viewer: User, follow_up_id: int) -> FollowUp:
    """One follow-up of an account the viewer works on, or NotFound."""
    follow_up = db.session.scalar(
        select(FollowUp)
        .options(joinedload(FollowUp.account), joinedload(FollowUp.owner))
        .where(FollowUp.id == follow_up_id, FollowUp.account_id.in_(workable_accounts(viewer)))
    )
    if follow_up is None:
        raise NotFound("No such follow-up.")
    return follow_up


def complete(user: User, follow_up: FollowUp, note: str) -> FollowUp:
    """Mark a follow-up done, with what came of it."""
    if not follow_up.is_open:
        raise DomainError("This follow-up is already done.")
    follow_up.done_note = _text(note, "done_note", "what came of it", required=True)
    follow_up.status = "done"
    follow_up.done_at = utcnow()
    follow_up.done_by_id = user.id
    db.session.commit()
    return follow_up


def follow_ups_of(account: CustomerAccount, *, done_limit: int = 20) -> list[FollowUp]:
    """The account's open follow-ups (nearest due first), then the latest done ones."""
    load = (joinedload(FollowUp.owner), joinedload(FollowUp.done_by), joinedload(FollowUp.contact))
    open_ = db.session.scalars(
        select(FollowUp)
        .options(*load)
        .where(FollowUp.account_id == account.id, FollowUp.status == "open")
        .order_by(FollowUp.due_on, FollowUp.id)
    ).all()
    done = db.session.scalars(
        select(FollowUp)
        .options(*load)
        .where(FollowUp.account_id == account.id, FollowUp.status == "done")
        .order_by(FollowUp.done_at.desc(), FollowUp.id.desc())
        .limit(done_limit)
    ).all()
    return [*open_, *done]


FOLLOW_UP_VIEWS = {"mine": _l("Mine"), "all": _l("All I can see"), "done": _l("Done lately")}


def follow_up_list(viewer: User, view: str, *, limit: int = 200) -> list[FollowUp]:
    """Follow-ups for the list page: the viewer's own open ones, every open one of the
    accounts they work on, or the recently done."""
    query = (
        select(FollowUp)
        .options(joinedload(FollowUp.account), joinedload(FollowUp.owner))
        .where(FollowUp.account_id.in_(workable_accounts(viewer)))
    )
    if view == "done":
        query = query.where(FollowUp.status == "done").order_by(FollowUp.done_at.desc())
    else:
        query = query.where(FollowUp.status == "open")
        if view == "mine":
            query = query.where(FollowUp.owner_id == viewer.id)
        query = query.order_by(FollowUp.due_on, FollowUp.id)
    return list(db.session.scalars(query.limit(limit)))


@dataclass(frozen=True)
class OpenFollowUps:
    open: int
    overdue: int
    nearest_due: date | None

    def days_to_nearest(self, today: date) -> int | None:
        return None if self.nearest_due is None else (self.nearest_due - today).days


def open_follow_ups(
    account_ids: Iterable[int] | Select, today: date | None = None
) -> dict[int, OpenFollowUps]:
    """Per account: open follow-ups, how many are overdue, and the nearest due date.

    Accounts without an open follow-up are left out. One statement for any number of accounts.
    Overdue by default on the vendor's day: follow-ups are the vendor's own to do, and
    this counts them across accounts (portal.days).
    """
    today = today or days.vendor_today()
    if isinstance(account_ids, Select):
        rows = db.session.execute(_open_follow_ups_of(account_ids), {"today": today})
    else:
        rows = db.session.connection().execute(
            _open_follow_ups_of_listed(), {"account_ids": list(account_ids), "today": today}
        )
    return {
        account_id: OpenFollowUps(count, int(overdue or 0), nearest)
        for account_id, count, overdue, nearest in rows
    }


@cache
def _open_follow_ups_of_listed() -> Select:
    """Built once per process, as `_last_contacts_of_listed`."""
    return _open_follow_ups_of(bindparam("account_ids", expanding=True))


def _open_follow_ups_of(ids) -> Select:
    return (
        select(
            FollowUp.account_id,
            func.count(),
            func.sum(case((FollowUp.due_on < bindparam("today", type_=Date), 1), else_=0)),
            func.min(FollowUp.due_on),
        )
        .where(FollowUp.account_id.in_(ids), FollowUp.status == "open")
        .group_by(FollowUp.account_id)
    )


def due_follow_ups(account_ids: Iterable[int], today: date) -> list[FollowUp]:
    """Open follow-ups of these accounts, nearest due first (one statement)."""
    return list(
        db.session.scalars(
            select(FollowUp)
            .options(joinedload(FollowUp.owner))
            .where(FollowUp.account_id.in_(list(account_ids)), FollowUp.status == "open")
            .order_by(FollowUp.due_on, FollowUp.id)
        )
    )
