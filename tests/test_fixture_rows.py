"""tests/conftest.py's take_rows/put_back: a data set built once through the services
comes back row for row (ids, cyclic references, columns the database's triggers keep)
with its attachment files."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db, utcnow
from portal.service import workflow
from portal.service.models import ServiceRequest

from .conftest import put_back, take_rows
from .test_access import build_world


def test_put_back_gives_every_row_and_file_back_as_taken(app, tmp_path):
    attachments = Path(app.config["ATTACHMENT_DIR"])
    ids = build_world(app)
    with app.app_context():
        service = db.session.scalar(select(User).where(User.email == "service@vendor.test"))
        workflow.change_status(
            service,
            db.session.get(ServiceRequest, ids["service_request"]),
            "acknowledged",
            now=utcnow(),
        )
        taken = take_rows(attachments, tmp_path / "taken")
        # What the world holds that the helper must handle: a reference to a table put
        # back later (an account's manager), and a count kept by triggers.
        assert any(row["account_manager_id"] for row in taken.tables["customer_account"])
        request = db.session.get(ServiceRequest, ids["service_request"])
        assert request.clock_events > 0
        files = sorted(p.relative_to(attachments) for p in attachments.rglob("*") if p.is_file())
        assert files

        put_back(taken, tmp_path / "again")
        assert take_rows(tmp_path / "again", tmp_path / "retaken").tables == taken.tables
        db.session.expire_all()
        assert (
            db.session.scalar(
                select(ServiceRequest.clock_events).where(ServiceRequest.id == request.id)
            )
            == request.clock_events
        )
    again = sorted(p.relative_to(tmp_path / "again") for p in (tmp_path / "again").rglob("*"))
    assert [p for p in again if (tmp_path / "again" / p).is_file()] == files
