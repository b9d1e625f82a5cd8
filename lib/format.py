"""Figures written for a sales leader: $1.2M, $340K, 84 %."""

from __future__ import annotations

import re

import pandas as pd

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "CAD": "C$",
                    "AUD": "A$"}  # fmt: skip


def currency_symbol(code: str | None) -> str:
    """The symbol for an ISO code; "$" when the export names no currency."""
    if not code:
        return "$"
    return CURRENCY_SYMBOLS.get(code.upper(), f"{code.upper()} ")


def money(amount: float | None, currency: str | None = None) -> str:
    """Short money for headlines: $1.2M, $340K, $950, -$12K; "–" when there is no amount."""
    if amount is None:
        return "–"
    sign = "-" if amount < 0 else ""
    value = abs(float(amount))
    tiers = ((1e9, "B"), (1e6, "M"), (1e3, "K"))
    for position, (threshold, suffix) in enumerate(tiers):
        if value >= threshold:
            short = f"{value / threshold:.1f}".removesuffix(".0")
            # 999,950 rounds to "1000K": say "1M" instead.
            if short == "1000" and position > 0:
                short, suffix = "1", tiers[position - 1][1]
            return f"{sign}{currency_symbol(currency)}{short}{suffix}"
    return f"{sign}{currency_symbol(currency)}{value:,.0f}"


def file_size(size: int) -> str:
    """A file's size as a reader says it: "1.2 GB", "201.5 MB", "0.3 MB"."""
    return f"{size / 1e9:.1f} GB" if size >= 1e9 else f"{size / 1e6:,.1f} MB"


def percent(share: float | None, signed: bool = False) -> str:
    """84 %, from the fraction 0.84 (+14 % when signed); "–" when there is no share."""
    if share is None:
        return "–"
    return f"{share * 100:+.0f} %" if signed else f"{share * 100:.0f} %"


MARKDOWN_SPECIALS = set("\\`*_{}[]()#+-.!|<>~:$=")
# GitHub-flavoured Markdown turns web and e-mail addresses in text into links, escaped or not:
# a word joiner (U+2060, invisible) after the "http:" of "http://", a "www" or an "@" stops it.
AUTOLINK_STARTS = re.compile(r":(?=//)|www(?=\.)|@", re.IGNORECASE)


def markdown_text(text: object) -> str:
    """Text from a file (a name, a header, a cell) made inert for Streamlit's Markdown: shown as
    typed, never as a link, emphasis, HTML or an icon."""
    unlinked = AUTOLINK_STARTS.sub(lambda found: found.group() + "\u2060", str(text))
    return "".join(f"\\{char}" if char in MARKDOWN_SPECIALS else char for char in unlinked)


def as_percentages(frame: pd.DataFrame, columns) -> pd.DataFrame:
    """A copy of the table with its share columns as whole percentages (0.84 -> 84), the way a
    table shows them; a missing share stays missing, and a column the table lacks is skipped."""
    shown = frame.copy()
    for column in columns:
        if column in shown:
            shown[column] = shown[column] * 100
    return shown
