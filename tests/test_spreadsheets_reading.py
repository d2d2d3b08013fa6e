"""courses.services.spreadsheets.reading: uploaded CSV and XLSX as Chinese offices
write them, and untrusted input refused with one kind of error the caller words."""

from __future__ import annotations

import codecs
import io
import zipfile

import pytest
from openpyxl import Workbook

from courses.services.spreadsheets import OldExcel, Oversized, Unreadable, read_sheets

LIMITS = {"max_columns": 5, "max_unpacked_bytes": 1024 * 1024}
ROWS = [["姓名", "手机号"], ["王小明", "13800138000"]]


def _read(data: bytes, filename: str = "名单.csv", **limits: int) -> dict[str, list[list]]:
    sheets = read_sheets(filename, data, **(LIMITS | limits))
    found = {}
    try:
        for item in sheets:
            if item is None:
                break
            title, rows = item
            found[title] = [list(cells) for cells in rows]
    finally:
        sheets.close()
    return found


@pytest.mark.parametrize(
    "data",
    [
        "姓名,手机号\r\n王小明,13800138000\r\n".encode(),
        codecs.BOM_UTF8 + "姓名,手机号\n王小明,13800138000\n".encode(),
        "姓名,手机号\n王小明,13800138000\n".encode("gbk"),  # Excel on Chinese Windows
        "姓名\t手机号\n王小明\t13800138000\n".encode("utf-16"),  # "Unicode text"
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "utf-16-tabs"],
)
def test_csv_in_every_encoding_chinese_excel_writes(data):  # type: ignore[no-untyped-def]
    assert _read(data) == {"名单.csv": ROWS}


def test_xlsx_sheets_are_read_by_title_and_columns_are_limited():
    book = Workbook()
    sheet = book.active
    sheet.title = "参会明细"
    for row in ROWS:
        sheet.append([*row, "a", "b", "c", "d"])  # 7 columns, 5 read
    book.create_sheet("空表")
    buffer = io.BytesIO()
    book.save(buffer)
    found = _read(buffer.getvalue(), "report.xlsx")
    assert list(found) == ["参会明细", "空表"]
    assert found["参会明细"] == [[*row, "a", "b", "c"] for row in ROWS]


def test_old_excel_is_refused_as_such():
    with pytest.raises(OldExcel):
        _read(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, "old.xls")


def test_a_small_file_that_would_unpack_into_a_huge_one_is_refused_before_opening():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (2 * 1024 * 1024))
    assert len(buffer.getvalue()) < 10_000
    with pytest.raises(Oversized):
        _read(buffer.getvalue(), "bomb.xlsx")


@pytest.mark.parametrize(
    "data",
    [b"PK\x03\x04 not really a zip", b"PK\x03\x04" + b"\x00" * 100, "\x00".encode("utf-16")],
    ids=["broken-zip", "zeros", "nul-text"],
)
def test_anything_else_is_unreadable(data):  # type: ignore[no-untyped-def]
    with pytest.raises(Unreadable):
        _read(data, "x.xlsx")
