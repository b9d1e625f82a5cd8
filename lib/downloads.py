"""Downloads: tables as CSV files that are safe to open in a spreadsheet."""

from __future__ import annotations

import re

import pandas as pd

# A spreadsheet runs a cell that starts with one of these as a formula (tab, carriage return and
# NUL too: some spreadsheets strip them and read what follows; OWASP ASVS 1.2.10 names the NUL),
# so a deal named "=HYPERLINK(…)" in a CRM could run on the reader's machine.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")


def neutralised(cell: object) -> object:
    """A text cell that a spreadsheet would read as a formula, prefixed with a single quote so
    that it shows as typed; numbers (negative ones too) and every other cell as they are."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return f"'{cell}"
    return cell


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The table as CSV bytes with formula-like text cells and headers neutralised.

    UTF-8 with a byte-order mark, so that Excel shows "Fernández" rather than "FernÃ¡ndez";
    lines end in CRLF as RFC 4180 has it, which also makes the writer quote a cell holding a
    lone carriage return instead of letting it split the row.
    """
    safe = frame.map(neutralised)
    safe.columns = [neutralised(str(column)) for column in frame.columns]
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def csv_file_name(*words: str) -> str:
    """A CSV download's name from words: "close-today-grace-liu-2026-11-20.csv"."""
    slug = "-".join(re.sub(r"[^\w]+", "-", word.lower()).strip("-") for word in words if word)
    return f"{slug}.csv"
