"""Tables written as files people open in Excel or WPS: CSV and XLSX.

CSV is UTF-8 with a byte-order mark (without it Excel reads Chinese as mojibake) and
is produced in chunks, so a response can stream it. XLSX is written by XlsxWriter in
constant-memory mode (one row in memory at a time) to a file: dates as real dates,
a bold frozen header row and a filter on it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import xlsxwriter

BOM = "\ufeff"
CHUNK_ROWS = 200


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        # A cell starting like a formula would run as one when opened in Excel.
        return "'" + value
    return value


def csv_chunks(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The table as CSV text in chunks of ``CHUNK_ROWS`` rows, the first with the BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(headers)
    for number, row in enumerate(rows, start=1):
        writer.writerow([_csv_value(value) for value in row])
        if number % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(
    path: Path,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[int] | None = None,
) -> Path:
    """Write one sheet to ``path``; datetimes must be naive local times."""
    workbook = xlsxwriter.Workbook(
        str(path), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    try:
        sheet = workbook.add_worksheet(_sheet_name(sheet_title))
        bold = workbook.add_format({"bold": True, "bg_color": "#E6F2F1", "border": 1})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
        for column, header in enumerate(headers):
            sheet.write_string(0, column, header, bold)
            width = widths[column] if widths and column < len(widths) else 14
            sheet.set_column(column, column, width)
        sheet.freeze_panes(1, 0)
        last_row = 0
        for last_row, row in enumerate(rows, start=1):
            for column, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(last_row, column, value, when)
                elif isinstance(value, bool):
                    sheet.write_boolean(last_row, column, value)
                elif isinstance(value, int | float):
                    sheet.write_number(last_row, column, value)
                else:
                    sheet.write_string(last_row, column, str(value))
        sheet.autofilter(0, 0, max(last_row, 1), max(len(headers) - 1, 0))
    finally:
        workbook.close()
    return path


def _sheet_name(title: str) -> str:
    """Excel's rules for sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join("_" if ch in "[]:*?/\\" else ch for ch in title).strip("'") or "Sheet1"
    return cleaned[:31]
