"""Every CSV/XLSX download goes through here, so no cell reaches a spreadsheet as a formula.

Text that starts with `= + - @`, a tab or a carriage return is run as a formula by Excel,
LibreOffice and Google Sheets (CSV/formula injection) — and every Instagram ID starts with
`@`. In CSV such a cell gets a leading `'`; in XLSX it is written as a text cell with the quote
prefix set (what Excel stores when someone types the `'`), so it shows unchanged and stays
text even when edited. Numbers (Decimal, int) are never touched.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import IO

from django.http import HttpResponse

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def formula_risky(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_cell(value):
    """A cell as CSV writes it: risky text with a leading `'`, Decimal as its plain digits."""
    if formula_risky(value):
        return "'" + value
    if isinstance(value, Decimal):
        return str(value)
    return value


def write_csv(stream: IO[str], *, header: Sequence, rows: Iterable[Sequence]) -> None:
    """CSV as Excel opens Korean text (UTF-8 with a BOM), formula cells neutralised."""
    stream.write("\ufeff")
    writer = csv.writer(stream)
    for row in (header, *rows):
        writer.writerow([csv_cell(value) for value in row])


def write_xlsx(
    stream: IO[bytes], *, sheet_name: str, header: Sequence, rows: Iterable[Sequence]
) -> None:
    """An XLSX workbook of one sheet; risky text is a quote-prefixed text cell."""
    write_xlsx_sheets(stream, sheets=[(sheet_name, header, rows)])


def write_xlsx_sheets(
    stream: IO[bytes], *, sheets: Iterable[tuple[str, Sequence, Iterable[Sequence]]]
) -> None:
    """An XLSX workbook of several sheets, each (name, header, rows)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    for sheet_name, header, rows in sheets:
        sheet = book.create_sheet(sheet_name)

        def cell(value, sheet=sheet):
            if not formula_risky(value):
                return value
            text = WriteOnlyCell(sheet, value=value)
            text.data_type = "s"  # openpyxl would otherwise write "=…" as a formula
            text.quotePrefix = True
            return text

        for row in (header, *rows):
            sheet.append([cell(value) for value in row])
    book.save(stream)


def csv_response(*, filename: str, header: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    buffer = io.StringIO()
    write_csv(buffer, header=header, rows=rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(
    *, filename: str, sheet_name: str, header: Sequence, rows: Iterable[Sequence]
) -> HttpResponse:
    buffer = io.BytesIO()
    write_xlsx(buffer, sheet_name=sheet_name, header=header, rows=rows)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_sheets_response(
    *, filename: str, sheets: Iterable[tuple[str, Sequence, Iterable[Sequence]]]
) -> HttpResponse:
    buffer = io.BytesIO()
    write_xlsx_sheets(buffer, sheets=sheets)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
