"""Downloads: tables as CSV files that are safe to open in a spreadsheet."""

from __future__ import annotations

import re

import pandas as pd

# A spreadsheet runs a cell that starts with one of these as a formula (tab, carriage return,
# line feed and NUL too: some spreadsheets strip them and read what follows; OWASP ASVS 1.2.10
# names the NUL), so a deal named "=HYPERLINK(…)" in a CRM could run on the reader's machine.
# Excel in East Asian locales takes the fullwidth ＝ ＋ － ＠ for the same signs.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "＝", "＋", "－", "＠")
# What a spreadsheet may skip before reading the first sign: spaces (also no-break and
# ideographic ones) and characters that take no room at all.
SKIPPED_FIRST = " \u00a0\u3000\u200b\u200c\u200d\u2060\ufeff"


def runs_as_formula(cell: str) -> bool:
    """True for text a spreadsheet could read as a formula: one of FORMULA_STARTS first, or
    after spaces and invisible characters."""
    return cell.lstrip(SKIPPED_FIRST).startswith(FORMULA_STARTS)


def neutralised(cell: object) -> object:
    """A text cell that a spreadsheet would read as a formula, prefixed with a single quote so
    that it shows as typed; numbers (negative ones too) and every other cell as they are."""
    if isinstance(cell, str) and runs_as_formula(cell):
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
