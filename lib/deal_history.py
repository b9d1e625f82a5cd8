"""A Data Export's OpportunityHistory in the user's words: the deals that changed, each change."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd
import pyarrow as pa

from lib.format import money
from lib.sql import sql_file


def deals_with_history(history: pa.Table, deals: pa.Table) -> pd.DataFrame:
    """One row per loaded deal that has history, the most pushed first."""
    con = duckdb.connect()
    try:
        con.register("history", history)
        con.register("deals", deals)
        return con.sql(sql_file("deals_with_history")).df()
    finally:
        con.close()


def changes_of_deal(history: pa.Table, opportunity_id: str, currency: str | None) -> pd.DataFrame:
    """One deal's changes, oldest first, each said in words; amounts are in the deal's own
    currency, as the history records them."""
    rows = [row for row in history.to_pylist() if row["opportunity_id"] == opportunity_id]
    return pd.DataFrame(
        {
            "Changed on": [row["changed_on"] for row in rows],
            "What changed": [what_changed(row, currency) for row in rows],
            "Stage": [row["stage"] for row in rows],
            "Amount": pd.array([row["amount"] for row in rows], dtype="Float64"),
            "Close date": [row["close_date"] for row in rows],
        }
    )


def what_changed(change: dict, currency: str | None) -> str:
    """ "close date pushed 31 Oct 2026 → 30 Nov 2026; stage Negociación → Prospección (back)"."""
    if change["stage_before"] is None and change["close_date_before"] is None:
        return "first record"
    parts = []
    before, after = change["close_date_before"], change["close_date"]
    if before != after:
        parts.append(_close_date_change(before, after, change["pushed"]))
    if change["stage_before"] is not None and change["stage_before"] != change["stage"]:
        back = " (back)" if change["regressed"] else ""
        parts.append(f"stage {change['stage_before']} → {change['stage']}{back}")
    if change["amount_changed"]:
        parts.append(
            f"amount {_amount(change['amount_before'], currency)} → "
            f"{_amount(change['amount'], currency)}"
        )
    return "; ".join(parts) or "no change to close date, stage or amount"


def _close_date_change(before: date | None, after: date | None, pushed: bool) -> str:
    if before is None:
        return f"close date set to {after:%-d %b %Y}"
    if after is None:
        return f"close date cleared (was {before:%-d %b %Y})"
    if after > before:
        verb = "pushed" if pushed else "moved later (the deal was closed)"
    else:
        verb = "pulled in"
    return f"close date {verb} {before:%-d %b %Y} → {after:%-d %b %Y}"


def _amount(value: Decimal | None, currency: str | None) -> str:
    return "none" if value is None else money(value, currency)
