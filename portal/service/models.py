"""Service requests after the sale, their thread and events; the vendor's service
calendar (working hours, time zone, holidays) and accounts' own promised times."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import (
    JSON,
    CheckConstraint,
    Computed,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User
    from portal.catalog.models import Product
    from portal.equipment.models import EquipmentUnit
    from portal.fulfilment.models import Shipment
    from portal.ordering.models import Order, OrderLine

KINDS = {
    "installation": _l("Installation"),
    "application": _l("Application help"),
    "repair": _l("Repair"),
    "maintenance": _l("Maintenance"),
    "complaint_delivery": _l("Complaint about a delivery"),
    "complaint_quality": _l("Complaint about quality"),
    "complaint_invoice": _l("Complaint about an invoice"),
    "complaint_other": _l("Other complaint"),
    "return": _l("Return"),
}
PRIORITIES = {
    "urgent": _l("Urgent — equipment down"),
    "high": _l("High"),
    "normal": _l("Normal"),
    "low": _l("Low"),
}
STATUSES = {
    "new": _l("New"),
    "acknowledged": _l("Acknowledged"),
    "in_progress": _l("In progress"),
    "waiting": _l("Waiting for customer"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
}
# Still the vendor's (or the customer's) to act on; resolved waits for confirmation.
OPEN_STATUSES = ("new", "acknowledged", "in_progress", "waiting")
PRIORITY_ORDER = {"urgent": 0, "high": 1, "normal": 2, "low": 3}

# The queue's order, kept by the database in two generated columns so that an index
# gives it (portal.service.reading.listing): open requests by priority (the rank of
# PRIORITY_ORDER) and age, then the resolved and closed ones (rank 4) by latest
# activity. Written as simple CASEs over the columns, which both databases store and
# PostgreSQL reads back the same way (the models-match-migrations test compares them).
CLOSED_RANK = len(PRIORITY_ORDER)


def _when_closed(value: object) -> str:
    return " ".join(f"WHEN '{s}' THEN {value}" for s in STATUSES if s not in OPEN_STATUSES)


_RANKS = " ".join(f"WHEN '{p}' THEN {rank}" for p, rank in PRIORITY_ORDER.items())
# The CHECK allows no other priority, and the rank is NOT NULL: one missing here would
# fail every write loudly. (ELSE NULL spelled out: PostgreSQL reads it back so.)
QUEUE_RANK = (
    f"CASE status {_when_closed(CLOSED_RANK)} ELSE CASE priority {_RANKS} ELSE NULL END END"
)
QUEUE_OPENED_AT = f"CASE status {_when_closed('NULL')} ELSE opened_at END"


# What the measures read of every request opened in a period (and the complaint rate:
# `kind`), `opened_at` first; `id`
# last (SQLite keeps it in every index, PostgreSQL's index-only scan needs it named).
MEASURED = (
    "opened_at",
    "kind",
    "account_id",
    "priority",
    "status",
    "outcome_version",
    "response_outcome",
    "response_seconds",
    "resolution_outcome",
    "resolution_seconds",
    "satisfied",
    "outcome_at",
    "outcome_until",
    "outcome_events",
    "clock_events",
    "id",
)


class ServiceRequest(db.Model):
    """A customer's request for help after the sale, or a complaint. One owner at a time.

    Its promised times are not stored: they follow from `opened_at`, the status
    events and the calendar (portal.service.promises)."""

    __tablename__ = "service_request"
    tenant_column = "account_id"
    __table_args__ = (
        CheckConstraint(f"status IN {tuple(STATUSES)}", name="status"),
        CheckConstraint(f"kind IN {tuple(KINDS)}", name="kind"),
        CheckConstraint(f"priority IN {tuple(PRIORITIES)}", name="priority"),
        CheckConstraint("satisfied IS NULL OR status = 'closed'", name="satisfied_when_closed"),
        # The queue: open ones by priority and age; an account's list by activity.
        Index("ix_service_request_queue", "status", "priority", "opened_at"),
        Index("ix_service_request_account", "account_id", "last_activity_at"),
        Index("ix_service_request_owner", "owner_id", "status"),
        # A unit's history, and its last maintenance.
        Index("ix_service_request_equipment", "equipment_id", "kind", "resolved_at"),
        # A shipment's requests (a shipment deleted by a correction unlinks them).
        Index("ix_service_request_shipment", "shipment_id"),
        # The measures over a period (portal.service.measures.columns) and its complaints
        # (`kind`), answered from the index alone: reading the table's rows cost half of
        # the measures' read at 33,000 requests on SQLite, a sequential scan on PostgreSQL.
        Index("ix_service_request_measures", *MEASURED),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    kind: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")  # Markdown
    status: Mapped[str] = mapped_column(String(20), default="new")
    # Who opened it; vendor staff may open one for a customer (a phone call).
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    on_behalf: Mapped[bool] = mapped_column(default=False)
    # The customer person it is for (the caller when opened on their behalf).
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # What it concerns, when opened from there.
    order_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("order_line.id", ondelete="SET NULL")
    )
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id", ondelete="SET NULL"))
    equipment_id: Mapped[int | None] = mapped_column(
        ForeignKey("equipment_unit.id", ondelete="SET NULL")
    )
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Facts stamped once (or on each resolution), read by lists and measures; the
    # promise clock itself reads the events.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(Text, default="")
    satisfied: Mapped[bool | None]
    satisfaction_comment: Mapped[str] = mapped_column(Text, default="")
    last_activity_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The promise clock's answer, kept so measures over many requests read it set-based
    # instead of running every clock. Written only by portal.service.promises.record_outcomes,
    # from the events, with the calendar and targets in force (rewritten when those change).
    # A resolved or closed request's is final (its clock stands still). An open one's holds
    # from `outcome_at` until `outcome_until` (a running promise falls due then; None: a
    # breached or paused one changes only with an event) and only while the request still
    # has the `outcome_events` clock events it was computed from (promises.kept_clock_current).
    response_outcome: Mapped[str | None] = mapped_column(String(10))
    response_seconds: Mapped[float | None]  # working time to the first response, if given
    resolution_outcome: Mapped[str | None] = mapped_column(String(10))
    resolution_seconds: Mapped[float | None]
    # The fingerprint of the calendar and targets the kept answer was computed with
    # (promises.outcome_version): a reader falls back to the clock when it differs from
    # the settings in force, until the rewrite job has caught up.
    outcome_version: Mapped[str | None] = mapped_column(String(16))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_events: Mapped[int | None]
    # How many clock events (status, first_response) the request has, counted by the
    # database's triggers on service_event (migration 0033) in the transaction that
    # writes or deletes an event, so in any snapshot it is the count of the events
    # visible there. Never written by the application: a kept answer is current only
    # while `outcome_events` equals it, compared in the row instead of counting events.
    # (A migration rebuilding this table on SQLite drops and remakes the triggers: see 0033.
    # `kept_by_triggers`: the tests' put_back lets the triggers count it again.)
    clock_events: Mapped[int] = mapped_column(server_default="0", info={"kept_by_triggers": True})
    # Where the request stands in the queue (QUEUE_RANK: 0-3 open by priority, 4
    # resolved or closed) and, while open, since when (QUEUE_OPENED_AT; None once
    # resolved or closed, so those follow by latest activity alone): generated by the
    # database from status, priority and opened_at on every write, whatever writes
    # them, so they cannot drift; ix_service_request_queue_order reads the page from
    # them. Stored on PostgreSQL, computed when read on SQLite (migration 0034: SQLite
    # cannot add a stored one without rebuilding the table). Never loaded: only ordered by.
    queue_rank: Mapped[int] = mapped_column(Computed(QUEUE_RANK, persisted=True), deferred=True)
    queue_opened_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, Computed(QUEUE_OPENED_AT, persisted=True), deferred=True
    )

    account: Mapped[CustomerAccount] = relationship()
    opened_by: Mapped[User | None] = relationship(foreign_keys=[opened_by_id])
    contact: Mapped[User | None] = relationship(foreign_keys=[contact_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    order_line: Mapped[OrderLine | None] = relationship()
    product: Mapped[Product | None] = relationship()
    equipment: Mapped[EquipmentUnit | None] = relationship()
    shipment: Mapped[Shipment | None] = relationship()

    @property
    def reference(self) -> str:
        return f"SR-{self.id:05d}"

    @property
    def status_label(self) -> str:
        return STATUSES[self.status]

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]

    @property
    def priority_label(self) -> str:
        return PRIORITIES[self.priority]

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


# The queue's page read from an index in the order listing() asks for (rank, since when,
# then latest activity and id, newest first), so the database stops after a page
# instead of sorting every matching request. The directions are the index's own: a scan
# cannot mix them otherwise.
Index(
    "ix_service_request_queue_order",
    ServiceRequest.queue_rank,
    ServiceRequest.queue_opened_at,
    ServiceRequest.last_activity_at.desc(),
    ServiceRequest.id.desc(),
)


class ServiceMessage(db.Model):
    """One post in a request's thread. Internal notes are for vendor staff only."""

    __tablename__ = "service_message"
    __table_args__ = (Index("ix_service_message_request", "request_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    internal: Mapped[bool] = mapped_column(default=False)
    body: Mapped[str] = mapped_column(Text)  # Markdown
    body_html: Mapped[str] = mapped_column(Text, default="")  # rendered once, when written
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()

    @property
    def html(self) -> Markup:
        return Markup(self.body_html)


class ServiceEvent(db.Model):
    """Every change of a request: who, when, what, before and after.

    kinds: opened, status, owner (a take or a handover, with the reason),
    first_response, reopened, rated, quality_step, replacement_order,
    promise_warning, promise_breached (the request page words each; no code writes
    "priority"). The promise clock reads the status events: time in "waiting" does
    not count."""

    __tablename__ = "service_event"
    __table_args__ = (
        Index("ix_service_event_request", "request_id", "id"),
        # The promise clock's read of many requests' status and first-response events,
        # answered from the index alone (request pages' history uses the one above).
        Index("ix_service_event_clock", "request_id", "kind", "id", "at", "after"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(30))
    before: Mapped[str | None] = mapped_column(String(200))
    after: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()


class ServiceCalendar(db.Model):
    """The vendor's service hours: one row (id 1), kept by vendor admins.

    `hours` maps weekday numbers ("0" = Monday) to ["08:00", "17:00"]; a
    missing day is a day off. Without a row the defaults of the configuration apply."""

    __tablename__ = "service_calendar"

    id: Mapped[int] = mapped_column(primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    hours: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))


class ServiceHoliday(db.Model):
    """A day the vendor's service does not work: promised times skip it."""

    __tablename__ = "service_holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(100))


class ServiceTarget(db.Model):
    """An account's own promised times for one priority (a service contract),
    in working hours; without one the configured defaults apply."""

    __tablename__ = "service_target"
    tenant_column = "account_id"
    __table_args__ = (
        UniqueConstraint("account_id", "priority", name="uq_service_target_account_priority"),
        CheckConstraint(f"priority IN {tuple(PRIORITIES)}", name="priority"),
        CheckConstraint("response_hours > 0 AND resolution_hours >= response_hours", name="hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    priority: Mapped[str] = mapped_column(String(10))
    response_hours: Mapped[int]
    resolution_hours: Mapped[int]

    account: Mapped[CustomerAccount] = relationship()


# The eight-disciplines idea in a light form: what a quality complaint must record
# before it can be resolved, in the order it is worked.
QUALITY_STEPS = {
    "affected": _l("Affected quantity"),
    "containment": _l("Containment"),
    "root_cause": _l("Root cause"),
    "corrective_action": _l("Corrective action"),
    "verification": _l("Verification of its effect"),
}
QUALITY_KIND = "complaint_quality"
COMPLAINT_KINDS = (
    "complaint_delivery",
    "complaint_quality",
    "complaint_invoice",
    "complaint_other",
)


class QualityStep(db.Model):
    """One step of a quality complaint: what was found or done, who recorded it and
    when (the latest change; every change is also a ServiceEvent). The affected
    step carries the quantity the quality record counts."""

    __tablename__ = "quality_step"
    __table_args__ = (
        UniqueConstraint("request_id", "step", name="uq_quality_step_request_step"),
        CheckConstraint(f"step IN {tuple(QUALITY_STEPS)}", name="step"),
        CheckConstraint(
            "(step = 'affected' AND quantity >= 1) OR (step <> 'affected' AND quantity IS NULL)",
            name="quantity",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    step: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int | None]
    text: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    recorded_by: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        return QUALITY_STEPS[self.step]


class ReplacementOrder(db.Model):
    """An order placed at zero price to replace what a quality complaint found
    defective: the link both ways between the request and the order."""

    __tablename__ = "replacement_order"
    __table_args__ = (Index("ix_replacement_order_request", "request_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("service_request.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
    created_by: Mapped[User | None] = relationship()
