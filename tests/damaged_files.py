"""Damaged uploads, made from a real workbook written by openpyxl (no binary fixtures):
the kinds a person really sends by mistake, or that a broken transfer or disk leaves
behind. Every upload endpoint's tests feed these and expect the file's message.

Each entry of DAMAGED is (bytes, the name the person gave, what the message says,
as a regular expression).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

SHEET = "xl/worksheets/sheet1.xml"
CONTENT_TYPES = "[Content_Types].xml"

NOT_XLSX = r"not a valid XLSX workbook"
NOT_TEXT = r"neither a CSV text file nor an XLSX workbook"
NOT_DECODED = r"neither UTF-8 nor Windows-1252"
NOT_CSV = r"not a valid CSV file"


def workbook(rows: int = 300) -> bytes:
    """A real workbook, large enough that its sheet is a few kilobytes compressed."""
    book = Workbook()
    book.active.append(["SKU", "Quantity"])
    for number in range(rows):
        book.active.append([f"PART-{number:05d}", number % 7 + 1])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The same package with some parts replaced, written as a valid zip."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
    return out.getvalue()


def part(data: bytes, name: str) -> bytes:
    return zipfile.ZipFile(io.BytesIO(data)).read(name)


def _member(data: bytes, name: str) -> tuple[zipfile.ZipInfo, int]:
    """The member's directory entry and where its compressed bytes start."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    return info, info.header_offset + 30 + name_length + extra_length


def _central_entry(data: bytes, name: str) -> int:
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + name_length] == name.encode():
            return at
        at = data.find(b"PK\x01\x02", at + 4)
    raise KeyError(name)


def truncated_part(data: bytes, name: str = SHEET) -> bytes:
    """A valid zip whose part stops half way: XML that is cut short."""
    xml = part(data, name)
    return rezip(data, {name: xml[: len(xml) // 2]})


def flipped_bytes(data: bytes, name: str = SHEET) -> bytes:
    """Eight bytes inverted in the middle of a deflated part: its stream is corrupt."""
    info, start = _member(data, name)
    damaged = bytearray(data)
    at = start + info.compress_size // 2
    damaged[at : at + 8] = bytes(b ^ 0xFF for b in damaged[at : at + 8])
    return bytes(damaged)


def bad_crc(data: bytes, name: str = SHEET) -> bytes:
    """A stored (uncompressed) part with the first character of an attribute value
    changed: the XML still parses, but the CRC-32 in the headers no longer matches."""
    stored = rezip(data, {}, compression=zipfile.ZIP_STORED)
    info, start = _member(stored, name)
    at = stored.index(b'="', start + info.compress_size // 2) + 2
    assert at < start + info.compress_size
    damaged = bytearray(stored)
    damaged[at] = ord("B") if damaged[at] != ord("B") else ord("C")
    assert zlib.crc32(damaged[start : start + info.compress_size]) != info.CRC
    return bytes(damaged)


def wrong_sizes(
    data: bytes, name: str = SHEET, *, compressed: int | None = None, size: int | None = None
) -> bytes:
    """The part's sizes changed in both the local header and the central directory."""
    info, _ = _member(data, name)
    central = _central_entry(data, name)
    damaged = bytearray(data)
    for field, value in ((18, compressed), (22, size)):
        if value is not None:
            struct.pack_into("<I", damaged, info.header_offset + field, value)
            struct.pack_into("<I", damaged, central + field + 2, value)
    return bytes(damaged)


def pdf() -> bytes:
    """A small PDF, as a person might send by choosing the wrong file."""
    stream = zlib.compress(b"BT /F1 12 Tf 72 712 Td (Order list) Tj ET")
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        + f"2 0 obj\n<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode()
        + stream
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def zip_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


GOOD = workbook()
SHEET_SIZES = zipfile.ZipFile(io.BytesIO(GOOD)).getinfo(SHEET)
CSV_LINES = b"SKU;Quantity\r\n" + b"".join(b"PART-%05d;%d\r\n" % (n, n % 7 + 1) for n in range(300))

DAMAGED = [
    pytest.param(truncated_part(GOOD), "order.xlsx", NOT_XLSX, id="sheet-xml-cut-short"),
    pytest.param(
        truncated_part(GOOD, "xl/workbook.xml"), "order.xlsx", NOT_XLSX, id="workbook-xml-cut-short"
    ),
    pytest.param(
        truncated_part(GOOD, CONTENT_TYPES), "order.xlsx", NOT_XLSX, id="content-types-cut-short"
    ),
    pytest.param(flipped_bytes(GOOD), "order.xlsx", NOT_XLSX, id="sheet-deflate-corrupt"),
    pytest.param(
        flipped_bytes(GOOD, CONTENT_TYPES),
        "order.xlsx",
        NOT_XLSX,
        id="content-types-deflate-corrupt",
    ),
    pytest.param(bad_crc(GOOD), "order.xlsx", NOT_XLSX, id="sheet-crc-fails"),
    pytest.param(
        wrong_sizes(GOOD, size=SHEET_SIZES.file_size // 2),
        "order.xlsx",
        NOT_XLSX,
        id="size-too-small",
    ),
    pytest.param(
        wrong_sizes(GOOD, compressed=SHEET_SIZES.compress_size // 2),
        "order.xlsx",
        NOT_XLSX,
        id="compressed-size-too-small",
    ),
    pytest.param(
        wrong_sizes(GOOD, compressed=len(GOOD) * 10),
        "order.xlsx",
        NOT_XLSX,
        id="compressed-size-past-end",
    ),
    pytest.param(GOOD[: len(GOOD) // 2], "order.xlsx", NOT_XLSX, id="file-cut-in-half"),
    pytest.param(GOOD[:-30], "order.xlsx", NOT_XLSX, id="directory-cut-short"),
    pytest.param(b"", "order.xlsx", r"empty|Choose a file", id="empty-file"),
    pytest.param(pdf(), "order.xlsx", NOT_TEXT, id="pdf-named-xlsx"),
    pytest.param(zip_of({"order.csv": CSV_LINES}), "order.xlsx", NOT_XLSX, id="zip-not-a-workbook"),
    pytest.param(
        zip_of({CONTENT_TYPES: part(GOOD, CONTENT_TYPES), "word/document.xml": b"<w/>"}),
        "order.xlsx",
        NOT_XLSX,
        id="word-document-named-xlsx",
    ),
    pytest.param(b"SKU;Quantity\r\nPART-1\x00;2\r\n", "order.csv", NOT_TEXT, id="csv-nul-byte"),
    pytest.param(
        CSV_LINES + b"PART-9\x00;2\r\n", "order.csv", NOT_TEXT, id="csv-nul-byte-after-4k"
    ),
    pytest.param(CSV_LINES.decode().encode("utf-16"), "order.csv", NOT_TEXT, id="csv-utf-16"),
    pytest.param(
        b"SKU;Quantity\r\nPART-\x81\x8d;2\r\n", "order.csv", NOT_DECODED, id="csv-invalid-utf-8"
    ),
    pytest.param(
        b"SKU;Quantity\r\n" + b"P" * 200_000 + b";2\r\n",
        "order.csv",
        NOT_CSV,
        id="csv-cell-too-long",
    ),
]


def row_counts(app) -> dict[str, int]:
    """Rows in every table: an upload that is refused must leave all of them as they were."""
    from portal.extensions import db

    with app.app_context():
        return {
            table.name: db.session.scalar(select(func.count()).select_from(table))
            for table in db.metadata.sorted_tables
        }
