"""CSV and XLSX downloads: round trips, Indonesian text, formula-injection guard."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook

from app.exports import csv_response, neutralise_formula, xlsx_response

INDONESIAN = "Perjanjian Kerja Sama “Pemasyarakatan” – Warga Binaan, Lapas & Rutan"
HEADER = ["Judul", "Tanggal", "Jumlah", "Catatan"]
ROWS = [
    [INDONESIAN, date(2025, 10, 2), 8, "baris satu\nbaris dua, dengan koma"],
    ['=HYPERLINK("http://evil.example","klik")', date(2024, 6, 20), -5, "+62 21 555 0101"],
    ["@SUM(A1:A9)", None, 0, "-2+3"],
    ["\tTab di depan", datetime(2026, 4, 14, 1, 30, tzinfo=UTC), 3.5, "\rCR di depan"],
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+62 21 555", "'+62 21 555"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Lapas Purwokerto", "Lapas Purwokerto"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_starting_with_a_formula_character_is_quoted(text, expected):
    assert neutralise_formula(text) == expected


def _csv_rows(response) -> list[list[str]]:
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the byte-order mark Excel needs for UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_round_trip_with_indonesian_text_and_guarded_formulas(app):
    with app.test_request_context():
        response = csv_response("perjanjian-kerja-sama.csv", HEADER, ROWS)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert "perjanjian-kerja-sama.csv" in disposition
    assert response.headers["Cache-Control"] == "no-store"

    rows = _csv_rows(response)
    assert rows[0] == HEADER
    assert rows[1] == [INDONESIAN, "2025-10-02", "8", "baris satu\nbaris dua, dengan koma"]
    assert rows[2] == [
        '\'=HYPERLINK("http://evil.example","klik")',
        "2024-06-20",
        "-5",  # a real number stays a number
        "'+62 21 555 0101",
    ]
    assert rows[3] == ["'@SUM(A1:A9)", "", "0", "'-2+3"]
    # A stored UTC moment is written in the event's zone (WITA, UTC+8).
    assert rows[4] == ["'\tTab di depan", "2026-04-14 09:30", "3.5", "'\rCR di depan"]
    assert len(rows) == 5


def test_csv_adds_the_extension_and_keeps_a_non_ascii_file_name(app):
    with app.test_request_context():
        response = csv_response("../daftar kerja sama – 2025", ["a"], [])
    disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''daftar%20kerja%20sama%20%E2%80%93%202025.csv" in disposition
    assert ".." not in disposition
    assert _csv_rows(response) == [["a"]]


def test_xlsx_round_trip(app):
    with app.test_request_context():
        response = xlsx_response("perjanjian-kerja-sama", HEADER, ROWS)
    assert response.mimetype == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "perjanjian-kerja-sama.xlsx" in response.headers["Content-Disposition"]

    workbook = load_workbook(io.BytesIO(response.get_data()))
    sheet = workbook.active
    assert sheet.title == "perjanjian-kerja-sama"
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == HEADER
    assert all(cell.font.bold for cell in sheet[1])
    assert not sheet["A2"].font.bold

    assert sheet["A2"].value == INDONESIAN
    assert sheet["B2"].value == datetime(2025, 10, 2)  # a real date, shown as a date
    assert sheet["B2"].is_date
    assert sheet["B2"].number_format == "yyyy-mm-dd"
    assert sheet["C2"].value == 8
    assert sheet["D2"].value == "baris satu\nbaris dua, dengan koma"

    # Formulas arrive as inert text, never as formulas.
    assert sheet["A3"].value == '\'=HYPERLINK("http://evil.example","klik")'
    assert sheet["A3"].data_type == "s"
    assert sheet["C3"].value == -5
    assert sheet["D3"].value == "'+62 21 555 0101"
    assert sheet["A4"].value == "'@SUM(A1:A9)"
    assert sheet["B4"].value is None
    assert sheet["D4"].value == "'-2+3"
    assert sheet["A5"].value == "'\tTab di depan"
    assert sheet["B5"].value == datetime(2026, 4, 14, 9, 30)
    assert sheet["B5"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet["C5"].value == 3.5

    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["C"].width
    assert sheet.column_dimensions["A"].width <= 60
    assert sheet.max_row == 5


def test_xlsx_drops_control_characters_that_xml_cannot_hold(app):
    with app.test_request_context():
        response = xlsx_response("x.xlsx", ["a"], [["bel\x07 dan\x00 nul"]])
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet["A2"].value == "bel dan nul"
