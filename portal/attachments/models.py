"""An uploaded file: its row here, its bytes under ATTACHMENT_DIR."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import UTCDateTime, db, utcnow

if TYPE_CHECKING:
    from portal.accounts.models import User


class Attachment(db.Model):
    """A file belonging to one customer account, linked to one object of another area.

    The link is generic (`owner_kind`, `owner_id`), set by the area that uses
    the file ("idea", "idea_message"); it is empty between the upload and the
    save of what the file belongs to. `internal` files are for vendor staff only.
    """

    __tablename__ = "attachment"
    tenant_column = "account_id"
    __table_args__ = (
        # A page lists the files of many messages at once.
        Index("ix_attachment_owner", "owner_kind", "owner_id"),
        # The account's quota: the sum of its files' sizes.
        Index("ix_attachment_account_id", "account_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("customer_account.id"))
    internal: Mapped[bool] = mapped_column(default=False)
    owner_kind: Mapped[str | None] = mapped_column(String(30))
    owner_id: Mapped[int | None]
    # The name shown and offered on download, sanitised (never used as a path).
    original_name: Mapped[str] = mapped_column(String(200))
    # The file's name on disk: 32 random hex digits (ATTACHMENT_DIR/<first 2>/<all 32>).
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    # As detected from the content, e.g. "application/pdf".
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.original_name!r} {self.content_type}>"
