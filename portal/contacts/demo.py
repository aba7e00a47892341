"""Demo contacts and follow-ups that match the demo accounts' stories.

- Acme (healthy): its manager talks with it every few weeks, an engineer visited, a
  quarterly review is set; some notes are shared with Acme.
- Globex (promises slipped last quarter): a call about the late deliveries, a visit
  promised after it and now overdue.
- Initech (a burst of complaints, then silence): a meeting after the complaints months
  ago, nothing since.
- Umbrella (gone quiet): the last contact lies five months back and nothing is open.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from portal.accounts.models import CustomerAccount, User
from portal.extensions import db

from .models import ContactEntry, FollowUp


def _at(day: date) -> datetime:
    return datetime.combine(day, time(15, 30), tzinfo=UTC)


def load(rng: random.Random, today: date) -> dict[str, int]:
    accounts = {a.number: a for a in db.session.scalars(select(CustomerAccount))}
    staff = {u.email: u for u in db.session.scalars(select(User).where(User.account_id.is_(None)))}
    people = {
        a.number: [u.name for u in a.users if u.active][:2] or ["their buyer"]
        for a in accounts.values()
    }
    contacts: list[ContactEntry] = []
    follow_ups: list[FollowUp] = []

    def contact(number, author, days_ago, kind, summary, *, notes="", next_step="", shared=False):
        account = accounts[number]
        day = today - timedelta(days=days_ago)
        entry = ContactEntry(
            account_id=account.id,
            kind=kind,
            contacted_on=day,
            vendor_people=staff[author].name,
            customer_people=", ".join(people[number]),
            summary=summary,
            notes=notes,
            next_step=next_step,
            shared=shared,
            author_id=staff[author].id,
            created_at=_at(day),
        )
        contacts.append(entry)
        return entry

    def follow_up(
        number,
        owner,
        due_in,
        kind,
        title,
        *,
        reason="",
        done_days_ago=None,
        note="",
        after=None,
        set_days_ago=7,
    ):
        account = accounts[number]
        item = FollowUp(
            account_id=account.id,
            kind=kind,
            title=title,
            reason=reason,
            due_on=today + timedelta(days=due_in),
            owner_id=staff[owner].id,
            created_by_id=staff[owner].id,
            created_at=_at(today - timedelta(days=set_days_ago)),
            contact=after,
        )
        if done_days_ago is not None:
            item.status = "done"
            item.done_at = _at(today - timedelta(days=done_days_ago))
            item.done_by_id = staff[owner].id
            item.done_note = note
        follow_ups.append(item)
        return item

    manager, manager2 = "manager@vendor.test", "manager2@vendor.test"
    # Acme: a steady rhythm, every three to four weeks over the year.
    days_ago = 4
    topics = [
        (
            "call",
            "Monthly call: orders and the next quarter's volumes",
            "- Volumes steady\n- **No open complaints**\n- Asked about the new seal kit",
        ),
        (
            "email",
            "Sent the updated lead times for the pump housings",
            "Housings now 4 weeks instead of 6; they will order the spares with the pumps.",
        ),
        (
            "meeting",
            "Quarterly review with purchasing",
            "On time in full above 90 %. They want the forecast call moved to the first week "
            "of the month.",
        ),
        (
            "call",
            "Check-in with their maintenance lead",
            "Two pumps due for service in spring; **no issues** with the last deliveries.",
        ),
    ]
    while days_ago < 365:
        kind, summary, notes = topics[len(contacts) % len(topics)]
        contact("C-10001", manager, days_ago, kind, summary, notes=notes, shared=kind == "meeting")
        days_ago += rng.randint(18, 28)
    visit = contact(
        "C-10001",
        "engineer@vendor.test",
        40,
        "visit",
        "Plant visit: bracket redesign with their production engineers",
        notes="Measured the mounting points; they will send drawings of the **rev C** bracket.",
        next_step="Send the stamped-bracket proposal",
        shared=True,
    )
    follow_up(
        "C-10001",
        manager,
        12,
        "review",
        "Quarterly relationship review",
        reason="Every quarter",
        set_days_ago=20,
    )
    follow_up(
        "C-10001",
        "engineer@vendor.test",
        -20,
        "other",
        "Send the stamped-bracket proposal",
        after=visit,
        done_days_ago=25,
        note="Proposal sent as suggestion S-00002.",
        set_days_ago=40,
    )

    # Globex: promises slipped this quarter; the customer called about it.
    late_call = contact(
        "C-10002",
        manager,
        16,
        "call",
        "Their buyer called about the late valve deliveries",
        notes="Three orders arrived a week late this quarter. They are **checking other "
        "suppliers** for the valves.",
        next_step="Visit with the fulfilment lead and a recovery plan",
    )
    contact(
        "C-10002",
        "fulfilment@vendor.test",
        10,
        "email",
        "Sent the recovery plan for the open valve lines",
        shared=True,
        notes="New promised dates for every open line; a weekly status by e-mail.",
    )
    follow_up(
        "C-10002",
        manager,
        -3,
        "visit",
        "Visit with the recovery plan",
        reason="Promises slipped last quarter",
        after=late_call,
        set_days_ago=16,
    )
    for days in (70, 100, 135, 170, 220, 290):
        contact("C-10002", manager, days, "call", "Routine call: orders and forecast")

    # Initech: a burst of complaints, a meeting about them, then nothing.
    meeting = contact(
        "C-10003",
        manager2,
        118,
        "meeting",
        "Meeting about the five complaints on the sensor batches",
        notes="Agreed an 8D report per complaint and a quality contact on our side.",
        next_step="Send the 8D reports",
        shared=True,
    )
    follow_up(
        "C-10003",
        "service@vendor.test",
        -100,
        "other",
        "Send the 8D reports",
        after=meeting,
        done_days_ago=104,
        note="All five reports sent.",
        set_days_ago=118,
    )
    contact("C-10003", manager2, 200, "call", "Routine call")

    # Umbrella: gone quiet; the last contact was five months ago.
    contact(
        "C-10004",
        manager2,
        152,
        "call",
        "Call about the next year's volumes",
        notes="They expected similar volumes; no concerns raised.",
    )
    contact("C-10004", manager2, 260, "visit", "Visit at the Graz plant")

    # PT Nusantara Teknik: its manager writes in Indonesian; a routine rhythm of calls.
    if "C-10005" in accounts and "dewi@vendor.test" in staff:
        dewi = "dewi@vendor.test"
        contact(
            "C-10005",
            dewi,
            12,
            "call",
            "Telepon rutin: pesanan bulan depan dan perkiraan kebutuhan",
            shared=True,
        )
        contact(
            "C-10005",
            dewi,
            47,
            "visit",
            "Kunjungan ke pabrik Rungkut",
            notes="Dua pompa baru terpasang; mereka minta jadwal pemeliharaan tertulis.",
            next_step="Kirim jadwal pemeliharaan",
        )
        contact("C-10005", dewi, 96, "call", "Telepon rutin")

    db.session.add_all(contacts + follow_ups)
    db.session.commit()
    return {"contacts": len(contacts), "follow-ups": len(follow_ups)}
