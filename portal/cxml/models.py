"""cXML credentials per account, stored answers of inbound documents, the link of an
order to its cXML orderID, the outbound message log, and PunchOut sessions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import CustomerAccount, User
    from portal.ordering.models import Order


class CxmlCredential(db.Model):
    """How one customer account's purchasing system identifies itself in cXML.

    The From/Sender identity and domain name the account; the SharedSecret is kept
    only as an Argon2 hash (a vendor admin types it in, nobody reads it back).
    Orders are placed as `acting_user`, a buyer of the account; confirmations and
    ship notices go to `outbound_url`.
    """

    __tablename__ = "cxml_credential"
    tenant_column = "account_id"
    __table_args__ = (UniqueConstraint("domain", "identity", name="uq_cxml_credential_identity"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), unique=True
    )
    # Stored as given; compared case-insensitively.
    domain: Mapped[str] = mapped_column(String(40))
    identity: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(255))
    acting_user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    outbound_url: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    account: Mapped[CustomerAccount] = relationship()
    acting_user: Mapped[User] = relationship(foreign_keys=[acting_user_id])


class CxmlInbound(db.Model):
    """One inbound cXML document by its payloadID: claimed before the work starts (state
    "running"), then its answer kept, so a repeat is answered as before and does nothing."""

    __tablename__ = "cxml_inbound"
    tenant_column = "account_id"
    __table_args__ = (UniqueConstraint("account_id", "payload_id", name="uq_cxml_inbound_payload"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    payload_id: Mapped[str] = mapped_column(String(250))
    # SHA-256 of the document's bytes: the same payloadID with another document is refused.
    document_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10), default="running")
    status_code: Mapped[int | None]
    response_xml: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CxmlOrder(db.Model):
    """An order that came as a cXML OrderRequest: its orderID (the PO number), and the
    cXML lineNumber of each of our lines, which confirmations and ship notices quote."""

    __tablename__ = "cxml_order"
    tenant_column = "account_id"
    __table_args__ = (UniqueConstraint("account_id", "order_ref", name="uq_cxml_order_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(
        ForeignKey("customer_order.id", ondelete="CASCADE"), unique=True
    )
    # The cXML orderID (kept exactly; the order's PO number is the same text).
    order_ref: Mapped[str] = mapped_column(String(100))
    payload_id: Mapped[str] = mapped_column(String(250))
    order_date: Mapped[str] = mapped_column(String(40), default="")
    # {"<our line_no>": "<cXML lineNumber>"}
    line_numbers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CxmlMessage(db.Model):
    """An outbound ConfirmationRequest or ShipNoticeRequest: written with the desk's
    change, posted by the worker with retries; vendor admins read the log."""

    __tablename__ = "cxml_message"
    tenant_column = "account_id"
    __table_args__ = (Index("ix_cxml_message_due", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("customer_account.id", ondelete="CASCADE"), index=True
    )
    order_id: Mapped[int] = mapped_column(ForeignKey("customer_order.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # What caused it ("confirmed", "promise_changed", "shipment:12", …), for the log.
    cause: Mapped[str] = mapped_column(String(60))
    payload_id: Mapped[str] = mapped_column(String(250), unique=True)
    url: Mapped[str] = mapped_column(String(500))
    document: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    give_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[str | None] = mapped_column(String(40))
    last_answer: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[CustomerAccount] = relationship()
    order: Mapped[Order] = relationship()


class PunchOutSession(db.Model):
    """A PunchOut session a procurement system opened with a PunchOutSetupRequest.

    The start URL carries a random token (only its hash is kept) that works once, within
    minutes; it opens a browser session of the terminal for `user`, whose cart goes back
    to `browser_form_post` as a PunchOutOrderMessage.
    """

    __tablename__ = "punchout_session"
    tenant_column = "account_id"
    __table_args__ = (
        UniqueConstraint("account_id", "payload_id", name="uq_punchout_session_payload"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    payload_id: Mapped[str] = mapped_column(String(250))
    operation: Mapped[str] = mapped_column(String(10))
    buyer_cookie: Mapped[str] = mapped_column(String(500))
    browser_form_post: Mapped[str] = mapped_column(String(500))
    # The items of an edit or inspect: [{"sku": …, "quantity": …}], put in the cart at start.
    items: Mapped[list[Any] | None] = mapped_column(JSON)
    start_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    start_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
