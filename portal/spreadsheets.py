"""Reading uploaded spreadsheets safely, and writing exports that cannot attack
the person who opens them.

An XLSX file is a zip of XML. Before openpyxl sees one, the zip's directory is
checked: too many entries, too much uncompressed data or an absurd compression
ratio (a zip bomb) is refused without inflating anything. With defusedxml
installed, openpyxl refuses XML entity and DTD declarations (billion laughs,
external entities). Only the first sheet's cell values are read, in read-only
mode, up to a row limit.

Whatever fails while a file is read, in zipfile, zlib, the XML parser,
openpyxl or the csv module, comes out as SpreadsheetError with a message for
the person who sent it: an upload is refused, never a server error.
"""

from __future__ import annotations

import csv
import io
import logging
import zipfile
import zlib
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
MAX_COMPRESSION_RATIO = 100
MAX_ROWS = 10_000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

log = logging.getLogger("portal.spreadsheets")


class SpreadsheetError(ValueError):
    """The file cannot be read; the message says why, for the person who sent it."""


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _check_zip(data: bytes) -> None:
    """Refuse from the zip's directory alone: no workbook in it, or a zip bomb."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SpreadsheetError("The workbook has too many parts to be a plain spreadsheet.")
    if not any(entry.filename.startswith("xl/") for entry in entries):
        raise SpreadsheetError(
            "The file is not a valid XLSX workbook: it is a ZIP archive without a workbook in it."
        )
    total = sum(entry.file_size for entry in entries)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise SpreadsheetError(
            f"The workbook unpacks to more than {MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB; "
            "send a smaller one."
        )
    for entry in entries:
        if entry.compress_size and entry.file_size / entry.compress_size > MAX_COMPRESSION_RATIO:
            raise SpreadsheetError(
                "The workbook is compressed suspiciously well (a zip bomb?) and was refused."
            )


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value).strip()


def read_xlsx(data: bytes, max_rows: int = MAX_ROWS) -> list[tuple[int, list[str]]]:
    """(row number, cell texts) of the first sheet's non-empty rows.

    Formulas come back as their text ("=A1*2"), never evaluated, so that the
    caller can say which line holds one. A file that cannot be read, for
    whatever reason, is a SpreadsheetError and nothing else.
    """
    try:
        _check_zip(data)
        return _first_sheet(data, max_rows)
    except SpreadsheetError:
        raise
    except Exception as error:
        # A damaged file fails deep inside zipfile, zlib, the XML parser or openpyxl,
        # each with exceptions of its own (BadZipFile, zlib.error, EOFError, ParseError,
        # KeyError, IndexError, ...), and in read-only mode only while the rows are read.
        # Every one of them means the same to the person who sent it.
        log.info("Unreadable XLSX upload: %r", error)
        raise _explain(error) from None


def _first_sheet(data: bytes, max_rows: int) -> list[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > max_rows:
                raise SpreadsheetError(f"The sheet has more than {max_rows:,} rows.")
            cells = [_cell_text(v) for v in values]
            if any(cells):
                rows.append((number, cells))
        return rows
    finally:
        workbook.close()


def _explain(error: BaseException) -> SpreadsheetError:
    """The message for a workbook that could not be read. openpyxl wraps parser errors
    in ValueError: look down the chain for defusedxml's."""
    from defusedxml import DefusedXmlException

    seen = error
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return SpreadsheetError("The workbook declares XML entities, which are refused.")
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, (zipfile.BadZipFile, zlib.error, EOFError)):
        why = "its compressed contents are corrupt or cut short"
    elif isinstance(error, SyntaxError):  # ElementTree's ParseError and lxml's both are
        why = "its XML is broken or cut short"
    elif isinstance(error, KeyError):
        why = "a part that every workbook has is missing"
    else:
        why = "it could not be read"
    return SpreadsheetError(f"The file is not a valid XLSX workbook (it may be damaged): {why}.")


def read_text(data: bytes) -> str:
    """The text of an uploaded CSV or text file, UTF-8 or Windows-1252. A binary file
    (a NUL byte anywhere: UTF-16, an old .xls, most PDFs; or a PDF's signature) is
    refused, since decoding it would give rows of garbage."""
    if b"\x00" in data or data.startswith(b"%PDF-"):
        raise SpreadsheetError("This is neither a CSV text file nor an XLSX workbook.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SpreadsheetError(
        "The file's text is neither UTF-8 nor Windows-1252: save it as CSV UTF-8."
    )


def read_rows(data: bytes, max_rows: int = MAX_ROWS) -> list[tuple[int, list[str]]]:
    """(row number, cells) of an XLSX workbook's first sheet or of a CSV file (UTF-8 or
    Windows-1252; comma, semicolon or tab, whichever the first line uses).

    `max_rows` lets an import whose rows are small (a forecast in long layout)
    take more of them than the default."""
    if not data.strip():
        raise SpreadsheetError("The file is empty.")
    if is_xlsx(data):
        return read_xlsx(data, max_rows)
    text = read_text(data)
    first = text.split("\n", 1)[0]
    delimiter = max(("\t", ";", ","), key=first.count)
    rows = []
    reader = csv.reader(text.splitlines(), delimiter=delimiter)
    try:
        for number, cells in enumerate(reader, start=1):
            if number > max_rows:
                raise SpreadsheetError(f"The file has more than {max_rows:,} rows.")
            if any(c.strip() for c in cells):
                rows.append((number, [c.strip() for c in cells]))
    except csv.Error as error:
        raise csv_problem(error, reader.line_num) from None
    return rows


def csv_problem(error: csv.Error, line: int | None = None) -> SpreadsheetError:
    """The message for text the csv module refuses (a cell longer than its limit)."""
    where = f" (line {line})" if line else ""
    return SpreadsheetError(f"The file is not a valid CSV file{where}: {error}.")


def neutral(value) -> str | Decimal | int | date | None:
    """A value safe to put in a CSV or XLSX cell: text that a spreadsheet would run as
    a formula (=, +, -, @, tab, carriage return first) gets a leading apostrophe."""
    if value is None or isinstance(value, (Decimal, int, date)):
        return value
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def xlsx_bytes(header: list[str], rows: Iterable[list]) -> bytes:
    """A one-sheet workbook; every text cell is stored as text, never as a formula."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append([neutral(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
