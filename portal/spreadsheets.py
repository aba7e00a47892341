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
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

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


def table_file(header: list[str], rows: Iterable[list], fmt: str) -> tuple[bytes, str]:
    """(content, mimetype) of a table as CSV (UTF-8 with a BOM, so that spreadsheets
    read it right) or XLSX; formula-like text is neutralised in both."""
    if fmt == "xlsx":
        return xlsx_bytes(header, rows), XLSX_MIME
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([neutral(v) for v in row] for row in rows)
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv"


# --- column headers in the reader's language ---------------------------------------------


def header_key(text: str) -> str:
    """A header cell as it is compared: any case, underscores as spaces, spaces collapsed
    ("List_Price", "list price " and "LIST PRICE" are one header)."""
    return " ".join(str(text).replace("_", " ").split()).casefold()


@dataclass(frozen=True)
class Column:
    """One column of an export, a template or an import.

    `label` is a lazy gettext message: written in the reader's language when a file is
    made, and accepted in every language of the portal when one is read, so the header
    a file is written with and the headers an import takes come from the same message
    and cannot drift apart. `key` is the name the code uses; it is accepted too, so
    files written before the headers were translated (sku, list_price) still import.
    """

    key: str
    label: object  # a LazyString
    aliases: tuple[str, ...] = field(default=())


class Columns:
    """The columns of one file, in order: its header in the reader's language, and the
    mapping from every accepted header (each language, the key, the aliases) to a key."""

    def __init__(self, *columns: Column, required: Iterable[str] = ()):
        self.columns = columns
        self.by_key = {column.key: column for column in columns}
        self.required = tuple(required)
        unknown = set(self.required) - self.by_key.keys()
        if unknown:
            raise ValueError(f"required columns that are not columns: {sorted(unknown)}")

    def __iter__(self):
        return iter(self.columns)

    def header(self) -> list[str]:
        """The header row in the reader's language (call it while the file is written)."""
        return [str(column.label) for column in self.columns]

    def label(self, key: str) -> str:
        return str(self.by_key[key].label)

    def spellings(self, key: str) -> list[str]:
        """The column's header in each language of the portal, the reader's first."""
        column = self.by_key[key]
        found = [str(column.label)]
        for language in _languages():
            with force_locale(language):
                text = str(column.label)
            if header_key(text) not in map(header_key, found):
                found.append(text)
        return found

    def names(self) -> dict[str, str]:
        """Every accepted header (compared with header_key) -> the column's key. Two
        columns that would share a header are a mistake in the code, refused here."""
        names: dict[str, str] = {}
        for column in self.columns:
            for text in (*self.spellings(column.key), column.key, *column.aliases):
                name = header_key(text)
                if names.setdefault(name, column.key) != column.key:
                    raise ValueError(
                        f"the header {text!r} would name both {names[name]} and {column.key}"
                    )
        return names

    def accepted(self, key: str) -> str:
        """'“Unit price” or “Harga satuan”': how to name the column, for an error."""
        quoted = [f"“{text}”" for text in self.spellings(key)]
        if len(quoted) == 1:
            return quoted[0]
        return _("%(first)s or %(last)s", first=", ".join(quoted[:-1]), last=quoted[-1])

    def locate(self, header: list[str]) -> Located:
        """Where each column is in a file's header row; the cells it does not know, and
        the required columns it lacks."""
        names = self.names()
        positions: dict[str, int] = {}
        unknown: list[str] = []
        repeated: list[str] = []
        for index, cell in enumerate(header):
            name = header_key(cell)
            if not name:
                continue
            key = names.get(name)
            if key is None:
                unknown.append(str(cell).strip())
            elif key in positions:
                repeated.append(key)
            else:
                positions[key] = index
        missing = [key for key in self.required if key not in positions]
        return Located(positions, unknown, missing, repeated)

    def problem(self, found: Located) -> str | None:
        """Why a header row cannot be read, for the person who sent the file; None if it can."""
        reasons = []
        if found.missing:
            reasons.append(self.missing_message(found.missing))
        if found.unknown:
            reasons.append(self.unknown_message(found.unknown))
        for key in found.repeated:
            reasons.append(_("the column %(column)s appears twice", column=self.label(key)))
        return "; ".join(reasons) or None

    def missing_message(self, missing: list[str]) -> str:
        """'the column Unit price is missing (name it “Unit price” or “Harga satuan”)'."""
        return "; ".join(
            _(
                "the column %(column)s is missing (name it %(accepted)s)",
                column=self.label(key),
                accepted=self.accepted(key),
            )
            for key in missing
        )

    def unknown_message(self, unknown: list[str]) -> str:
        """'“Quantiy” is not a column this import knows; the columns are: ...'."""
        return _(
            "%(headers)s: not a column this import knows (the columns are %(columns)s)",
            headers=", ".join(f"“{text[:40]}”" for text in unknown),
            columns=", ".join(self.header()),
        )


@dataclass(frozen=True)
class Located:
    positions: dict[str, int]
    unknown: list[str]
    missing: list[str]
    repeated: list[str] = field(default_factory=list)

    def cell(self, cells: list[str], key: str) -> str:
        """The row's cell of a column, "" when the file has no such column or cell."""
        index = self.positions.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""


def _languages() -> list[str]:
    if not has_app_context():
        return ["en"]
    return list(current_app.config.get("LANGUAGES", {"en": "English"}))
