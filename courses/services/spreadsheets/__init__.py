"""Spreadsheets in and out: reading the CSV and XLSX files people upload (meeting
reports today, learner rosters next) and writing the exports (CSV with a BOM, XLSX).

- ``reading``: ``read_sheets`` gives each sheet's title and rows of untrusted input,
  whatever encoding Chinese Excel wrote; anything unreadable raises ``Unreadable``
  (``OldExcel`` for .xls, ``Oversized`` for a small file that unpacks into a huge
  one), which each caller turns into a message of its own.
- ``writing``: ``csv_chunks`` streams a CSV, ``write_xlsx`` writes a sheet with
  constant memory.
"""

from courses.services.spreadsheets.reading import (
    OldExcel,
    Oversized,
    Sheets,
    Unreadable,
    decode_text,
    read_sheets,
)
from courses.services.spreadsheets.writing import csv_chunks, write_xlsx

__all__ = [
    "OldExcel",
    "Oversized",
    "Sheets",
    "Unreadable",
    "csv_chunks",
    "decode_text",
    "read_sheets",
    "write_xlsx",
]
