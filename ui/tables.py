"""Tables as every page shows them: money as money, and at most ROWS_SHOWN rows sent to the
browser."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.format import currency_symbol

# A table sends the browser at most this many rows: a quarter's lost deals or a week's changed
# deals run to tens of thousands at a million deals. Its download holds every row.
ROWS_SHOWN = 1_000
# The one mark for a value the data does not give.
MISSING = "–"


def table(data, **options):
    """st.dataframe with a missing value shown as "–", never as "None" or a blank that reads as
    nothing there; every table of the app is drawn by this (or long_table)."""
    return st.dataframe(data, **{"placeholder": MISSING, **options})


def long_table(frame: pd.DataFrame, what: str, rest: str = "", **options):
    """A table of the frame's first ROWS_SHOWN rows, with a caption under it when there are
    more ("The first 1,000 of 27,886 lost deals; the CSV holds every one.")."""
    shown = frame.head(ROWS_SHOWN)
    event = table(shown, **options)
    if len(frame) > len(shown):
        st.caption(
            f"The first {len(shown):,} of {len(frame):,} {what}" + (f"; {rest}." if rest else ".")
        )
    return event


def money_column(label: str, currency: str | None):
    """A table column of money in the export's currency, without cents."""
    return st.column_config.NumberColumn(label, format=f"{currency_symbol(currency)}%,.0f")


def money_columns(labels, currency: str | None) -> dict:
    return {label: money_column(label, currency) for label in labels}


def percent_column(label: str, signed: bool = False, **options):
    """A table column of whole percentages (lib.format.as_percentages): "84 %", or "+14 %"."""
    return st.column_config.NumberColumn(label, format=f"%{'+' if signed else ''}.0f %%", **options)
