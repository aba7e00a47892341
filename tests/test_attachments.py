"""Attachments: accepted by content only, stored under random names, served safely,
scoped to the account, internal files for vendor staff, no file without its row.

Every file here is a real one, written by the test (or, for JPEG and WebP, the
tiny images from CPython's own test data), never a mock.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import struct
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.accounts.models import User
from portal.attachments import service
from portal.attachments.models import Attachment
from portal.audit.models import AuditEvent
from portal.errors import DomainError, Forbidden, NotFound
from portal.extensions import db, utcnow

# --- real files ----------------------------------------------------------------------------


def pdf_file() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\n".encode()
    return out + f"startxref\n{xref}\n%%EOF\n".encode()


def png_file() -> bytes:
    """A 1x1 RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


# A 1x1 transparent GIF.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
# CPython's Lib/test/imghdrdata/python.jpg and python.webp (16x16 icons).
JPEG = base64.b64decode(
    "/9j/4AAQSkZJRgABAQEAAQABAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsO"
    "CwkJDRENDg8QEBEQCgwSExIQEw8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQ"
    "EBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAQABADASIAAhEBAxEB/8QAFgABAQEAAAAAAAAAAAAAAAAA"
    "BwQF/8QAJBAAAQQBBAICAwAAAAAAAAAAAQIDBAYFBwgSExEiABQJMTL/xAAVAQEBAAAAAAAAAAAAAAAAAAAABv/E"
    "ACMRAAECBQMFAAAAAAAAAAAAAAECEQMEBQYhABIxFRZhgeH/2gAMAwEAAhEDEQA/ABSm0mobc8HmExLUlRzzEWPk"
    "JWW+ulrsaUVAseUgslSlH9LKuPryIKuWPZdskzXmm3fX5m2nF4GlVxx/HOpx4ks51+MiU/Iaad7UcUo4tILoS4kq"
    "cWkezS0hO/HvuRp0rO6hWnWO1UisZVuFi4GFeyEpmGepa5S5SWVPuciFKRFLgSrwetnyPIB+Vb4N9mKhQMzo5po9"
    "XLdDs9d6ZVix2VEhiL9kuNPxw2gEKcDQ/rs8AuA8VAe0vdl7VOYn+27flGAUgmITjbhSmCg3BYlyeWDkMolvw4KO"
    "p1KM6iCNvngZHwetf//Z"
)
WEBP = base64.b64decode(
    "UklGRqgBAABXRUJQVlA4WAoAAAAQAAAADwAADwAAQUxQSMMAAAABJ6KokSTleucYX+ffKpmImP90cY3gJjDi4Yt3"
    "MsjBEVyDKzDosHgVjnhRNcEIDAJPkqBqsFUZHNa2bUYvTsZ2PLbtd/uvKa4hov9J0f2PkPe6REkkGzolkTTzFG0O"
    "x9PlFiD0CxS+kOGDtxoynjaCfx0pfk52CPuInrOR75lzRugygtv4zEiy90UwfSD9NheMITJWLaXWayO8XeOlWRXV"
    "nIGk2W6WdYoYMQ+KqixQNPowgt+6a1BSKbUtz+lUFAoBAAAAVlA4IL4AAACQAgCdASoQABAAAwA0JbACdDBPCIUM"
    "fAMdCCz96AD+/XSg/QKbH4r3Q3ycN/bSDK/T/zVo4u6nvclvG/SqxWOuup+XhN9BojvaW+Tv+MvxvX/hr/o/5Qns"
    "9LtmX/+qKdl/yWznhuasl7nkxvSTI4xf3Y85VSB/lU/8Ofj/b9JrA+ifvIOYZm2x1RP/dhfmsf5diuSfR7+z+r/+"
    "HR3zEo/+XM/B+vkYw73Pzx+ROaAB/ZoBSzEs3rzZe6qsAAAA"
)
STEP = b"""ISO-10303-21;
HEADER;
FILE_DESCRIPTION(('bracket'),'2;1');
FILE_NAME('bracket.step','2026-11-27T09:00:00',(''),(''),'','','');
FILE_SCHEMA(('AUTOMOTIVE_DESIGN'));
ENDSEC;
DATA;
#1=CARTESIAN_POINT('',(0.,0.,0.));
ENDSEC;
END-ISO-10303-21;
"""
DXF = b"  0\r\nSECTION\r\n  2\r\nHEADER\r\n  0\r\nENDSEC\r\n  0\r\nEOF\r\n"
ASCII_STL = b"""solid bracket
  facet normal 0 0 1
    outer loop
      vertex 0 0 0
      vertex 1 0 0
      vertex 0 1 0
    endloop
  endfacet
endsolid bracket
"""


def binary_stl(triangles: int = 2) -> bytes:
    # Many exporters start the binary header with "solid" too: the size decides.
    header = b"solid exported by CAD".ljust(80, b" ")
    facet = struct.pack("<12fH", 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0)
    return header + struct.pack("<I", triangles) + facet * triangles


CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels"'
    ' ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/{part}" ContentType="{type}"/></Types>'
)


def ooxml(part: str, part_type: str, extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal Office Open XML package, as Word or PowerPoint write it."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES.format(part=part, type=part_type))
        archive.writestr(
            "_rels/.rels",
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
            'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
            'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
            f'Target="{part}"/></Relationships>',
        )
        archive.writestr(part, '<?xml version="1.0"?><document/>')
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_file(**extra: bytes) -> bytes:
    return ooxml(
        "word/document.xml",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        extra,
    )


def pptx_file() -> bytes:
    return ooxml(
        "ppt/presentation.xml",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml",
    )


def xlsx_file() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["sku", "quantity"])
    workbook.active.append(["TST-1", 2])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def plain_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    return buffer.getvalue()


EXE = (
    b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8" + b"\x00" * 43 + b"\x80"
    b"\x00\x00\x00This program cannot be run in DOS mode.\r\r\n$" + b"\x00" * 64
)
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00\x01\x00\x00\x00" + b"\x00" * 40


# --- helpers -------------------------------------------------------------------------------


def upload(data: bytes, filename: str | None) -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=filename)


def user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def root(app) -> Path:
    return Path(app.config["ATTACHMENT_DIR"]).resolve()


def store(app, data: bytes, name: str | None, email: str = "buyer@acme.test", **kwargs):
    """Store as `email` for their own account (or Acme's, for vendor staff); commits."""
    with app.app_context():
        uploader = user(email)
        account_id = uploader.account_id or user("buyer@acme.test").account_id
        attachment = service.store(uploader, account_id, upload(data, name), **kwargs)
        db.session.commit()
        db.session.refresh(attachment)
        db.session.expunge(attachment)
        return attachment


def refused(app, data: bytes, name: str | None, email: str = "buyer@acme.test") -> str:
    with app.app_context(), pytest.raises(DomainError) as refusal:
        uploader = user(email)
        service.store(uploader, uploader.account_id, upload(data, name))
    return refusal.value.message


# --- accepted by content -------------------------------------------------------------------

ACCEPTED = [
    ("drawing.pdf", pdf_file(), "application/pdf"),
    ("photo.png", png_file(), "image/png"),
    ("photo.jpg", JPEG, "image/jpeg"),
    ("anim.gif", GIF, "image/gif"),
    ("icon.webp", WEBP, "image/webp"),
    ("bracket.step", STEP, "model/step"),
    ("bracket.stp", STEP, "model/step"),
    ("outline.dxf", DXF, "image/vnd.dxf"),
    ("bracket.stl", ASCII_STL, "model/stl"),
    ("bracket-binary.stl", binary_stl(), "model/stl"),
    ("notes.txt", "Maße: 12 × 3 mm\nÄnderung bitte prüfen\n".encode(), "text/plain"),
    ("lines.csv", b"\xef\xbb\xbfsku,quantity\r\nTST-1,2\r\n", "text/plain"),
    (
        "report.docx",
        docx_file(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "forecast.xlsx",
        xlsx_file(),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "review.pptx",
        pptx_file(),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
]


@pytest.mark.parametrize(("name", "data", "content_type"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
def test_each_accepted_kind_is_stored_with_its_checksum(app, demo, root, name, data, content_type):
    attachment = store(app, data, name)
    assert attachment.content_type == content_type
    assert attachment.original_name == name
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.owner_kind is None and attachment.internal is False
    stored = root / attachment.stored_name[:2] / attachment.stored_name
    assert files_in(root) == [stored]
    assert stored.read_bytes() == data
    assert oct(stored.stat().st_mode & 0o777) == "0o600"


def test_a_name_without_extension_gets_the_detected_one(app, demo):
    assert store(app, pdf_file(), "drawing").original_name == "drawing.pdf"
    assert store(app, b"rev 1.2 notes\n", "part rev 1.2").original_name == "part rev 1.2.txt"
    # An extension of no accepted kind is kept, followed by the real one.
    assert store(app, b"just text\n", "page.html").original_name == "page.html.txt"
    assert store(app, png_file(), "").original_name == "attachment.png"
    assert store(app, png_file(), None).original_name == "attachment.png"


# --- refused -------------------------------------------------------------------------------

NOT_ACCEPTED = "This kind of file is not accepted"


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("invoice.pdf", EXE, "programs are never accepted"),
        ("tool", ELF, "programs are never accepted"),
        ("notes.txt", b"#!/bin/sh\nrm -rf ~\n", "scripts are never accepted"),
        ("page.txt", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "markup"),
        ("page.txt", b"\xef\xbb\xbf \r\n\t<html><body>hi</body></html>", "markup"),
        (
            "drawing.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "markup",
        ),
        ("part.xml", b'<?xml version="1.0"?>\n<part id="1"/>\n', "markup"),
        ("notes.txt", b"Notes for the bracket\n<script>alert(1)</script>\n", "markup"),
        ("archive.zip", plain_zip(), "a ZIP archive that is not a Word, Excel or PowerPoint"),
        ("report.docx", plain_zip(), "a ZIP archive that is not a Word, Excel or PowerPoint"),
        ("macro.docm", docx_file(**{"word/vbaProject.bin": b"\xd0\xcf\x11\xe0"}), "macros"),
        ("old.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504, "none of the accepted"),
        ("data.bin", bytes(range(256)) * 4, "none of the accepted"),
        ("utf16.txt", "hello".encode("utf-16"), "none of the accepted"),
    ],
)
def test_kinds_not_accepted_are_refused_whatever_their_name(app, demo, root, name, data, why):
    message = refused(app, data, name)
    assert message.startswith(NOT_ACCEPTED), message
    assert why in message
    assert "Accepted are PDF, PNG, JPEG, GIF, WebP, STEP, DXF, STL" in message
    assert files_in(root) == []  # not even a temporary file is left


def test_an_extension_that_contradicts_the_content_is_refused(app, demo, root):
    message = refused(app, png_file(), "drawing.pdf")
    assert message == (
        "The file “drawing.pdf” is named as a PDF document, but it is a PNG image. "
        "Check that you chose the right file, or rename it to end in .png."
    )
    assert "named as a STL model" in refused(app, b"just notes\n", "bracket.stl")
    assert files_in(root) == []


def test_an_empty_file_is_refused(app, demo, root):
    assert refused(app, b"", "drawing.pdf") == "The file “drawing.pdf” is empty."
    assert refused(app, b"", "") == "Choose a file."
    with app.app_context(), pytest.raises(DomainError, match="Choose a file to attach"):
        service.store(user("buyer@acme.test"), user("buyer@acme.test").account_id, None)
    assert files_in(root) == []


class CountingStream(io.BytesIO):
    """A real byte stream that remembers how much was read from it."""

    taken = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data


def test_an_oversized_file_is_refused_without_reading_it_all(app, demo, root):
    app.config["ATTACHMENT_MAX_BYTES"] = 2048
    stream = CountingStream(b"x" * 1_000_000)
    with app.app_context(), pytest.raises(DomainError) as refusal:
        buyer = user("buyer@acme.test")
        service.store(buyer, buyer.account_id, FileStorage(stream, filename="big.txt"))
    assert refusal.value.message == (
        "The file “big.txt” is larger than 2 KB, the most one attachment may have."
    )
    assert stream.taken == 2049
    assert files_in(root) == []
    # Exactly the limit is fine.
    assert store(app, b"y" * 2048, "limit.txt").size == 2048


def test_the_account_quota_counts_every_file_of_the_account(app, demo, root):
    app.config["ATTACHMENT_QUOTA_BYTES"] = 3000
    store(app, b"a" * 1000, "one.txt")
    store(app, b"b" * 1000, "two.txt", email="approver@acme.test")
    message = refused(app, b"c" * 1500, "three.txt")
    assert message == (
        "There is not enough space left for this file (1.5 KB): the account's attachments "
        "may take 2.9 KB in all, and 1000 bytes of that is still free. Please ask the vendor "
        "to remove files no longer needed."
    )
    assert len(files_in(root)) == 2
    # Another account has its own quota; the rest of Acme's still fits.
    store(app, b"d" * 1500, "globex.txt", email="buyer@globex.test")
    store(app, b"e" * 1000, "fits.txt")


def test_customers_store_only_for_their_own_account_and_never_internal(app, demo, ids, root):
    with app.app_context():
        buyer = user("buyer@acme.test")
        with pytest.raises(NotFound):
            service.store(buyer, ids["globex"], upload(b"hello\n", "x.txt"))
        with pytest.raises(Forbidden):
            service.store(buyer, ids["acme"], upload(b"hello\n", "x.txt"), internal=True)
        with pytest.raises(NotFound):
            service.store(user("engineer@vendor.test"), 2**31 - 1, upload(b"hello\n", "x.txt"))
    assert files_in(root) == []


# --- names and paths -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\boot.ini", "boot.ini.txt"),
        ("C:\\Users\\me\\Desktop\\notes.txt", "notes.txt"),
        ("/var/www/../notes.txt", "notes.txt"),
        ("shell.php\x00.txt", "shell.php.txt"),
        ("line\nbreak\r.txt", "linebreak.txt"),
        ("invoice\u202etxt.exe", "invoicetxt.exe.txt"),  # a bidi override that hides ".exe"
        ("..", "attachment.txt"),
        ("....txt", "txt.txt"),
        ("  spaced   out  .txt ", "spaced out .txt"),
        ('a<b>c:"d"|e?f*.txt', "a_b_c__d__e_f_.txt"),
        ("n" * 300 + ".txt", "n" * 146 + ".txt"),
    ],
)
def test_names_are_cleaned_and_the_file_stays_inside_the_folder(app, demo, root, raw, shown):
    attachment = store(app, b"plain text\n", raw)
    assert attachment.original_name == shown
    assert len(attachment.stored_name) == 32 and int(attachment.stored_name, 16) >= 0
    (stored,) = files_in(root)
    assert stored == root / attachment.stored_name[:2] / attachment.stored_name
    assert not (root.parent / "etc").exists()


# --- serving -------------------------------------------------------------------------------


def test_the_file_is_served_as_a_download_with_safe_headers(app, demo, login_as):
    data = pdf_file()
    attachment = store(app, data, "Maße – Halter.pdf")
    response = login_as("buyer@acme.test").get(f"/attachments/{attachment.id}")
    assert response.status_code == 200
    assert response.get_data() == data
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Length"] == str(len(data))
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="Mae  Halter.pdf"; '
        "filename*=UTF-8''Ma%C3%9Fe%20%E2%80%93%20Halter.pdf"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["Cache-Control"] == "private, no-store"
    response.close()


def test_text_is_served_as_utf8_plain_text(app, demo, login_as):
    data = "Maße\n".encode()
    attachment = store(app, data, "図面.txt")
    response = login_as("engineer@vendor.test").get(f"/attachments/{attachment.id}")
    assert response.get_data() == data
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"attachment.txt\"; filename*=UTF-8''%E5%9B%B3%E9%9D%A2.txt"
    )
    response.close()


def test_another_accounts_attachment_is_not_found_and_audited(app, demo, login_as):
    theirs = store(app, b"Globex only\n", "secret.txt", email="buyer@globex.test")
    response = login_as("buyer@acme.test").get(f"/attachments/{theirs.id}")
    assert response.status_code == 404
    assert b"Globex only" not in response.get_data()
    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.target == f"attachment:{theirs.id}")
        )
        assert event.action == "access_denied"
        assert event.detail == {"reason": "another account's object"}
    # A missing id looks the same.
    assert login_as("buyer@acme.test").get("/attachments/2147483647").status_code == 404


def test_an_internal_attachment_is_for_vendor_staff_only(app, demo, login_as):
    note = store(
        app, b"Margin is thin here\n", "note.txt", email="engineer@vendor.test", internal=True
    )
    assert note.internal
    for customer in ("buyer@acme.test", "admin@acme.test"):
        assert login_as(customer).get(f"/attachments/{note.id}").status_code == 404
    response = login_as("engineer@vendor.test").get(f"/attachments/{note.id}")
    assert response.status_code == 200
    assert response.get_data() == b"Margin is thin here\n"
    response.close()
    with app.app_context():
        reasons = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.target == f"attachment:{note.id}")
        ).all()
        assert reasons == [{"reason": "internal attachment"}] * 2


def test_a_missing_file_is_not_found(app, demo, login_as, root):
    attachment = store(app, b"soon gone\n", "gone.txt")
    (root / attachment.stored_name[:2] / attachment.stored_name).unlink()
    assert login_as("buyer@acme.test").get(f"/attachments/{attachment.id}").status_code == 404


# --- linking and listing -------------------------------------------------------------------


def test_attach_and_for_owner_hide_internal_files_from_customers(app, demo, ids):
    public = store(app, png_file(), "photo.png")
    internal = store(app, b"note\n", "note.txt", email="engineer@vendor.test", internal=True)
    other = store(app, b"other\n", "other.txt")
    globex = store(app, b"globex\n", "globex.txt", email="buyer@globex.test")
    with app.app_context():
        rows = {a.id: db.session.get(Attachment, a.id) for a in (public, internal, other, globex)}
        service.attach([rows[public.id], rows[internal.id]], "idea_message", 7)
        service.attach([rows[other.id]], "idea_message", 8)
        # Mislinked to an Acme message: still never shown to Acme.
        service.attach([rows[globex.id]], "idea_message", 7)
        db.session.commit()
        with pytest.raises(DomainError, match="already belongs to something else"):
            service.attach([rows[other.id]], "idea_message", 7)
        service.attach([rows[other.id]], "idea_message", 8)  # the same link again is fine

        def listed(email: str) -> dict[int, list[int]]:
            grouped = service.for_owner("idea_message", [7, 8, 9], user(email))
            return {owner: [a.id for a in files] for owner, files in grouped.items()}

        assert listed("buyer@acme.test") == {7: [public.id], 8: [other.id], 9: []}
        assert listed("engineer@vendor.test") == {
            7: [public.id, internal.id, globex.id],
            8: [other.id],
            9: [],
        }
        assert service.for_owner("idea", [7], user("engineer@vendor.test")) == {7: []}
        assert service.for_owner("idea_message", [], user("buyer@acme.test")) == {}


def test_an_owner_rule_narrows_who_sees_linked_files(app, demo, login_as, monkeypatch):
    attachment = store(app, b"draft drawing\n", "draft.txt")
    with app.app_context():
        service.attach([db.session.get(Attachment, attachment.id)], "draft", 1)
        db.session.commit()
    monkeypatch.setitem(
        service._OWNER_CHECKS, "draft", lambda viewer, owner_id: viewer.email == "buyer@acme.test"
    )
    response = login_as("buyer@acme.test").get(f"/attachments/{attachment.id}")
    assert response.status_code == 200
    response.close()
    assert login_as("approver@acme.test").get(f"/attachments/{attachment.id}").status_code == 404
    assert login_as("planner@vendor.test").get(f"/attachments/{attachment.id}").status_code == 404


# --- no file without its row ---------------------------------------------------------------


def test_a_rolled_back_transaction_leaves_no_file(app, demo, root):
    with app.app_context():
        buyer = user("buyer@acme.test")
        service.store(buyer, buyer.account_id, upload(pdf_file(), "a.pdf"))
        service.store(buyer, buyer.account_id, upload(png_file(), "b.png"))
        assert len(files_in(root)) == 2
        db.session.rollback()
        assert files_in(root) == []
        assert db.session.scalar(select(Attachment.id)) is None


def test_a_rolled_back_savepoint_takes_only_its_own_files(app, demo, root):
    with app.app_context():
        buyer = user("buyer@acme.test")
        kept = service.store(buyer, buyer.account_id, upload(b"kept\n", "kept.txt"))
        with pytest.raises(RuntimeError), db.session.begin_nested():
            service.store(buyer, buyer.account_id, upload(b"undone\n", "undone.txt"))
            raise RuntimeError("the change around it failed")
        with db.session.begin_nested():
            released = service.store(buyer, buyer.account_id, upload(b"released\n", "r.txt"))
        db.session.commit()
        names = {kept.stored_name, released.stored_name}
        assert {p.name for p in files_in(root)} == names


def test_a_session_closed_without_commit_leaves_no_file(app, demo, root):
    with app.app_context():
        buyer = user("buyer@acme.test")
        service.store(buyer, buyer.account_id, upload(b"forgotten\n", "f.txt"))
        assert len(files_in(root)) == 1
    # The app context ended; Flask-SQLAlchemy removed (closed) the session.
    assert files_in(root) == []


def test_a_failed_commit_leaves_no_file(app, demo, root):
    with app.app_context():
        buyer = user("buyer@acme.test")
        attachment = service.store(buyer, buyer.account_id, upload(b"x\n", "x.txt"))
        attachment.uploaded_by_id = 2**31 - 1  # no such user: the foreign key fails
        with pytest.raises(Exception, match="(?i)foreign key"):
            db.session.commit()
        db.session.rollback()
    assert files_in(root) == []


def test_delete_removes_the_file_once_committed(app, demo, root):
    attachment = store(app, b"to go\n", "go.txt")
    with app.app_context():
        service.delete(db.session.get(Attachment, attachment.id))
        db.session.rollback()  # changed one's mind: the file stays
        assert len(files_in(root)) == 1
        service.delete(db.session.get(Attachment, attachment.id))
        assert len(files_in(root)) == 1
        db.session.commit()
    assert files_in(root) == []


def test_sweep_removes_unlinked_uploads_and_files_without_rows(app, demo, root):
    linked = store(app, b"linked\n", "linked.txt")
    unlinked = store(app, b"unlinked\n", "unlinked.txt")
    fresh = store(app, b"fresh\n", "fresh.txt")
    with app.app_context():
        service.attach([db.session.get(Attachment, linked.id)], "idea", 1)
        row = db.session.get(Attachment, unlinked.id)
        row.uploaded_at = utcnow() - timedelta(days=2)
        db.session.commit()
    orphan = root / "ab" / ("ab" + "0" * 30)
    orphan.parent.mkdir(exist_ok=True)
    orphan.write_bytes(b"left by a crash")
    temp = root / "ab" / ".upload-x.part"
    temp.write_bytes(b"half")
    stray = root / "ab" / "not-ours"
    stray.write_bytes(b"someone else's")
    old = (utcnow() - timedelta(days=2)).timestamp()
    for path in files_in(root):
        os.utime(path, (old, old))
    os.utime(root / fresh.stored_name[:2] / fresh.stored_name)  # written just now

    with app.app_context():
        assert service.discard_unlinked(utcnow() - timedelta(days=1)) == 3
        remaining = set(db.session.scalars(select(Attachment.id)))
    assert remaining == {linked.id, fresh.id}
    assert {p.name for p in files_in(root)} == {linked.stored_name, fresh.stored_name, "not-ours"}


def test_sweep_command(app, demo):
    result = app.test_cli_runner().invoke(args=["attachments", "sweep", "--hours", "1"])
    assert result.exit_code == 0, result.output
    assert result.output == "0 files removed.\n"


# --- limits and settings -------------------------------------------------------------------


def test_a_request_over_the_limit_gets_a_clear_message(app, demo, login_as):
    app.config["MAX_CONTENT_LENGTH"] = 4096
    person = login_as("buyer@acme.test")
    response = person.post("/logout", {"upload": (io.BytesIO(b"x" * 10_000), "big.pdf")})
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "larger than the portal accepts (at most 4 KB at once)" in text
    assert "nothing was saved" in text


def test_the_default_limits(app):
    from portal import config

    assert config.ATTACHMENT_MAX_BYTES == 20 * 1024 * 1024
    assert config.ATTACHMENT_QUOTA_BYTES == 500 * 1024 * 1024
    assert config.ATTACHMENT_DIR is None
    # Requests may be larger than one file, so the file's own limit is what people see.
    assert config.MAX_CONTENT_LENGTH > config.ATTACHMENT_MAX_BYTES


def test_the_files_never_live_under_static(app, database_url):
    from portal import create_app

    from .support import make_test_config

    static = Path(app.static_folder) / "attachments"
    with pytest.raises(RuntimeError, match="inside the static folder"):
        create_app(make_test_config(database_url, ATTACHMENT_DIR=str(static)))
    assert not static.exists()


def test_the_default_folder_is_in_the_instance(app):
    with app.test_request_context():
        app.config["ATTACHMENT_DIR"] = None
        assert service.storage_root() == (Path(app.instance_path) / "attachments").resolve()
