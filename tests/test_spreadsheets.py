"""Uploaded XLSX files are read safely; exports cannot carry formulas."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from portal.ordering.quick_order import read_upload
from portal.spreadsheets import SpreadsheetError, read_rows, read_xlsx, xlsx_bytes

from .damaged_files import DAMAGED, GOOD
from .support import soup


def workbook(rows: list[list]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def rezip(data: bytes, replace: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    """The same workbook with some parts replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as target:
        for item in source.infolist():
            target.writestr(item.filename, replace.get(item.filename, source.read(item.filename)))
        for name in replace.keys() - set(source.namelist()):
            target.writestr(name, replace[name])
    return out.getvalue()


def test_reads_the_first_sheet_as_text():
    data = workbook(
        [
            ["SKU", "Qty"],
            ["EQ-PMP-300 X", 2],
            ["BRG-6204-2RS", 3.0],
            [None, None],
            ["FST-M8", "=2*50"],
        ]
    )
    assert read_xlsx(data) == [
        (1, ["SKU", "Qty"]),
        (2, ["EQ-PMP-300 X", "2"]),
        (3, ["BRG-6204-2RS", "3"]),
        (5, ["FST-M8", "=2*50"]),
    ]


def test_zip_bomb_is_refused_without_inflating_it():
    bomb = rezip(workbook([["A", 1]]), {"xl/worksheets/sheet2.xml": b"0" * (60 * 1024 * 1024)})
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(SpreadsheetError, match="unpacks to more than|compressed suspiciously"):
            read_xlsx(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Refused from the zip directory alone: the 60 MB sheet was never unpacked in memory
    # (a deterministic check, unlike a timing).
    assert peak < 10 * 1024 * 1024


def test_high_compression_ratio_alone_is_refused():
    dense = rezip(workbook([["A", 1]]), {"xl/worksheets/sheet2.xml": b"x" * (5 * 1024 * 1024)})
    with pytest.raises(SpreadsheetError, match="compressed suspiciously"):
        read_xlsx(dense)


def test_xml_entities_are_refused():
    data = workbook([["A", 1]])
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    with pytest.raises(SpreadsheetError, match="XML entities"):
        read_xlsx(rezip(data, {"xl/worksheets/sheet1.xml": evil}))


@pytest.mark.parametrize("data", [b"PK\x03\x04garbage", b"PK\x03\x04" + b"\x00" * 100])
def test_broken_workbooks_get_a_clear_message(data):
    with pytest.raises(SpreadsheetError, match="not a valid XLSX"):
        read_xlsx(data)


@pytest.mark.parametrize(("data", "name", "message"), DAMAGED)
@pytest.mark.parametrize("reader", [read_rows, read_upload], ids=["imports", "quick-order"])
def test_every_damaged_file_is_refused_with_its_message(reader, data, name, message):
    """Whatever breaks inside zipfile, zlib, the XML parser, openpyxl or the csv module,
    both readers of uploaded files answer with the file's message (a ValueError, which
    every upload turns into a message beside the form), never with another exception."""
    with pytest.raises(ValueError, match=message):
        reader(data)


def test_the_undamaged_workbook_behind_the_damaged_ones_reads():
    rows = read_rows(GOOD)
    assert rows[0] == (1, ["SKU", "Quantity"]) and rows[-1] == (301, ["PART-00299", "6"])
    assert len(read_upload(GOOD)) == 300


def test_exports_store_formula_text_as_text():
    data = xlsx_bytes(["PO"], [['=HYPERLINK("http://evil")'], ["+1"], ["plain"]])
    sheet = load_workbook(io.BytesIO(data)).active
    values = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == ['\'=HYPERLINK("http://evil")', "'+1", "plain"]
    assert all(cell.data_type == "s" for row in sheet.iter_rows(min_row=2) for cell in row)


def test_quick_order_from_an_xlsx_upload(login_as, app, demo):
    from decimal import Decimal

    from portal.catalog.models import Category, Product, Stock
    from portal.extensions import db

    with app.app_context():
        product = Product(
            sku="XL-1",
            name="Sheet part",
            category=Category(name="X"),
            list_price=Decimal("2.00"),
            stock=Stock(on_hand=9),
        )
        db.session.add(product)
        db.session.commit()
    data = workbook([["Article", "Quantity"], ["xl-1", 4], ["XL-1", "=2+2"], ["XL-2", 1.5]])
    buyer = login_as("buyer@acme.test")
    response = buyer.post(
        "/order", {"upload": (io.BytesIO(data), "order.xlsx")}, content_type="multipart/form-data"
    )
    rows = soup(response).select("#review tbody tr")
    texts = [r.get_text(" ", strip=True) for r in rows]
    assert "OK" in texts[0] and "8.00 EUR" in texts[0]
    assert "formula" in texts[1]
    assert "whole number" in texts[2]


# --- headers in the reader's language -------------------------------------------------------


def _every_files_columns():
    from portal.catalog import admin
    from portal.equipment import imports
    from portal.forecasts import uploads
    from portal.ordering import exports, quick_order
    from portal.service import settings

    return {
        "products": admin.product_columns(),
        "contract prices": admin.PRICE_COLUMNS,
        "equipment units": imports.COLUMNS,
        "forecasts": uploads.COLUMNS,
        "quick order": quick_order.PASTE_COLUMNS,
        "holidays": settings.HOLIDAY_COLUMNS,
        "orders export": exports.COLUMNS,
    }


def test_every_files_headers_read_back_in_each_language_and_name_one_column_each(app, demo):
    """Each file's header, written in English or in Indonesian, maps back to its columns;
    no two columns of one file share a header in any language (names() refuses that)."""
    from flask_babel import force_locale

    with app.test_request_context():
        for name, columns in _every_files_columns().items():
            keys = [column.key for column in columns]
            for language in ("en", "id"):
                with force_locale(language):
                    header = columns.header()
                found = columns.locate(header)
                assert list(found.positions) == keys and not found.unknown, (name, language)
            with force_locale("id"):
                indonesian = columns.header()
            with force_locale("en"):
                assert indonesian != columns.header(), name  # translated, not English


def test_columns_name_the_accepted_headers_in_the_readers_language(app):
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l

    from portal.spreadsheets import Column, Columns

    columns = Columns(
        Column("sku", _l("SKU")),
        Column("unit_price", _l("Unit price")),
        required=("sku", "unit_price"),
    )
    with app.test_request_context():
        found = columns.locate(["  harga  SATUAN ", "Harga satuan", "Unitprice"])
        assert (found.positions, found.missing, found.repeated) == (
            {"unit_price": 0},
            ["sku"],
            ["unit_price"],
        )
        assert found.unknown == ["Unitprice"]
        assert columns.problem(found).startswith(
            "the column SKU is missing (name it “SKU”); “Unitprice”: not a column this import "
            "knows (the columns are SKU, Unit price); the column Unit price appears twice"
        )
        with force_locale("id"):
            assert columns.missing_message(["unit_price"]) == (
                "kolom Harga satuan tidak ada (beri nama “Harga satuan” atau “Unit price”)"
            )
        assert columns.locate(["unit_price", "sku"]).positions == {"unit_price": 0, "sku": 1}


def test_two_columns_with_one_header_are_a_mistake_in_the_code(app):
    from flask_babel import lazy_gettext as _l

    from portal.spreadsheets import Column, Columns

    with app.test_request_context(), pytest.raises(ValueError, match="would name both"):
        Columns(Column("a", _l("Quantity")), Column("b", _l("Jumlah"))).names()
