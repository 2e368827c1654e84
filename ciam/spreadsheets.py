"""CSV files people open in a spreadsheet (SECURITY item 38).

A cell that starts with = + - @, a tab or a carriage return is a formula to Excel, LibreOffice
and Google Sheets: a sign-in log row with an email typed as `=HYPERLINK(...)` would run in the
admin's spreadsheet. Such cells are written with a leading apostrophe, which spreadsheets show
as text and do not evaluate (OWASP's advice for CSV injection).
"""

from __future__ import annotations

import csv
import io

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class CsvText:
    """A CSV document built in memory, every cell made spreadsheet-safe."""

    def __init__(self, header: list[str]):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer)
        self._writer.writerow(header)

    def row(self, values) -> None:
        self._writer.writerow([spreadsheet_safe(value) for value in values])

    def text(self) -> str:
        return self._buffer.getvalue()
