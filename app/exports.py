"""CSV and XLSX downloads of tabular data, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import quote

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.i18n.formatting import to_event_time

CSV_MIMETYPE = "text/csv"  # Response adds "; charset=utf-8"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# A spreadsheet treats a cell starting with one of these as a formula (CWE-1236), even in CSV.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
MIN_COLUMN_WIDTH = 8
MAX_COLUMN_WIDTH = 60
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
MAX_SHEET_TITLE = 31  # Excel's limit
SHEET_TITLE_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", " "))

Row = Sequence[Any]


def neutralise_formula(text: str) -> str:
    """Text a spreadsheet shows as written: a leading formula character gets a quote."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def _local_datetime(moment: datetime) -> datetime:
    """A stored moment in the event's zone without tzinfo (spreadsheets know no zones)."""
    return to_event_time(moment).replace(tzinfo=None)


def csv_cell(value: Any) -> str:
    """One value as CSV text: ISO dates, yes/no, numbers as they are, text guarded."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return _local_datetime(value).isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise_formula(str(value))


def xlsx_cell(value: Any) -> Any:
    """One value as a spreadsheet cell: real numbers and dates, guarded text."""
    if value is None or isinstance(value, bool | int | float | Decimal | date):
        return _local_datetime(value) if isinstance(value, datetime) else value
    # openpyxl refuses control characters that XML cannot carry; drop them.
    return neutralise_formula(ILLEGAL_CHARACTERS_RE.sub("", str(value)))


def _download_name(filename: str, suffix: str) -> str:
    """The file name offered to the browser, with the right extension."""
    name = PurePosixPath(filename.replace("\\", "/")).name or "export"
    return name if name.lower().endswith(suffix) else name + suffix


def _attachment(data: bytes, filename: str, mimetype: str) -> Response:
    """A download that browsers save rather than show, never cached (it may hold personal data)."""
    response = Response(data, mimetype=mimetype)
    try:
        filename.encode("ascii")
        names = {"filename": filename}
    except UnicodeEncodeError:
        # RFC 6266: an ASCII fallback for old clients, the exact name in filename*.
        fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
        names = {"filename": fallback, "filename*": f"UTF-8''{quote(filename, safe='')}"}
    response.headers.set("Content-Disposition", "attachment", **names)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def csv_response(filename: str, header: Row, rows: Iterable[Row]) -> Response:
    """A CSV download: UTF-8 with a byte-order mark (Excel needs it), RFC 4180 quoting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([csv_cell(title) for title in header])
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    data = buffer.getvalue().encode("utf-8-sig")
    return _attachment(data, _download_name(filename, ".csv"), CSV_MIMETYPE)


def _sheet_title(filename: str) -> str:
    """A worksheet name Excel accepts, taken from the file name."""
    stem = PurePosixPath(filename).stem.translate(SHEET_TITLE_FORBIDDEN).strip(" '")
    return stem[:MAX_SHEET_TITLE] or "Sheet"


def _display_width(value: Any) -> int:
    """Roughly how many characters a cell needs on screen."""
    if isinstance(value, datetime):
        return len(DATETIME_FORMAT)
    if isinstance(value, date):
        return len(DATE_FORMAT) + 1
    text = "" if value is None else str(value)
    return max((len(line) for line in text.splitlines()), default=0)


def build_workbook(sheet_title: str, header: Row, rows: Iterable[Row]) -> Workbook:
    """A one-sheet workbook: bold, frozen header row, fitted columns, dates as dates."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    sheet.append([xlsx_cell(title) for title in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [_display_width(cell.value) for cell in sheet[1]]
    for row in rows:
        values = [xlsx_cell(value) for value in row]
        sheet.append(values)
        widths.extend([0] * (len(values) - len(widths)))
        for index, value in enumerate(values):
            widths[index] = max(widths[index], _display_width(value))
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, datetime):
                cell.number_format = DATETIME_FORMAT
            elif isinstance(cell.value, date):
                cell.number_format = DATE_FORMAT
    for index, width in enumerate(widths, start=1):
        clamped = min(max(width + 2, MIN_COLUMN_WIDTH), MAX_COLUMN_WIDTH)
        sheet.column_dimensions[get_column_letter(index)].width = clamped
    sheet.freeze_panes = "A2"
    return workbook


def xlsx_response(filename: str, header: Row, rows: Iterable[Row]) -> Response:
    """An Excel (XLSX) download of one table."""
    name = _download_name(filename, ".xlsx")
    buffer = io.BytesIO()
    build_workbook(_sheet_title(name), header, rows).save(buffer)
    return _attachment(buffer.getvalue(), name, XLSX_MIMETYPE)
