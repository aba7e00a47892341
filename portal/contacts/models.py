"""The contact log and follow-ups: what the vendor's people heard from an account and owe it.

A contact entry is a call, visit, meeting or e-mail someone of the vendor recorded
for an account. Its notes are internal unless the author marked the entry shared
with the customer; the customer's own page reads shared entries only, and the
filter is in the query, not in the template.

A follow-up is one owned next step with a due date; done, it keeps who closed it,
when and with what note.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User

# Labels in the reader's words (lazy: read when shown); the keys are what is stored.
CONTACT_KINDS = {"call": _l("Call"), "visit": _l("Visit"), "meeting": _l("Meeting"),
                 "email": _l("E-mail")}  # fmt: skip
FOLLOW_UP_KINDS = {"call": _l("Call"), "visit": _l("Visit"), "review": _l("Review"),
                   "other": _l("Other")}  # fmt: skip
FOLLOW_UP_STATUSES = ("open", "done")


class ContactEntry(db.Model):
    """One conversation with an account, as the vendor's person who had it recorded it."""

    __tablename__ = "contact_entry"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"kind IN {tuple(CONTACT_KINDS)}", name="kind"),
        # "When did we last speak with these accounts?" reads by account and date.
        Index("ix_contact_entry_account_date", "account_id", "contacted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    contacted_on: Mapped[date]
    # Who took part, in the author's words ("Bea Buyer, their plant manager").
    vendor_people: Mapped[str] = mapped_column(String(500), default="")
    customer_people: Mapped[str] = mapped_column(String(500), default="")
    summary: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str] = mapped_column(Text, default="")  # Markdown
    next_step: Mapped[str] = mapped_column(String(500), default="")
    # False: the vendor's own record. True: the customer reads it too.
    shared: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[CustomerAccount] = relationship()
    author: Mapped[User | None] = relationship()

    @property
    def kind_label(self) -> str:
        return CONTACT_KINDS[self.kind]


class FollowUp(db.Model):
    """A next step someone owns for an account, due on a day."""

    __tablename__ = "follow_up"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"kind IN {tuple(FOLLOW_UP_KINDS)}", name="kind"),
        CheckConstraint(f"status IN {FOLLOW_UP_STATUSES}", name="status"),
        # Open follow-ups per account, nearest due first.
        Index("ix_follow_up_account_status_due", "account_id", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    # Why it was set, e.g. the relationship alert that asked for it.
    reason: Mapped[str] = mapped_column(String(500), default="")
    due_on: Mapped[date]
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(10), default="open")
    contact_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_entry.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    done_note: Mapped[str] = mapped_column(String(1000), default="")

    account: Mapped[CustomerAccount] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])
    contact: Mapped[ContactEntry | None] = relationship()

    @property
    def kind_label(self) -> str:
        return FOLLOW_UP_KINDS[self.kind]

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def state_on(self, today: date) -> str:
        """'done', 'overdue', 'due' (today) or 'open'."""
        if self.status == "done":
            return "done"
        if self.due_on < today:
            return "overdue"
        if self.due_on == today:
            return "due"
        return "open"
