"""CSV downloads that are safe to open in a spreadsheet."""

import csv
import io
from pathlib import Path

import pandas as pd
import pytest

from lib.downloads import FORMULA_STARTS, csv_file_name, safe_csv
from lib.load.opportunities import load_opportunities


def rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_text_cells_a_spreadsheet_would_run_as_formulas_get_a_leading_quote():
    frame = pd.DataFrame(
        {
            "Deal": [
                "=1+2",
                "+44 20 7946",
                "-draft",
                "@SUM(A1)",
                "\tcmd",
                "\rcmd",
                "\0=cmd",
                "Acme = 1",
            ]
        }
    )
    assert rows(safe_csv(frame)) == [
        ["Deal"],
        ["'=1+2"],
        ["'+44 20 7946"],
        ["'-draft"],
        ["'@SUM(A1)"],
        ["'\tcmd"],
        ["'\rcmd"],
        ["'\0=cmd"],
        ["Acme = 1"],
    ]


def test_fullwidth_signs_a_line_feed_and_spaces_or_invisible_characters_before_a_sign_are_neutralised():
    cells = ["＝1+2", "＋44", "－draft", "＠SUM(A1)", "\n=cmd", "  =1+2", "\u200b=1+2",
             "\u00a0@x", "\ufeff+1", " Acme", "Acme ＝ 1"]  # fmt: skip
    assert rows(safe_csv(pd.DataFrame({"Deal": cells})))[1:] == [
        [f"'{cell}"] for cell in cells[:9]
    ] + [[" Acme"], ["Acme ＝ 1"]]


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


BAD = Path(__file__).resolve().parent / "data" / "bad"


@pytest.mark.parametrize("file_name", ["formula-cells.csv", "html-script-names.csv"])
def test_hostile_cells_of_an_export_download_as_typed_and_open_as_text(file_name):
    deals = load_opportunities((BAD / file_name).read_bytes(), file_name).deals
    text_columns = ["owner", "name", "account", "next_step"]
    downloaded = rows(safe_csv(deals.select(text_columns).to_pandas()))
    assert downloaded[0] == text_columns
    loaded = [[row[column] for column in text_columns] for row in deals.to_pylist()]
    for cells, written in zip(loaded, downloaded[1:], strict=True):
        for cell, text in zip(cells, written, strict=True):
            if cell is None:
                assert text == ""
            elif cell.startswith(FORMULA_STARTS):
                assert text == "'" + cell
            else:
                # Markup is nothing to a spreadsheet: HTML is written as it was typed.
                assert text == cell
