"""Reading uploaded spreadsheets safely, and writing exports that cannot attack
the person who opens them.

An XLSX file is a zip of XML. Before openpyxl sees one, the zip's directory is
checked: too many entries, too much uncompressed data or an absurd compression
ratio (a zip bomb) is refused without inflating anything. With defusedxml
installed, openpyxl refuses XML entity and DTD declarations (billion laughs,
external entities). Only the first sheet's cell values are read, in read-only
mode, up to a row limit.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal

MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024
MAX_ZIP_ENTRIES = 500
MAX_COMPRESSION_RATIO = 100
MAX_ROWS = 10_000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class SpreadsheetError(ValueError):
    """The file cannot be read; the message says why, for the person who sent it."""


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SpreadsheetError("The file is not a valid XLSX workbook.") from None
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise SpreadsheetError("The workbook has too many parts to be a plain spreadsheet.")
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
    caller can say which line holds one.
    """
    from defusedxml import DefusedXmlException
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    _check_zip(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (
        DefusedXmlException,
        InvalidFileException,
        KeyError,
        zipfile.BadZipFile,
        OSError,
        ValueError,
    ) as error:
        raise _explain(error) from None
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
    except (DefusedXmlException, ValueError, KeyError) as error:
        if isinstance(error, SpreadsheetError):
            raise
        raise _explain(error) from None
    finally:
        workbook.close()


def _explain(error: BaseException) -> SpreadsheetError:
    """openpyxl wraps parser errors in ValueError: look down the chain for defusedxml's."""
    from defusedxml import DefusedXmlException

    seen = error
    while seen is not None:
        if isinstance(seen, DefusedXmlException):
            return SpreadsheetError("The workbook declares XML entities, which are refused.")
        seen = seen.__cause__ or seen.__context__
    return SpreadsheetError("The file is not a valid XLSX workbook.")


def read_rows(data: bytes, max_rows: int = MAX_ROWS) -> list[tuple[int, list[str]]]:
    """(row number, cells) of an XLSX workbook's first sheet or of a CSV file (UTF-8 or
    Windows-1252; comma, semicolon or tab, whichever the first line uses).

    `max_rows` lets an import whose rows are small (a forecast in long layout)
    take more of them than the default."""
    import csv

    if is_xlsx(data):
        return read_xlsx(data, max_rows)
    if b"\x00" in data[:4096]:
        raise SpreadsheetError("This is neither a CSV text file nor an XLSX workbook.")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SpreadsheetError(
            "The file's text is neither UTF-8 nor Windows-1252: save it as CSV UTF-8."
        )
    first = text.split("\n", 1)[0]
    delimiter = max(("\t", ";", ","), key=first.count)
    rows = []
    for number, cells in enumerate(csv.reader(text.splitlines(), delimiter=delimiter), start=1):
        if number > max_rows:
            raise SpreadsheetError(f"The file has more than {max_rows:,} rows.")
        if any(c.strip() for c in cells):
            rows.append((number, [c.strip() for c in cells]))
    return rows


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
