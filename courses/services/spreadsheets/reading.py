"""Reading uploaded spreadsheets: CSV (UTF-8 with or without a BOM, UTF-16, GBK/GB18030
as Chinese Excel writes it; comma or tab separated) and XLSX (read-only, values only).

The input is untrusted: any failure to decode, open or read it raises ``Unreadable``;
an old binary .xls raises ``OldExcel``; an XLSX that would unpack beyond the caller's
limit raises ``Oversized`` before it is opened. Callers turn these into their own
messages (``courses.services.meeting_reports.parse``).
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator, Sequence
from typing import Any

#: Each sheet's title and its rows, then ``None``: see ``read_sheets``.
Sheets = Iterator[tuple[str, Iterator[Sequence[Any]]] | None]


class Unreadable(Exception):
    """Not a spreadsheet that can be read."""


class OldExcel(Unreadable):
    """A binary .xls file (Excel 97–2003): it must be saved as XLSX or CSV first."""


class Oversized(Exception):
    """An XLSX file that would unpack beyond the limit given."""


def decode_text(data: bytes) -> str:
    """The text of a CSV file, in the encoding its BOM names or, without one, UTF-8 and
    then GB18030 (a superset of GBK and GB2312)."""
    if data.startswith(codecs.BOM_UTF8):
        candidates = [("utf-8", data[len(codecs.BOM_UTF8) :])]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = [("utf-16", data)]
    else:
        candidates = [("utf-8", data), ("gb18030", data)]
    for encoding, raw in candidates:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise Unreadable()


def _csv_rows(data: bytes, max_columns: int) -> Iterator[Sequence[Any]]:
    text = decode_text(data)
    head = text[:8192]
    delimiter = "\t" if head.count("\t") > head.count(",") else ","
    try:
        for cells in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            yield cells[:max_columns]
    except csv.Error as error:
        raise Unreadable() from error


def _guarded(rows: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
    """Rows of untrusted XLSX: any failure while reading them makes the file unreadable."""
    try:
        yield from rows
    except Exception as error:  # a broken sheet, a dangling shared string, …
        raise Unreadable() from error


def _xlsx_sheets(data: bytes, max_columns: int) -> Sheets:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # any failure to open untrusted input
        raise Unreadable() from error
    try:
        for sheet in workbook.worksheets:
            if hasattr(sheet, "iter_rows"):
                rows = sheet.iter_rows(max_col=max_columns, values_only=True)
                yield str(sheet.title), _guarded(rows)
        yield None  # no more sheets: the workbook stays open until the caller closes this
    finally:
        workbook.close()


def read_sheets(filename: str, data: bytes, *, max_columns: int, max_unpacked_bytes: int) -> Sheets:
    """Each sheet's title and rows (a CSV is one sheet named ``filename``), then
    ``None``. Rows are read lazily: the caller reads the sheets it chose before it
    closes this generator, which closes the workbook."""
    if data.startswith(b"PK\x03\x04"):
        if not zipfile.is_zipfile(io.BytesIO(data)):
            raise Unreadable()
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > max_unpacked_bytes:  # a small file that would fill the memory
            raise Oversized()
        yield from _xlsx_sheets(data, max_columns)
    elif data.startswith(b"\xd0\xcf\x11\xe0"):
        raise OldExcel()
    else:
        yield filename, _csv_rows(data, max_columns)
        yield None
