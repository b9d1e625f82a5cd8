"""CSV downloads that are safe to open in a spreadsheet."""

import csv
import io

import pandas as pd

from lib.export import csv_file_name, safe_csv


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_text_cells_a_spreadsheet_would_run_as_formulas_get_a_leading_quote():
    frame = pd.DataFrame(
        {"Deal": ["=1+2", "+44 20 7946", "-draft", "@SUM(A1)", "\tcmd", "\rcmd", "Acme = 1"]}
    )
    assert rows(safe_csv(frame)) == [
        ["Deal"],
        ["'=1+2"],
        ["'+44 20 7946"],
        ["'-draft"],
        ["'@SUM(A1)"],
        ["'\tcmd"],
        ["'\rcmd"],
        ["Acme = 1"],
    ]


def test_negative_numbers_stay_numbers_and_blanks_stay_blank():
    frame = pd.DataFrame({"Amount": [-500.5, 12.0], "Days": pd.array([-3, None], dtype="Int64")})
    assert rows(safe_csv(frame)) == [["Amount", "Days"], ["-500.5", "-3"], ["12.0", ""]]


def test_a_header_from_a_file_is_neutralised_too():
    assert rows(safe_csv(pd.DataFrame({"=Q4": [1]})))[0] == ["'=Q4"]


def test_the_file_starts_with_a_byte_order_mark_so_excel_reads_accents():
    data = safe_csv(pd.DataFrame({"Rep": ["Mateo Fernández"]}))
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Fernández" in data.decode("utf-8-sig")


def test_a_download_is_named_from_plain_words():
    assert csv_file_name("close-today", "Mateo Fernández", "2026-11-20") == (
        "close-today-mateo-fernández-2026-11-20.csv"
    )
    assert csv_file_name("close", "Ryan O'Connor / East") == "close-ryan-o-connor-east.csv"
